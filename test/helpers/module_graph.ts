// The import graph of compiled ES modules, read from their source text: which files a module
// reaches through relative imports, and every specifier each of them imports.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Import specifiers of an ES module's source: static imports/exports and literal dynamic imports. */
export function specifiers(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(/(?:^|[;\s}])(?:import|export)\s*(?:[\w*${}\s,]*?\s*from\s*)?['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of src.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

/** Every module reachable from `entry`, with the specifiers each one imports. */
export function moduleGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    if (!existsSync(file)) throw new Error(`${file} is imported but does not exist`);
    const specs = specifiers(readFileSync(file, 'utf8'));
    graph.set(file, specs);
    for (const s of specs) if (s.startsWith('./') || s.startsWith('../')) visit(resolve(dirname(file), s));
  };
  visit(entry);
  return graph;
}
