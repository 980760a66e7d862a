/**
 * The cross-entropy method's refit step, shared by the gait optimisers (cheetah gait, ant gait):
 * the new sampling mean and std of each parameter are the elite candidates' mean and std, the std
 * floored at `minStdFrac` of the parameter's range so that the search never collapses entirely.
 */
export function refitCem(
  cands: readonly ArrayLike<number>[],
  order: readonly number[],
  nElite: number,
  mean: Float64Array,
  std: Float64Array,
  low: ArrayLike<number>,
  high: ArrayLike<number>,
  minStdFrac = 0.02,
): void {
  for (let i = 0; i < mean.length; i++) {
    let m = 0;
    for (let e = 0; e < nElite; e++) m += cands[order[e]!]![i]!;
    m /= nElite;
    let v = 0;
    for (let e = 0; e < nElite; e++) v += (cands[order[e]!]![i]! - m) ** 2;
    mean[i] = m;
    std[i] = Math.max(Math.sqrt(v / nElite), minStdFrac * (high[i]! - low[i]!));
  }
}
