import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { iqlpPackageDir } from './python-env.js';
import { pythonSourceDigest, runtimeModules, siblingModules } from './python-imports.js';

function fixture(): { dir: string; runtime: string; stage: string; write: (path: string, text: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-imports-'));
  const runtime = join(dir, 'iqlp');
  mkdirSync(runtime);
  mkdirSync(join(dir, 'stages'));
  const write = (path: string, text: string): void => writeFileSync(join(dir, path), text);
  write('iqlp/__init__.py', 'from .context import Cancelled  # noqa\n');
  write('iqlp/runner.py', 'import json\n\ndef main():\n    from .context import Context\n');
  write('iqlp/context.py', 'from .protocol import Channel\n');
  write('iqlp/protocol.py', 'import json\n');
  write('iqlp/artifacts.py', 'import numpy as np\n');
  write('iqlp/arrays.py', 'X = 1\n');
  write('iqlp/standalone.py', 'from .runner import main\n');
  write('stages/helper.py', 'from iqlp import arrays, protocol as p\n');
  write('stages/train.py', 'import helper\n\ndef run(ctx):\n    from iqlp.artifacts import Critic\n');
  return { dir, runtime, stage: join(dir, 'stages/train.py'), write };
}

test('a stage depends on the runtime modules the runner and its own modules import, transitively', () => {
  const f = fixture();
  try {
    assert.deepEqual(siblingModules(f.stage).map((p) => p.slice(f.dir.length + 1)).sort(), ['stages/helper.py', 'stages/train.py']);
    assert.deepEqual(runtimeModules(f.runtime, siblingModules(f.stage)),
      ['__init__.py', 'arrays.py', 'artifacts.py', 'context.py', 'protocol.py', 'runner.py']);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('the digest changes with a module the stage loads, not with tools shipped beside the runtime', () => {
  const f = fixture();
  try {
    const before = pythonSourceDigest(f.stage, f.runtime);
    f.write('iqlp/standalone.py', 'from .runner import main\nprint("edited")\n');
    f.write('iqlp/new_tool.py', 'import sys\n');
    assert.equal(pythonSourceDigest(f.stage, f.runtime), before, 'unreached runtime files are not part of the code identity');
    f.write('iqlp/artifacts.py', 'import numpy as np\nEPS = 1e-3\n');
    const afterArtifacts = pythonSourceDigest(f.stage, f.runtime);
    assert.notEqual(afterArtifacts, before, 'a runtime module imported inside run() is');
    f.write('iqlp/protocol.py', 'import json\nimport os\n');
    assert.notEqual(pythonSourceDigest(f.stage, f.runtime), afterArtifacts, 'a module the runner reaches through context.py is');
    const beforeHelper = pythonSourceDigest(f.stage, f.runtime);
    f.write('stages/helper.py', 'from iqlp import arrays, protocol as p\nY = 2\n');
    assert.notEqual(pythonSourceDigest(f.stage, f.runtime), beforeHelper, 'a sibling module of the stage is');
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('the shipped runtime: the PyTorch reference stage loads artifacts.py, not the standalone runner', () => {
  const runtime = join(iqlpPackageDir(), 'iqlp');
  const used = runtimeModules(runtime, siblingModules(join(process.cwd(), 'stages/iql_torch.py')));
  assert.ok(used.includes('runner.py') && used.includes('context.py') && used.includes('artifacts.py'), used.join(', '));
  assert.ok(!used.includes('standalone.py') && !used.includes('command.py'), used.join(', '));
});
