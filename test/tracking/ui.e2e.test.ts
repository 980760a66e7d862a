/**
 * End to end, as a person would see it: `pipeline ui` starts a real MLflow server for a store,
 * syncs its journal, and headless Chromium shows the pipeline's runs on the experiment page.
 * Screenshot: test-output/mlflow-ui.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, CHROMIUM } from '../browser.js';
import ui from '../../src/cli/commands/ui.js';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';
import { syntheticRun, writeJournal } from '../../src/tracking/synthetic-run.test-fixture.js';
import { freePort, repoRoot, venvDir } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pipeline ui in a browser', () => {
  it('serves the synced runs; the experiment page lists them by name', { timeout: 240_000 }, async () => {
    assert.ok(existsSync(CHROMIUM), `headless Chromium is needed at ${CHROMIUM}: apt-get install -y chromium`);
    assert.ok(existsSync(join(venvDir(), 'bin', 'mlflow')), `MLflow venv missing at ${venvDir()}: run scripts/setup-mlflow.sh`);
    const store = mkdtempSync(join(tmpdir(), 'ui-store-'));
    const syn = syntheticRun({ curvePoints: 20, t0: Date.now() - 60_000 });
    writeJournal(store, syn.events);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const saved = process.env.MLFLOW_VENV;
    process.env.MLFLOW_VENV = venvDir();
    const exit = ui.run(['--store', store, '--port', String(port), '--interval', '0']);
    let browser: Browser | undefined;
    try {
      const client = new MlflowClient({ trackingUri: url, retries: 0 });
      let expId: string | undefined;
      for (let i = 0; i < 360 && !expId; i++) {
        if (await client.health()) {
          const exp = await client.getExperimentByName(syn.pipeline).catch(() => undefined);
          if (exp && (await client.searchRuns({ experimentIds: [exp.experiment_id] })).length === 4) expId = exp.experiment_id;
        }
        if (!expId) await sleep(500);
      }
      assert.ok(expId, 'ui started the server and synced the journal');

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
      await page.goto(`${url}/#/experiments/${expId}/runs`, { waitUntil: 'domcontentloaded' });
      const parentName = `${syn.pipeline} `; // "<pipeline> <time>"
      await page.getByText(parentName, { exact: false }).first().waitFor({ timeout: 60_000 });
      // Nested runs are collapsed under the parent: expand them (the run-name cell's icon button).
      await page.locator('.ag-row button[data-component-id*="runnamecellrenderer"]').first().click();
      for (const name of syn.instances) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
      await sleep(1000);
      const out = join(repoRoot(), 'test-output');
      mkdirSync(out, { recursive: true });
      await page.screenshot({ path: join(out, 'mlflow-ui.png'), fullPage: true });
      const text = await page.locator('body').innerText();
      assert.ok(text.includes(syn.pipeline), 'parent run name visible');
      for (const name of syn.instances) assert.ok(text.includes(name), `child run ${name} visible`);
      assert.ok(statSync(join(out, 'mlflow-ui.png')).size > 1000);
    } finally {
      await browser?.close();
      process.emit('SIGINT');
      assert.equal(await exit, 0, 'ui stops cleanly on Ctrl-C');
      if (saved === undefined) delete process.env.MLFLOW_VENV; else process.env.MLFLOW_VENV = saved;
    }
  });
});
