/**
 * A small, fast, deterministic PRNG for everything seeded in src/rl (env resets, dataset
 * generation, minibatch sampling...). xoshiro128** (32-bit state words) seeded through
 * splitmix32, plus uniform / normal / integer helpers. Same seed => same stream on every
 * platform (only 32-bit integer arithmetic and IEEE doubles are involved).
 *
 *   const rng = new Rng(seed);            // one stream
 *   const r2 = new Rng(seed, 3);          // an independent stream for the same seed
 *   const s = deriveSeed(seed, 'eval', 7) // a sub-seed for a named purpose
 */

const TWO32 = 4294967296;

/** splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

/** 32-bit FNV-1a style mixing of numbers and strings into one seed (deterministic). */
export function deriveSeed(seed: number, ...keys: Array<number | string>): number {
  let h = mixNumber(0x811c9dc5, seed);
  for (const k of keys) {
    if (typeof k === 'number') h = mixNumber(h, k);
    else for (let i = 0; i < k.length; i++) h = mixWord(h, k.charCodeAt(i));
    h = mixWord(h, 0x7f);
  }
  return splitmix32(h)[1];
}

function mixWord(h: number, w: number): number {
  h = Math.imul(h ^ (w >>> 0), 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

function mixNumber(h: number, x: number): number {
  if (!Number.isFinite(x)) throw new Error(`seed must be a finite number, got ${x}`);
  // Low and high 32 bits of the (truncated) integer part plus the fractional bits, so that
  // large or fractional seeds still differ.
  const t = Math.trunc(x);
  const lo = t % TWO32;
  const hi = Math.floor(t / TWO32) % TWO32;
  const frac = Math.floor((x - t) * TWO32);
  return mixWord(mixWord(mixWord(h, lo >>> 0), hi >>> 0), frac >>> 0);
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  /** Cached second Box-Muller normal (NaN when empty). */
  private spare = NaN;

  constructor(seed: number = 0, stream: number = 0) {
    let s = deriveSeed(seed, stream);
    let out: number;
    [s, out] = splitmix32(s);
    this.a = out;
    [s, out] = splitmix32(s);
    this.b = out;
    [s, out] = splitmix32(s);
    this.c = out;
    [s, out] = splitmix32(s);
    this.d = out;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const b = this.b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  random(): number {
    return this.nextUint32() / TWO32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** Uniform integer in [0, n) (n ≤ 2^32), without modulo bias. */
  int(n: number): number {
    if (!(n > 0) || n > TWO32 || !Number.isInteger(n)) throw new Error(`Rng.int: bad range ${n}`);
    const limit = TWO32 - (TWO32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Normal N(mean, std²) via Box-Muller (pairs cached). */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (!Number.isNaN(this.spare)) {
      z = this.spare;
      this.spare = NaN;
    } else {
      const u1 = (this.nextUint32() + 0.5) / TWO32; // (0, 1): log is finite
      const u2 = this.random();
      const r = Math.sqrt(-2 * Math.log(u1));
      z = r * Math.cos(2 * Math.PI * u2);
      this.spare = r * Math.sin(2 * Math.PI * u2);
    }
    return mean + std * z;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: any }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** Serialisable state (for checkpoints). */
  getState(): number[] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0, this.spare];
  }

  setState(s: readonly number[]): void {
    if (s.length !== 5) throw new Error('Rng.setState: expected 5 numbers');
    this.a = s[0]! | 0;
    this.b = s[1]! | 0;
    this.c = s[2]! | 0;
    this.d = s[3]! | 0;
    this.spare = s[4] === null || s[4] === undefined ? NaN : s[4];
  }

  static fromState(s: readonly number[]): Rng {
    const r = new Rng(0);
    r.setState(s);
    return r;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
