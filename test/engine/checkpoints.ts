/** What a test can see of a store's checkpoints from outside the process that writes them. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Steps of every checkpoint under `<dir>/artifacts/checkpoints`, all entries together. */
export function checkpointSteps(dir: string): number[] {
  const base = join(dir, 'artifacts', 'checkpoints');
  if (!existsSync(base)) return [];
  return readdirSync(base).flatMap((k) => readdirSync(join(base, k)).filter((n) => n.startsWith('step-')).map((n) => Number(n.slice(5))));
}
