import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../engine/events.js';
import { formatCompare, rowsFromPlan } from './compare.js';
import { buildPlan, flattenParams, sanitizeKey } from './model.js';

const base = (): EngineEvent[] => [
  { type: 'run-start', runId: 'R', pipeline: 'demo', file: '/p/demo.yaml', time: 1000, host: 'h', gitCommit: 'a'.repeat(40), pipelineParams: { env: 'umaze' },
    instances: [
      { instance: 'pol[method=awr,seed=0]', stage: 'pol', kind: 'extract-policy', matrix: { method: 'awr', seed: 0 }, params: { lr: 0.001, net: { hidden: [2, 2] } }, seed: 0, needs: [] },
      { instance: 'pol[method=ddpg,seed=0]', stage: 'pol', kind: 'extract-policy', matrix: { method: 'ddpg', seed: 0 }, params: { lr: 0.001, net: { hidden: [2, 2] } }, seed: 0, needs: [] },
    ] },
  { type: 'stage-start', runId: 'R', instance: 'pol[method=awr,seed=0]', key: 'k1', time: 1001 },
  { type: 'stage-metric', runId: 'R', instance: 'pol[method=awr,seed=0]', name: 'loss', value: 2, step: 0, time: 1002 },
  { type: 'stage-metric', runId: 'R', instance: 'pol[method=awr,seed=0]', name: 'loss', value: 1, step: 100, time: 1003 },
  { type: 'stage-done', runId: 'R', instance: 'pol[method=awr,seed=0]', key: 'k1', time: 1010, durationMs: 9, summary: { score: 40.25, loss: 1 },
    outputs: [
      { name: 'small', kind: 'table', path: '/x/small.arrow', digest: 'd1', bytes: 10, ext: 'arrow', rows: 1 },
      { name: 'big', kind: 'table', path: '/x/big.arrow', digest: 'd2', bytes: 5_000_000, ext: 'arrow' },
      { name: 'chart', kind: 'file', path: '/x/c.svg', digest: 'd3', bytes: 100, ext: 'svg' },
    ], recorded: { backend: 'wasm' } },
  { type: 'stage-cached', runId: 'R', instance: 'pol[method=ddpg,seed=0]', key: 'k2', time: 1011, computedByRun: 'OLD', summary: { score: 80 }, outputs: [], recorded: {} },
];

describe('tracking model', () => {
  it('flattens params to stable dotted keys and sanitises keys', () => {
    assert.deepEqual(flattenParams({ b: { y: 1, x: [1, 2] }, a: 'z', n: null, e: {} }), { a: 'z', 'b.x': '[1,2]', 'b.y': '1', e: '{}', n: 'null' });
    assert.equal(sanitizeKey('edge fraction (%)'), 'edge fraction ___');
    assert.equal(sanitizeKey('a/../b'), 'a/__/b');
  });

  it('maps a run to a parent and child runs', () => {
    const plan = buildPlan(base());
    assert.equal(plan.complete, false);
    assert.equal(plan.parent.runName, 'demo 1970-01-01 00:00:01');
    const tags = new Map(plan.parent.tags.map((t) => [t.key, t.value]));
    assert.equal(tags.get('mlflow.source.git.commit'), 'a'.repeat(40));
    const [awr, ddpg] = plan.children;
    const p = new Map(awr.params.map((x) => [x.key, x.value]));
    assert.equal(p.get('matrix.method'), 'awr');
    assert.equal(p.get('net.hidden'), '[2,2]');
    assert.equal(p.get('seed'), '0');
    assert.deepEqual(ddpg.params.map((x) => x.key), awr.params.map((x) => x.key), 'same param keys across instances');
    assert.deepEqual(awr.metrics.map((m) => [m.key, m.step]), [['loss', 0], ['loss', 100], ['score', 0], ['loss', 100]]);
    assert.deepEqual(awr.artifacts.map((a) => a.artifactPath), ['tables/small.arrow', 'outputs/chart.svg']);
    assert.deepEqual(plan.parent.artifacts.map((a) => a.artifactPath), ['reports/pol_method=awr_seed=0/chart.svg']);
    const at = new Map(awr.tags.map((t) => [t.key, t.value]));
    assert.equal(at.get('output.big.digest'), 'd2');
    assert.match(at.get('output.big.artifact')!, /not uploaded/);
    assert.equal(at.get('recorded.backend'), 'wasm');
    const dt = new Map(ddpg.tags.map((t) => [t.key, t.value]));
    assert.equal(dt.get('pipeline.cache'), 'hit');
    assert.equal(dt.get('pipeline.computed_by_run'), 'OLD');
    assert.equal(ddpg.status, 'FINISHED');
  });

  it('closes an abandoned run as KILLED and is append-only in metrics', () => {
    const events = base();
    const short = buildPlan(events.slice(0, 3));
    const full = buildPlan(events, { abandoned: true });
    assert.deepEqual(full.children[0].metrics.slice(0, short.children[0].metrics.length), short.children[0].metrics);
    assert.equal(full.parent.status, 'KILLED');
    assert.equal(full.complete, true);
  });

  it('renders a compare table', () => {
    const text = formatCompare(rowsFromPlan(buildPlan(base())));
    const lines = text.split('\n');
    assert.equal(lines[0], 'pol (2)');
    assert.match(lines[1], /^instance\s+status\s+cache\s+method\s+seed\s+score\s+loss$/);
    assert.match(text, /pol\[method=awr,seed=0\]\s+done\s+miss\s+awr\s+0\s+40\.25\s+1/);
    assert.match(text, /pol\[method=ddpg,seed=0\]\s+cached\s+hit\s+ddpg\s+0\s+80/);
  });
});
