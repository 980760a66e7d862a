/**
 * The native IQL kernel (native/iql-kernel, built by scripts/build-kernel.sh). Two steps:
 *
 *  - the critic step (`createIqlKernel`): the whole step of iql.ts — gather, target and online forwards, expectile V loss, TD losses, the hand-written
 * backward, Adam as FlatAdam and the Polyak update — in one native call for n steps, GEMMs on
 * OpenBLAS with one thread;
 *  - the frozen-critic extraction step (`createExtractKernel`): one actor step of extract.ts for
 *    awr (Gaussian head), ddpg(+BC) and awr-discrete — the minibatch gathered from indices drawn in
 *    JS, the AWR weights (precomputed per dataset row or per batch), the head's loss and hand-written
 *    gradient, DDPG's ∂Q/∂a through the frozen critic, the actor's backward and Adam at the rate JS
 *    passes per step. Its state is extract.ts's flat [pi MLP | log σ] θ, m, v.
 *
 * The state stays here, in JS Float32Arrays in iql.ts's in-memory layout (`mem`: twins interleaved
 * per tensor, then V; the target vector in `targetMem`), which the kernel updates in place; the
 * kernel gets each tensor's offset from the layout, so checkpoints, resume and exported critics
 * are the same format whichever path trained them, and the two paths can hand state to each other.
 *
 * Loading: `IQLP_KERNEL=off` disables it; `IQLP_KERNEL=/path/iql_kernel.node` loads that file;
 * otherwise native/iql-kernel/build/iql_kernel.node above this module. When it is missing or does
 * not load, `kernelStatus()` says why (the build's own failure reason where it wrote one).
 *
 * The kernel's source and build script are part of the code identity of every kind that imports
 * this module (src/engine/code-identity.ts):
 * @code-depends native/iql-kernel/iql_kernel.cc scripts/build-kernel.sh
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Activation, MlpArch } from '../nn/dense.js';
import type { QReduce } from './critic.js';
import type { ExtractMethod } from './policy.js';

interface Binding {
  create(spec: {
    ints: Int32Array;
    floats: Float64Array;
    layout: Float64Array;
    obsAct: Float32Array;
    obs: Float32Array;
    nextObs: Float32Array;
    reward: Float32Array;
    mask: Float32Array;
  }): unknown;
  step(k: unknown, idx: Int32Array, n: number, theta: Float32Array, m: Float32Array, v: Float32Array, target: Float32Array, adamT: number): Float64Array;
  dispose(k: unknown): void;
  info(): string;
  /** Absent in a build that predates the extraction step. */
  exCreate?(spec: {
    ints: Int32Array;
    floats: Float64Array;
    layout: Float64Array;
    critic: Float32Array;
    obs: Float32Array;
    act: Float32Array;
    bins: Int32Array;
    centers: Float32Array;
  }): unknown;
  exStep(k: unknown, idx: Int32Array, n: number, lrs: Float64Array, theta: Float32Array, m: Float32Array, v: Float32Array, adamT: number): Float64Array;
  exWeights(k: unknown): Float32Array | null;
  exSetCritic(k: unknown, critic: Float32Array): void;
  exDispose(k: unknown): void;
}

export interface KernelStatus {
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  path?: string;
  /** OpenBLAS core and build configuration. */
  blas?: string;
  /** scripts/build-kernel.sh's stamp of the build (a digest of the kernel's source, the script and the flags). */
  build?: string;
}

let status: KernelStatus | null = null;
let binding: Binding | null = null;

function findBuild(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'native', 'iql-kernel'))) return join(dir, 'native', 'iql-kernel', 'build');
    dir = dirname(dir);
  }
  return null;
}

/** Whether the native kernel loads here, and why not (loads it on the first call). */
export function kernelStatus(): KernelStatus {
  if (status) return status;
  const env = process.env['IQLP_KERNEL'];
  if (env === 'off' || env === '0') return (status = { available: false, reason: 'disabled by IQLP_KERNEL=off' });
  const build = findBuild();
  const path = env || (build ? join(build, 'iql_kernel.node') : null);
  if (!path || !existsSync(path)) {
    const failed = build && existsSync(join(build, 'BUILD_FAILED')) ? readFileSync(join(build, 'BUILD_FAILED'), 'utf8').trim() : null;
    return (status = {
      available: false,
      reason: failed ? `the build failed: ${failed}` : `not built (${path ?? 'native/iql-kernel/build/iql_kernel.node'} missing; run scripts/build-kernel.sh)`,
    });
  }
  try {
    // OpenBLAS sizes its thread pool from this at load (the addon also sets one thread at init).
    process.env['OPENBLAS_NUM_THREADS'] ??= '1';
    binding = createRequire(import.meta.url)(path) as Binding;
    const stampFile = join(dirname(path), '.stamp');
    const build = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : undefined;
    return (status = { available: true, path, blas: binding.info(), ...(build ? { build } : {}) });
  } catch (e) {
    return (status = { available: false, path, reason: `does not load: ${(e as Error).message.split('\n')[0]}` });
  }
}

