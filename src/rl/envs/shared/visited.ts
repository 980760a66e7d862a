/**
 * A bounded sample of the observations evaluation episodes visit, so diagnostics can look where
 * policies actually go (not only at dataset states). Deterministic: every `stride`-th step of every
 * episode (t = 0, stride, 2·stride, …) plus each episode's last observation, with the stride chosen
 * so that about `maxRows` rows are kept; the same seed gives the same episodes and so the same rows.
 */

export interface VisitedStates {
  obsDim: number;
  /** Steps between kept observations (the last one of each episode is always kept). */
  stride: number;
  /** Rows sorted by (episode, t). */
  episode: Int32Array;
  t: Int32Array;
  /** 1 on the episode's last observation. */
  final: Uint8Array;
  /** rows × obsDim. */
  obs: Float32Array;
}

export class VisitedRecorder {
  readonly stride: number;
  private readonly episode: number[] = [];
  private readonly t: number[] = [];
  private readonly final: number[] = [];
  private readonly obs: number[] = [];

  /** `maxSteps` = the longest an episode can last (its observations are t = 0 … maxSteps). */
  constructor(readonly obsDim: number, episodes: number, maxSteps: number, maxRows: number) {
    if (!(maxRows >= 1)) throw new Error(`VisitedRecorder: maxRows must be ≥ 1, got ${maxRows}`);
    this.stride = Math.max(1, Math.ceil((episodes * (maxSteps + 1)) / maxRows));
  }

  /** Offer the observation of episode `ep` at step t (obs[off .. off + obsDim)); kept when on the stride or final. */
  offer(ep: number, t: number, obs: ArrayLike<number>, off: number, final: boolean): void {
    if (!final && t % this.stride !== 0) return;
    this.episode.push(ep);
    this.t.push(t);
    this.final.push(final ? 1 : 0);
    for (let k = 0; k < this.obsDim; k++) this.obs.push(obs[off + k]!);
  }

  result(): VisitedStates {
    const n = this.episode.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.episode[a]! - this.episode[b]! || this.t[a]! - this.t[b]!);
    const D = this.obsDim;
    const obs = new Float32Array(n * D);
    order.forEach((r, i) => {
      for (let k = 0; k < D; k++) obs[i * D + k] = this.obs[r * D + k]!;
    });
    return {
      obsDim: D,
      stride: this.stride,
      episode: Int32Array.from(order, (r) => this.episode[r]!),
      t: Int32Array.from(order, (r) => this.t[r]!),
      final: Uint8Array.from(order, (r) => this.final[r]!),
      obs,
    };
  }
}

/** The columns of evaluate's `visited` table: episode, t, final, o0 … o{obsDim−1}. */
export function visitedToColumns(v: VisitedStates): Record<string, Int32Array | Float32Array> {
  const n = v.episode.length;
  const cols: Record<string, Int32Array | Float32Array> = { episode: v.episode, t: v.t, final: Int32Array.from(v.final) };
  for (let d = 0; d < v.obsDim; d++) cols[`o${d}`] = Float32Array.from({ length: n }, (_, i) => v.obs[i * v.obsDim + d]!);
  return cols;
}

/**
 * Back from those columns (`column(name)` returns the values or null when absent); throws naming
 * the first missing column. obsDim = the number of consecutive o0, o1, … columns.
 */
export function visitedFromColumns(column: (name: string) => ArrayLike<number> | null, stride = 0): VisitedStates {
  const need = (name: string) => {
    const c = column(name);
    if (!c) throw new Error(`visited table: missing column '${name}' (expected episode, t, final, o0, o1, …)`);
    return c;
  };
  const episode = Int32Array.from(need('episode'));
  const n = episode.length;
  const dims: ArrayLike<number>[] = [];
  for (let d = 0; column(`o${d}`); d++) dims.push(column(`o${d}`)!);
  if (dims.length === 0) need('o0');
  const obs = new Float32Array(n * dims.length);
  dims.forEach((c, d) => {
    for (let i = 0; i < n; i++) obs[i * dims.length + d] = c[i]!;
  });
  return { obsDim: dims.length, stride, episode, t: Int32Array.from(need('t')), final: Uint8Array.from(need('final')), obs };
}
