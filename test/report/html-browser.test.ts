/** The HTML report in a real browser (headless Chromium): no console errors, no network, figures laid out. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sampleReport } from '../../src/report/test-fixtures.js';
import { launchChromium } from '../browser.js';

const OUT = resolve(process.cwd(), 'test-output');

test('HTML report opens in headless Chromium without console errors', { timeout: 60_000 }, async () => {
  const { html, figures } = await sampleReport();
  mkdirSync(OUT, { recursive: true });
  const file = resolve(OUT, 'report.html');
  writeFileSync(file, html);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
      'no network requests',
    );
    const info = await page.evaluate(() => ({
      svgs: document.querySelectorAll('figure svg').length,
      imgsLoaded: [...document.querySelectorAll('img')].every((i) => i.complete && i.naturalWidth > 0),
      svgWidths: [...document.querySelectorAll('figure svg')].map((s) => s.getBoundingClientRect().width),
      title: document.title,
      rows: document.querySelectorAll('table tbody tr').length,
    }));
    assert.equal(info.svgs, figures - 1);
    assert.ok(info.imgsLoaded, 'PNG data URIs decode');
    assert.ok(info.svgWidths.every((w) => w > 100), `svgs laid out: ${info.svgWidths}`);
    assert.equal(info.title, 'maze2d-umaze: policy extraction <compare>');
    assert.ok(info.rows >= 3 + 2);
    await page.screenshot({ path: resolve(OUT, 'report.png'), fullPage: true });
    assert.ok(existsSync(resolve(OUT, 'report.png')));
  } finally {
    await browser.close();
  }
});
