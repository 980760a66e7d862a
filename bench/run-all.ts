/**
 * Runs every benchmark in one session, one after the other, and prints their JSON lines.
 *   npm run bench            (after `npm run build`)
 * Each benchmark is its own process so one backend choice or heap does not leak into the next.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const runs: [string, string[]][] = [
  ['engine.js', []],
  ['dataset-gen.js', []],
  ['rollout.js', []],
  ['antmaze.js', ['20', '50000']],
  ['iql-speed.js', ['--steps', '300']],
  ['iql-speed.js', ['--steps', '300', '--backend', 'wasm']],
  ['extract-speed.js', ['--steps', '300']],
  ['extract-speed.js', ['--steps', '300', '--backend', 'wasm']],
];
let failed = 0;
for (const [file, args] of runs) {
  const r = spawnSync(process.execPath, [join(here, file), ...args], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  for (const line of r.stdout.split('\n')) if (line.startsWith('{')) console.log(line);
  if (r.status !== 0) {
    failed++;
    console.error(`bench ${file} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  }
}
process.exit(failed ? 1 : 0);