/** Why compute 'auto' runs the step on tfjs. */
export function kernelFallbackMessage(): string {
  return `native IQL critic kernel unavailable (${kernelStatus().reason}); the IQL step runs on tfjs`;
}

let warned = false;

/** Says once per process why the kernel is not used (compute: auto falling back to tfjs). */
export function warnKernelFallback(): void {
  if (warned) return;
  warned = true;
  console.warn(`[iql] ${kernelFallbackMessage()}`);
}

const ACT_CODE: Record<Activation, number> = { relu: 0, mish: 1, gelu: 2 };

export interface KernelSpec {
  obsDim: number;
  actDim: number;
  batchSize: number;
  activation: Activation;
  layerNorm: boolean;
  /** Q sizes [obs + act, ...hidden, 1]. */
  qSizes: readonly number[];
  targetTau: number;
  expectile: number;
  beta1: number;
  beta2: number;
  eps: number;
  criticLr: number;
  valueLr: number;
  /** Flat length of θ (= m = v), end of the twins' block (= the target's length), start of V's block. */
  total: number;
  qEnd: number;
  vStart: number;
  /** Offset of a named tensor in θ's layout (`q1/l0/W`, ...); -1 for none. */
  offset(name: string): number;
}

export interface KernelData {
  /** Rows [obs | act], normalised observations where the step normalises. */
  obsAct: Float32Array;
  obs: Float32Array;
  nextObs: Float32Array;
  reward: Float32Array;
  /** γ·(1 − terminal) */
  mask: Float32Array;
}

/** One kernel instance (dataset copy + scratch); `step` mutates the state arrays passed to it. */
export interface IqlKernel {
  /** n steps on rows idx (n·batchSize); returns [q1Loss, q2Loss, vLoss, meanQ, meanV, advMean, advStd] means and advMax. */
  step(idx: Int32Array, n: number, state: { theta: Float32Array; m: Float32Array; v: Float32Array; target: Float32Array }, adamT: number): Float64Array;
  /** Frees the dataset copy and scratch now; step() throws afterwards. */
  dispose(): void;
}

export function createIqlKernel(spec: KernelSpec, data: KernelData): IqlKernel {
  const st = kernelStatus();
  if (!st.available || !binding) throw new Error(`IQL compute 'kernel': the native kernel is unavailable (${st.reason})`);
  const L = spec.qSizes.length - 1;
  const layout: number[] = [spec.total, spec.qEnd, spec.vStart];
  for (const net of ['q1', 'q2', 'v']) {
    for (let l = 0; l < L; l++) {
      const ln = spec.layerNorm && l < L - 1;
      layout.push(spec.offset(`${net}/l${l}/W`), spec.offset(`${net}/l${l}/b`), ln ? spec.offset(`${net}/l${l}/ln_scale`) : -1, ln ? spec.offset(`${net}/l${l}/ln_bias`) : -1);
    }
  }
  const b = binding;
  const handle = b.create({
    ints: Int32Array.from([spec.obsDim, spec.actDim, spec.batchSize, ACT_CODE[spec.activation], spec.layerNorm ? 1 : 0, spec.qSizes.length, ...spec.qSizes]),
    floats: Float64Array.from([spec.targetTau, spec.expectile, spec.beta1, spec.beta2, spec.eps, spec.criticLr, Math.fround(spec.valueLr / spec.criticLr)]),
    layout: Float64Array.from(layout),
    ...data,
  });
  return {
    step: (idx, n, s, adamT) => b.step(handle, idx, n, s.theta, s.m, s.v, s.target, adamT),
    dispose: () => b.dispose(handle),
  };
}

// ---------------------------------------------------------------------------------------------
// The extraction step

/** Whether the loaded build has the extraction step (a build older than it has only the critic's). */
export function extractKernelStatus(): KernelStatus {
  const st = kernelStatus();
  if (!st.available || !binding) return st;
  if (typeof binding.exCreate !== 'function') {
    return { ...st, available: false, reason: `the build at ${st.path} predates the extraction step (rerun scripts/build-kernel.sh)` };
  }
  return st;
}

/** Why compute 'auto' runs the extraction step on tfjs. */
export function extractFallbackMessage(): string {
  return `native extraction kernel unavailable (${extractKernelStatus().reason}); the extraction step runs on tfjs`;
}

let warnedExtract = false;

/** Says once per process why the extraction kernel is not used (compute: auto falling back to tfjs). */
export function warnExtractFallback(): void {
  if (warnedExtract) return;
  warnedExtract = true;
  console.warn(`[extract] ${extractFallbackMessage()}`);
}

const METHOD_CODE: Record<ExtractMethod, number> = { awr: 0, ddpg: 1, 'awr-discrete': 2 };
const QREDUCE_CODE: Record<QReduce, number> = { min: 0, mean: 1, q1: 2 };

