/** Small deterministic synthetic tables for the report tests, and a sample report built from them. */
import { actionScatter, edgeNormHistogram, mazeTrajectories, returnsChart, stdHistogram, trainingCurves } from './charts.js';
import { buildHtmlReport, type HtmlReportInput } from './html.js';
import { renderChart } from './render.js';
import { aggregateBySeeds } from './table.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function gauss(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

const clip = (x: number) => Math.max(-1, Math.min(1, x));

/** Gaussian AWR: a cloud inside the circle; DDPG: on the unit circle; discrete: on the box edge. */
export function actionPoints(perMethod = 40): { method: string; a0: number; a1: number }[] {
  const r = rng(7);
  const out: { method: string; a0: number; a1: number }[] = [];
  for (let i = 0; i < perMethod; i++) {
    out.push({ method: 'awr', a0: clip(0.35 * gauss(r)), a1: clip(0.35 * gauss(r)) });
    const th = 2 * Math.PI * r();
    out.push({ method: 'ddpg', a0: Math.cos(th), a1: Math.sin(th) });
    const e = Math.floor(r() * 4);
    const u = 2 * r() - 1;
    const [a0, a1] = e === 0 ? [1, u] : e === 1 ? [-1, u] : e === 2 ? [u, 1] : [u, -1];
    out.push({ method: 'awr-discrete', a0, a1 });
  }
  return out;
}

export function stdValues(n = 60): { method: string; std: number }[] {
  const r = rng(11);
  const out: { method: string; std: number }[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ method: 'awr', std: Math.abs(0.4 + 0.05 * gauss(r)) });
    out.push({ method: 'awr-discrete', std: Math.abs(0.15 + 0.05 * gauss(r)) });
  }
  return out;
}

export function curves(): { method: string; metric: string; step: number; value: number; seed: number }[] {
  const r = rng(3);
  const out: { method: string; metric: string; step: number; value: number; seed: number }[] = [];
  const off: Record<string, number> = { awr: 0, ddpg: -1, 'awr-discrete': 0.5 };
  for (const method of ['awr', 'ddpg', 'awr-discrete'])
    for (const seed of [0, 1])
      for (let k = 0; k <= 20; k++) {
        const step = k * 5000;
        out.push({ method, seed, metric: 'actor_loss', step, value: 2 * Math.exp(-k / 6) + 0.2 * r() + off[method]! });
        const std = method === 'awr' ? 0.4 : 0.1;
        if (method !== 'ddpg') out.push({ method, seed, metric: 'policy_std', step, value: std + 0.6 * Math.exp(-k / 4) + 0.02 * r() });
        out.push({ method, seed, metric: 'q_loss', step, value: 5 * Math.exp(-k / 5) * (1 + 0.3 * seed) + 0.05 + 0.05 * r() });
      }
  return out;
}

export function scores(): { method: string; seed: number; score: number }[] {
  const r = rng(5);
  const out: { method: string; seed: number; score: number }[] = [];
  const base: Record<string, number> = { awr: 42, ddpg: 80, 'awr-discrete': 70 };
  for (const method of Object.keys(base)) for (let seed = 0; seed < 4; seed++) out.push({ method, seed, score: base[method]! + 12 * gauss(r) });
  return out;
}

export const UMAZE = ['#####', '#GOO#', '###O#', '#OOO#', '#####'];

/** Straight-ish paths from the bottom-left free cell (3,1) towards the goal (1,1). */
export function trajectories(episodes = 3): { method: string; episode: number; t: number; x: number; y: number }[] {
  const r = rng(9);
  const path = [
    [3, 1], [3, 2], [3, 3], [2, 3], [1, 3], [1, 2], [1, 1],
  ];
  const out: { method: string; episode: number; t: number; x: number; y: number }[] = [];
  for (const method of ['awr', 'ddpg'])
    for (let episode = 0; episode < episodes; episode++) {
      let t = 0;
      for (let s = 0; s + 1 < path.length; s++)
        for (let k = 0; k < 5; k++) {
          const f = k / 5;
          const [x0, y0] = path[s]!;
          const [x1, y1] = path[s + 1]!;
          out.push({ method, episode, t: t++, x: x0! + (x1! - x0!) * f + 0.1 * (r() - 0.5), y: y0! + (y1! - y0!) * f + 0.1 * (r() - 0.5) });
        }
    }
  return out;
}

/** A report with every kind of section (tables, SVG and PNG-only figures, a missing image), and its figure count. */
export async function sampleReport(): Promise<{ html: string; figures: number }> {
  const sc = scores();
  const agg = aggregateBySeeds(sc, 'method', ['score'], { labels: { score: 'normalised score' } });
  const charts = {
    actions: await renderChart(actionScatter(actionPoints(30))),
    norms: await renderChart(edgeNormHistogram(actionPoints(30))),
    std: await renderChart(stdHistogram(stdValues(40))),
    curves: await renderChart(trainingCurves(curves(), { logMetrics: ['q_loss'] })),
    returns: await renderChart(returnsChart(sc)),
    maze: await renderChart(mazeTrajectories(UMAZE, trajectories(2))),
  };
  const input: HtmlReportInput = {
    title: 'maze2d-umaze: policy extraction <compare>',
    subtitle: 'IQL critic, three extraction methods',
    generatedAt: new Date('2025-01-02T03:04:05Z'),
    sections: [
      {
        title: 'Scores',
        text: 'Normalised score over seeds (mean ± sample std).\n\nComputed with `evaluate`.',
        table: { columns: agg.columns, rows: agg.rows },
        images: [{ name: 'returns', svg: charts.returns.svg, png: charts.returns.png, caption: 'Per-seed scores, mean and std.' }],
      },
      {
        title: 'Policy actions',
        images: [
          { name: 'actions', svg: charts.actions.svg, caption: 'Policy actions at dataset states; unit circle and action box drawn.' },
          { name: 'norms', svg: charts.norms.svg, caption: '‖a‖ per method.' },
          { name: 'std-png-only', png: charts.std.png, caption: 'Policy std (PNG only).' },
        ],
      },
      { title: 'Training', images: [{ name: 'curves', svg: charts.curves.svg, caption: 'Losses.' }] },
      { title: 'Rollouts', images: [{ name: 'maze', svg: charts.maze.svg, caption: 'Trajectories.' }, { name: 'missing' }] },
    ],
    params: { dataset: { env: 'maze2d-umaze-v1', n: 1000000 }, iql: { tau: 0.7, beta: 3, hidden: [256, 256] }, methods: ['awr', 'ddpg', 'awr-discrete'], note: '<b>not html</b>' },
    cacheKeys: { 'fit-iql[seed=0]': 'a'.repeat(64), 'load-dataset': 'b'.repeat(64) },
  };
  return { html: buildHtmlReport(input), figures: 6 };
}
