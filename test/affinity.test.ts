// Worker thread pinning (src/train/affinity.ts): the CPU list parser, the plan's rules, and a
// real pin in a thread of its own (Linux: the thread's Cpus_allowed_list afterwards is the one
// CPU; elsewhere the pin reports why it could not). Results never depend on pinning: the pool
// test in reduce_tree.test.ts runs a pinned pool against this thread's gradient, bit for bit.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { allowedCpus, parseCpuList, pinPlan } from '../src/train/affinity.js';

describe('parseCpuList', () => {
  it('reads ranges and single CPUs', () => {
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('5')).toEqual([5]);
    expect(parseCpuList(' 0-1\n')).toEqual([0, 1]);
  });
  it('gives nothing for anything malformed', () => {
    for (const bad of ['', '3-1', 'a', '0-', '1,,2', '0-1x']) expect(parseCpuList(bad), bad).toEqual([]);
  });
});

describe('allowedCpus', () => {
  it('reads Cpus_allowed_list from a status file, and [] without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iruka-affinity-'));
    try {
      const f = join(dir, 'status');
      writeFileSync(f, 'Name:\tnode\nCpus_allowed:\tf\nCpus_allowed_list:\t0-2,6\nMems_allowed:\t1\n');
      expect(allowedCpus(f)).toEqual([0, 1, 2, 6]);
      writeFileSync(f, 'Name:\tnode\n');
      expect(allowedCpus(f)).toEqual([]);
      expect(allowedCpus(join(dir, 'missing'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pinPlan', () => {
  const cpus = [0, 1, 2, 3];
  it('auto pins when the workers take every CPU, one CPU each', () => {
    const { plan, why } = pinPlan('auto', 4, cpus);
    expect(plan?.cpus).toEqual([0, 1, 2, 3]);
    expect(new Int32Array(plan!.counter)[0]).toBe(0);
    expect(why).toMatch(/one CPU each: 0, 1, 2, 3/);
  });
  it('auto leaves fewer workers than CPUs unpinned; on pins them to the first CPUs', () => {
    expect(pinPlan('auto', 2, cpus).plan).toBeNull();
    expect(pinPlan('auto', 2, cpus).why).toMatch(/2 of 4/);
    expect(pinPlan('on', 2, cpus).plan?.cpus).toEqual([0, 1]);
  });
  it('never pins more workers than CPUs, unknown CPUs, or when off', () => {
    expect(pinPlan('on', 5, cpus).plan).toBeNull();
    expect(pinPlan('on', 5, cpus).why).toMatch(/5 workers for 4 CPUs/);
    expect(pinPlan('on', 1, [0]).plan).toBeNull();
    expect(pinPlan('on', 2, []).plan).toBeNull();
    expect(pinPlan('off', 4, cpus).plan).toBeNull();
  });
});

// the thread pins itself with the plan, then reports its own Cpus_allowed_list
const PIN_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
import(workerData.module).then(({ pinThisThread }) => {
  const r = pinThisThread(workerData.plan);
  let after = null;
  try { after = /^Cpus_allowed_list:\\s*(.+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))[1].trim(); } catch {}
  parentPort.postMessage({ r, after });
});
`;

describe('pinThisThread', () => {
  it('pins the calling thread to the next CPU of the plan', async () => {
    const cpus = allowedCpus();
    const linux = process.platform === 'linux' && existsSync('/proc/thread-self');
    const plan = { cpus: cpus.length ? [cpus[cpus.length - 1]] : [0], counter: new SharedArrayBuffer(4) };
    const module = new URL('../dist/src/train/affinity.js', import.meta.url).href;
    const w = new Worker(PIN_THREAD, { eval: true, workerData: { module, plan } });
    const { r, after } = await new Promise<{ r: { cpu?: number; error?: string }; after: string | null }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(new Int32Array(plan.counter)[0]).toBe(1);
    if (linux) {
      // taskset is part of util-linux, on every Linux this runs on (CI included): a failure here is real
      expect(r.error).toBeUndefined();
      expect(r.cpu).toBe(plan.cpus[0]);
      expect(after).toBe(String(plan.cpus[0]));
    } else {
      expect(r.error).toMatch(/thread-self|taskset/);
    }
  });
});
