/**
 * Observation normalisation by dataset statistics, as CORL's IQL (`normalize: true`):
 *
 *   compute_mean_std:  μ = mean(s), σ = std(s) + ε     (per observation dim, population std, ε = 1e-3)
 *   normalize_states:  s ↦ (s − μ) / σ
 *
 * fit-iql computes the statistics from its dataset's observations (not the next observations,
 * as CORL) and trains on normalised observations and next observations; the critic and every
 * policy extracted from it carry the statistics and apply them to the raw observations their
 * callers pass. `std` below is CORL's σ: the dataset std with ε already added.
 */
export const OBS_NORM_EPS = 1e-3;

export interface ObsNorm {
  mean: Float32Array;
  /** Dataset std + ε: the divisor. */
  std: Float32Array;
  /** The ε added (recorded, not applied again). */
  eps: number;
}

/** Mean and population std + ε of each observation dim (accumulated in float64). */
export function computeObsNorm(observations: Float32Array, obsDim: number, eps = OBS_NORM_EPS): ObsNorm {
  const n = observations.length / obsDim;
  if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`computeObsNorm: ${observations.length} values do not form rows of ${obsDim}`);
  const sum = new Float64Array(obsDim);
  for (let i = 0; i < observations.length; i++) sum[i % obsDim]! += observations[i]!;
  const mean = Float64Array.from(sum, (s) => s / n);
  const sq = new Float64Array(obsDim);
  for (let i = 0; i < observations.length; i++) {
    const d = observations[i]! - mean[i % obsDim]!;
    sq[i % obsDim]! += d * d;
  }
  return { mean: Float32Array.from(mean), std: Float32Array.from(sq, (s) => Math.sqrt(s / n) + eps), eps };
}

/**
 * (s − μ)/σ of row-major observations (a copy), with float32 rounding after the subtraction and
 * the division, as the same two ops on float32 tensors give. `null` statistics: the input itself.
 */
export function normalizeObs(obs: Float32Array, norm: ObsNorm | null): Float32Array {
  if (!norm) return obs;
  const d = norm.mean.length;
  if (obs.length % d !== 0) throw new Error(`normalizeObs: ${obs.length} values do not form rows of ${d}`);
  const out = new Float32Array(obs.length);
  for (let i = 0; i < obs.length; i++) out[i] = Math.fround(obs[i]! - norm.mean[i % d]!) / norm.std[i % d]!;
  return out;
}

/** The statistics as table metadata (plain number arrays: float32 values round-trip exactly through JSON). */
export function obsNormMetadata(norm: ObsNorm | null): { mean: number[]; std: number[]; eps: number } | null {
  return norm ? { mean: Array.from(norm.mean), std: Array.from(norm.std), eps: norm.eps } : null;
}

/** Statistics recorded under `obsNorm` in table metadata; absent or null: none (old artifacts). */
export function obsNormFromMetadata(meta: Record<string, unknown>, obsDim: number, what: string): ObsNorm | null {
  const m = meta['obsNorm'];
  if (m === undefined || m === null) return null;
  const o = m as { mean?: unknown; std?: unknown; eps?: unknown };
  const vec = (v: unknown, key: string): Float32Array => {
    if (!Array.isArray(v) || v.length !== obsDim || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new Error(`${what}: metadata obsNorm.${key} must be ${obsDim} finite numbers`);
    }
    return Float32Array.from(v as number[]);
  };
  const std = vec(o.std, 'std');
  if (std.some((x) => !(x > 0))) throw new Error(`${what}: metadata obsNorm.std must be positive`);
  return { mean: vec(o.mean, 'mean'), std, eps: typeof o.eps === 'number' ? o.eps : OBS_NORM_EPS };
}

/** Whether two sets of statistics are identical (null equals null). */
export function sameObsNorm(a: ObsNorm | null, b: ObsNorm | null): boolean {
  if (!a || !b) return a === b;
  const eq = (x: Float32Array, y: Float32Array) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.mean, b.mean) && eq(a.std, b.std) && a.eps === b.eps;
}
