// The CLIs' --preprocess: fits the transform on the training split (or, with --resume, takes the
// checkpoint's, so the continuation sees the same inputs), applies it to both splits onto shared
// memory (the worker pool reads x without a copy), and tags both with it so that fit() saves it.
import { readSafetensors } from '../io/safetensors.js';
import { InputError } from '../errors.js';
import { loadCoreSync, type Core, type Flavor } from '../core/load.js';
import type { Dataset } from '../data/dataset.js';
import {
  applyPreprocess, checkPreprocessFits, fitPreprocess, preprocessFromTensors,
  type PreprocessInfo, type PreprocessKind, type Preprocessor,
} from '../data/preprocess.js';

export interface PreprocessRequest {
  kind: PreprocessKind;
  eps: number;
  /** whether --preprocess or --whiten-eps was on the command line (else a resumed run takes the checkpoint's) */
  given: boolean;
  /** the kernel build fit() will use: the transform is applied with its GEMM */
  flavor?: Flavor | 'auto';
}

/** The checkpoint a run resumes from, and what its metadata says of the preprocessing. */
export interface ResumeSource {
  path: string;
  preprocess?: PreprocessInfo;
}

/** The splits transformed as asked (unchanged for 'none' with nothing to resume). */
export function preprocessSplits(train: Dataset, test: Dataset, want: PreprocessRequest, resume: ResumeSource | null, log: (line: string) => void): { train: Dataset; test: Dataset } {
  const p = resume?.preprocess ? fromCheckpoint(train, want, resume as Required<ResumeSource>) : fresh(train, want, log);
  if (!p) return { train, test };
  const core = loadCoreSync({ flavor: want.flavor });
  return { train: transformed(train, p, core), test: transformed(test, p, core) };
}

function fromCheckpoint(train: Dataset, want: PreprocessRequest, ck: Required<ResumeSource>): Preprocessor {
  const where = `--resume ${ck.path}`;
  checkPreprocessFits(ck.preprocess, train.sampleShape, where);
  if (want.given && (want.kind !== ck.preprocess.kind || want.eps !== ck.preprocess.eps)) {
    throw new InputError(`${where}: the checkpoint's data was preprocessed with ${ck.preprocess.kind} (ε = ${ck.preprocess.eps}), this run asks for ${want.kind}${want.kind === 'none' ? '' : ` (ε = ${want.eps})`}; resume with the same preprocessing`);
  }
  return preprocessFromTensors(ck.preprocess, readSafetensors(ck.path).tensors, ck.path);
}

function fresh(train: Dataset, want: PreprocessRequest, log: (line: string) => void): Preprocessor | null {
  if (want.kind === 'none') return null;
  const dims = train.x.length / train.n;
  const t0 = Date.now();
  const p = fitPreprocess(want.kind, train.x, train.n, dims, want.eps);
  log(`Preprocessing: ${want.kind} (ε = ${want.eps}) fitted on the ${train.n} training samples of ${dims} values in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return p;
}

function transformed(ds: Dataset, p: Preprocessor, core: Core): Dataset {
  const out = new Float32Array(new SharedArrayBuffer(ds.x.length * 4));
  return { ...ds, x: applyPreprocess(p, ds.x, ds.n, { out, core }), preprocess: p };
}