export interface ExtractKernelSpec {
  method: ExtractMethod;
  obsDim: number;
  actDim: number;
  batchSize: number;
  /** awr-discrete: bins per action dim (ignored otherwise). */
  bins: number;
  qReduce: QReduce;
  qNormalize: boolean;
  /** Compute every dataset row's AWR weight once at creation (awr, awr-discrete). */
  precomputeWeights: boolean;
  actorArch: MlpArch;
  /** Actor sizes [obs, ...hidden, head width]. */
  actorSizes: readonly number[];
  beta: number;
  maxWeight: number;
  logStdMin: number;
  logStdMax: number;
  bcAlpha: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Length of θ (= m = v); offset of a named tensor in θ (`pi/l0/W`, `log_std`, ...); -1 for none. */
  total: number;
  offset(name: string): number;
  critic: {
    arch: MlpArch;
    /** Q sizes [obs + act, ...hidden, 1]. */
    qSizes: readonly number[];
    /** Q1, Q2 and V in one flat vector; offset of `q1/l0/W`, ... in it. */
    flat: Float32Array;
    offset(name: string): number;
  };
}

export interface ExtractKernelData {
  /** Observations as the actor and the critic see them (normalised where the critic normalises). */
  obs: Float32Array;
  act: Float32Array;
  /** awr-discrete: each action value's bin, and the bins' values. */
  bins?: Int32Array;
  centers?: Float32Array;
}

/** One extraction kernel (dataset and critic copies + scratch); `step` mutates the state arrays passed to it. */
export interface ExtractKernel {
  /** n steps on rows idx (n·batchSize) at rates lrs (n); the means of extract.ts's METRIC_KEYS. */
  step(idx: Int32Array, n: number, lrs: Float64Array, state: { theta: Float32Array; m: Float32Array; v: Float32Array }, adamT: number): Float64Array;
  /** Every dataset row's AWR weight when precomputed, else null. */
  weights(): Float32Array | null;
  /** The critic's weights from the next step on (same layout as at creation; joint training). */
  setCritic(flat: Float32Array): void;
  dispose(): void;
}

export function createExtractKernel(spec: ExtractKernelSpec, data: ExtractKernelData): ExtractKernel {
  const st = extractKernelStatus();
  if (!st.available || !binding) throw new Error(`extraction compute 'kernel': the native kernel is unavailable (${st.reason})`);
  const layers = (sizes: readonly number[], arch: MlpArch, prefix: string, offset: (n: string) => number): number[] => {
    const out: number[] = [];
    const L = sizes.length - 1;
    for (let l = 0; l < L; l++) {
      const ln = arch.layerNorm && l < L - 1;
      out.push(offset(`${prefix}/l${l}/W`), offset(`${prefix}/l${l}/b`), ln ? offset(`${prefix}/l${l}/ln_scale`) : -1, ln ? offset(`${prefix}/l${l}/ln_bias`) : -1);
    }
    return out;
  };
  const c = spec.critic;
  const layout = [
    spec.total,
    spec.method === 'awr' ? spec.offset('log_std') : -1,
    ...layers(spec.actorSizes, spec.actorArch, 'pi', spec.offset),
    ...layers(c.qSizes, c.arch, 'q1', c.offset),
    ...layers(c.qSizes, c.arch, 'q2', c.offset),
    ...layers(c.qSizes, c.arch, 'v', c.offset),
  ];
  const b = binding;
  const handle = b.exCreate!({
    ints: Int32Array.from([
      METHOD_CODE[spec.method], spec.obsDim, spec.actDim, spec.batchSize, spec.bins, QREDUCE_CODE[spec.qReduce], spec.qNormalize ? 1 : 0,
      spec.precomputeWeights ? 1 : 0, ACT_CODE[spec.actorArch.activation], spec.actorArch.layerNorm ? 1 : 0, ACT_CODE[c.arch.activation], c.arch.layerNorm ? 1 : 0,
      spec.actorSizes.length, ...spec.actorSizes, c.qSizes.length, ...c.qSizes,
    ]),
    floats: Float64Array.from([spec.beta, spec.maxWeight, spec.logStdMin, spec.logStdMax, spec.bcAlpha, spec.beta1, spec.beta2, spec.eps]),
    layout: Float64Array.from(layout),
    critic: c.flat,
    obs: data.obs,
    act: data.act,
    bins: data.bins ?? new Int32Array(0),
    centers: data.centers ?? new Float32Array(0),
  });
  return {
    step: (idx, n, lrs, s, adamT) => b.exStep(handle, idx, n, lrs, s.theta, s.m, s.v, adamT),
    weights: () => b.exWeights(handle),
    setCritic: (flat) => b.exSetCritic(handle, flat),
    dispose: () => b.exDispose(handle),
  };
}
