// Builds the three flavours of the kernel core from assembly/ (see asconfig.json):
// release (plain SIMD), relaxed (relaxed SIMD: f32x4.relaxed_madd is a fused multiply-add)
// and debug (assertions on). Skips a target whose .wasm is newer than every source file.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const targets = { release: 'build/iruka.wasm', relaxed: 'build/iruka.relaxed.wasm', debug: 'build/iruka.debug.wasm' };
const force = process.argv.includes('--force');

const newestSource = Math.max(
  statSync(join(root, 'asconfig.json')).mtimeMs,
  ...readdirSync(join(root, 'assembly')).map((f) => statSync(join(root, 'assembly', f)).mtimeMs),
);
mkdirSync(join(root, 'build'), { recursive: true });
for (const [target, out] of Object.entries(targets)) {
  const outPath = join(root, out);
  if (!force && existsSync(outPath) && statSync(outPath).mtimeMs > newestSource) continue;
  process.stdout.write(`asc: ${target} -> ${out}\n`);
  execFileSync(process.execPath, [asc, 'assembly/index.ts', '--config', 'asconfig.json', '--target', target], {
    cwd: root,
    stdio: 'inherit',
  });
}
