// Pinning the pool's worker threads to CPUs of their own (Linux). A data-parallel step wakes
// every worker at once from the main thread; the kernel's wake-up placement then often puts two
// workers on one CPU (the waker's, or the one they last ran on) while another CPU stays idle,
// and on the machines we measured the balancer left them there for the whole task: two tasks
// that take 22 ms each on CPUs of their own took 26-43 ms unpinned (one run in three both on one
// CPU). Node has no affinity API, so a worker reads its thread id from /proc/thread-self and
// asks `taskset` (util-linux, on every common distribution) to pin it; where either is missing
// nothing is pinned and the pool runs as before. OpenMP runtimes face the same problem and
// solve it the same way (OMP_PROC_BIND) or by spinning between tasks.
//
// 'auto' pins only when the workers are exactly as many as the CPUs this process may use: the
// pool takes every core anyway, so pinning costs nothing that running unpinned would have kept.
// With fewer workers than CPUs another process may be busy on the CPUs a fixed plan would pick,
// so pinning there is left to 'on'. Results never depend on it (the reduction tree fixes the
// arithmetic), only the speed does.
import { readFileSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

import type { PinMode } from './options.js';

export type { PinMode } from './options.js';

/** What a pool's workers are sent: the CPUs to take in turn, and a counter that hands them out. */
export interface PinPlan {
  cpus: number[];
  /** Int32: the next worker's ordinal (a replacement worker takes the next CPU in turn) */
  counter: SharedArrayBuffer;
}

/** The CPUs this process may run on (Linux: Cpus_allowed_list), or [] where that cannot be read. */
export function allowedCpus(status = '/proc/self/status'): number[] {
  let text: string;
  try {
    text = readFileSync(status, 'utf8');
  } catch {
    return [];
  }
  const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(text);
  return line ? parseCpuList(line[1]) : [];
}

/** "0-3,8,10-11" → [0, 1, 2, 3, 8, 10, 11]; [] for anything malformed. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return [];
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return [];
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/** The plan for a pool of `workers` (null: no pinning), and why, for the log. */
export function pinPlan(mode: PinMode, workers: number, cpus: number[] = allowedCpus()): { plan: PinPlan | null; why: string } {
  if (mode === 'off') return { plan: null, why: 'off' };
  if (cpus.length < 2) return { plan: null, why: 'the CPUs this process may use are not known (Linux only)' };
  if (workers > cpus.length) return { plan: null, why: `${workers} workers for ${cpus.length} CPUs` };
  if (mode === 'auto' && workers !== cpus.length) return { plan: null, why: `auto pins only when the workers take every CPU (${workers} of ${cpus.length}); --pin on pins them anyway` };
  return { plan: { cpus: cpus.slice(0, workers), counter: new SharedArrayBuffer(4) }, why: `one CPU each: ${cpus.slice(0, workers).join(', ')}` };
}

/**
 * Pins the calling thread to the next CPU of the plan. Returns the CPU, or the reason it could
 * not (then the thread runs unpinned, as it would have anyway).
 */
export function pinThisThread(plan: PinPlan): { cpu: number } | { error: string } {
  const ordinal = Atomics.add(new Int32Array(plan.counter), 0, 1);
  const cpu = plan.cpus[ordinal % plan.cpus.length];
  let tid: string;
  try {
    tid = readlinkSync('/proc/thread-self').split('/').pop()!;
  } catch {
    return { error: '/proc/thread-self is not readable' };
  }
  const r = spawnSync('taskset', ['-p', '-c', String(cpu), tid], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return { error: `taskset: ${r.error.message}` };
  if (r.status !== 0) return { error: `taskset exited with ${r.status}: ${(r.stderr || '').trim()}` };
  return { cpu };
}
