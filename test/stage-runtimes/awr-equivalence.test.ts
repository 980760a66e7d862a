/**
 * Our extract-policy AWR and the PyTorch reference's (stages/extract_torch.py) take the same
 * gradient steps: from the same actor weights, on the same minibatch rows, weighing them with the
 * same frozen critic (observations standardised), with the learning rate on the same cosine, both
 * end with the same actor MLP and log σ up to float rounding — on each of our compute paths.
 *
 * With iql-equivalence.test.ts (the critic step) this pins what pipelines/reference-iql.yaml's
 * `report_protocol` measured: on the same critics, frozen AWR of either implementation scores the
 * same within a few points, and CORL's jointly trained actor lower; the difference between our
 * pipeline and CORL's is the protocol, not the update. Skipped without torch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/rl/nn/backend.js';
import { createIQL } from '../../src/rl/algos/iql.js';
import { createExtractor, type ExtractCompute } from '../../src/rl/algos/extract.js';
import { extractKernelStatus } from '../../src/rl/algos/iql-kernel.js';
import { transitionsToTable } from '../../src/rl/data/dataset.js';
import { tableToWeights } from '../../src/rl/nn/serialize.js';
import { Rng } from '../../src/rl/rng.js';
import { encodeTable, readTableFile } from '../../src/store/arrow-io.js';
import { choosePython, childEnv } from '../../src/stage-runtimes/python-env.js';
import { ROOT, tempDir } from '../helpers.js';
import { PY_FIXTURES, randomTransitions } from './helpers.js';

const python = choosePython(join(ROOT, 'pipelines', 'none.yaml'));
const hasTorch = spawnSync(python, ['-c', 'import torch'], { env: childEnv(python) }).status === 0;
const kernel = extractKernelStatus();

for (const compute of ['tfjs', 'kernel'] as ExtractCompute[]) {
  const skip = !hasTorch ? 'no torch in the Python environment' : compute === 'kernel' && !kernel.available ? `native extraction kernel not available: ${kernel.reason}` : false;
  test(`from the same actor on the same rows and critic, our AWR (${compute}) and extract_torch.py end with the same actor`, { skip }, async () => {
    await initBackend('cpu');
    const dir = tempDir('iqlp-awr-equiv-');
    const rng = new Rng(23);
    const data = randomTransitions(400, rng);
    const batch = 32;
    const steps = 20;
    // A critic that has learned something, so that the AWR weights differ from row to row.
    const iql = createIQL(data, { hidden: [32, 32], batchSize: batch, normalizeObservations: true }, 3);
    iql.step(200);
    const criticTable = iql.exportCritic();
    const critic = iql.critic();
    const ex = createExtractor(critic, data, { method: 'awr', hidden: [24, 24], batchSize: batch, steps, beta: 3, lr: 3e-3, compute }, 9);
    try {
      assert.equal(ex.compute, compute);
      writeFileSync(join(dir, 'data.arrow'), encodeTable(transitionsToTable(data, { source: 'generate' })));
      writeFileSync(join(dir, 'critic.arrow'), encodeTable(criticTable));
      writeFileSync(join(dir, 'state.arrow'), encodeTable(ex.exportState()));
      const indices = Int32Array.from({ length: steps * batch }, () => Math.floor(rng.random() * data.size));
      writeFileSync(join(dir, 'indices.json'), JSON.stringify(Array.from(indices)));
      ex.step(steps, { indices });
      const ours = tableToWeights(ex.exportState());
      execFileSync(python, [join(PY_FIXTURES, 'awr_torch_steps.py'), join(dir, 'data.arrow'), join(dir, 'critic.arrow'), join(dir, 'state.arrow'),
        join(dir, 'indices.json'), String(batch), String(steps), join(dir, 'torch.arrow')], { env: childEnv(python), stdio: 'pipe' });
      const theirs = tableToWeights(await readTableFile(join(dir, 'torch.arrow')));
      const before = tableToWeights(await readTableFile(join(dir, 'state.arrow')));
      assert.ok(theirs.has('log_std') && theirs.has('pi/l0/W'), [...theirs.keys()].join(', '));
      let worst = 0;
      let moved = 0;
      let total = 0;
      for (const [name, t] of theirs) {
        const o = ours.get(name);
        const b = before.get(name);
        assert.ok(o && b, `our state has no ${name}`);
        for (let i = 0; i < t.values.length; i++) {
          worst = Math.max(worst, Math.abs(t.values[i]! - o.values[i]!));
          moved = Math.max(moved, Math.abs(t.values[i]! - b.values[i]!));
        }
        total += t.values.length;
      }
      assert.ok(total > 700, `${total} weights compared`);
      // 20 Adam steps of lr 3e-3 move a weight by up to 6e-2; float rounding stays far below.
      assert.ok(moved > 1e-2, `the actor moved by only ${moved}`);
      assert.ok(worst < 1e-4, `largest difference ${worst}`);
    } finally {
      ex.dispose();
      critic.dispose();
      iql.dispose();
    }
  });
}
