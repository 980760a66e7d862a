/**
 * pipelines/antmaze-compare.yaml itself, on its `quick` profile, through the real CLI: the ant
 * dataset from the goal-reaching controller, IQL with AntMaze's settings, three extractions,
 * evaluation with D4RL's eval semantics (episodes end at the goal, score = success %), diagnostics
 * on the 8-D action box and the report with the ant's rollouts drawn over the maze.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, started, tempDir } from '../helpers.js';
import { readTableFile } from '../../src/store/arrow-io.js';

test('antmaze-compare (quick profile) end to end', { timeout: 600_000 }, async () => {
  const dir = tempDir();
  const file = join(ROOT, 'pipelines', 'antmaze-compare.yaml');
  const r = await runCli(['run', file, '--profile', 'quick', '--store', join(dir, 'store')], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(started(r.stdout).length, 12);
  for (const m of ['awr', 'ddpg', 'awr-discrete']) assert.match(r.stdout, new RegExp(`^${m} +-?\\d`, 'm'));
  const reportPath = /^report: (.+\.html)$/m.exec(r.stdout)?.[1];
  assert.ok(reportPath && existsSync(reportPath));
  const html = readFileSync(reportPath, 'utf8');
  assert.ok(html.includes('Evaluation rollouts'), 'ant rollouts drawn over the maze');
  assert.ok(html.includes('Dataset coverage'), 'one coverage row per dataset');
  assert.match(r.stdout, /^antmaze-umaze-v2 +5000 +0\.\d+/m, 'the terminal summary lists the dataset with its coverage');
  assert.match(r.stdout, /cells to goal \(end\)/);

  const show = async (stage: string) =>
    JSON.parse((await runCli(['show', file, stage, '--json', '--profile', 'quick', '--store', join(dir, 'store')], dir)).stdout) as {
      key: string; outputs: Record<string, { file: string }>; summary: Record<string, number>;
    };
  const entry = (m: { key: string }) => join(dir, 'store', 'entries', m.key.slice(0, 2), m.key);
  const data = await show('dataset');
  assert.ok(data.summary['behaviour_success_rate']! > 0, 'the behaviour controller reaches the goal');
  const ev = await show('evaluate[method=awr,seed=0]');
  const episodes = await readTableFile(join(entry(ev), ev.outputs['episodes']!.file));
  assert.equal(episodes.numRows, 2);
  const len = episodes.getChild('length')!.toArray() as Int32Array;
  const ret = episodes.getChild('return')!.toArray() as Float64Array;
  // D4RL eval semantics: return 1 exactly when the episode ended before the 700-step limit.
  len.forEach((l, i) => assert.equal(ret[i], l < 700 ? 1 : 0, `episode ${i}: length ${l}, return ${ret[i]}`));
  const traj = await readTableFile(join(entry(ev), ev.outputs['trajectories']!.file));
  assert.equal(traj.schema.metadata.get('frame'), 'antmaze-world');
});
