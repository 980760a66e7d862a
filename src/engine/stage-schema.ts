import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonSchema } from './stage.js';

let root: string | undefined;

/** The project root (the directory with package.json and schemas/), found from this module's location
 * so that it works both from compiled dist/ files and from sources run with tsx. */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the project root (package.json + schemas/) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Reads `schemas/stages/<kind>.json`, the parameter schema of a built-in stage kind. */
export function loadStageSchema(kind: string): JsonSchema {
  const file = join(projectRoot(), 'schemas', 'stages', `${kind}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
}
