/**
 * Output files an external program wrote → the values a stage returns. `.arrow` files must be
 * Arrow IPC files (pyarrow's `ipc.new_file`, our `tableToIPC(t, 'file')`) and become tables, so
 * downstream stages read them like any native output; any other extension is stored as is.
 * Nothing here touches the store: the engine commits what the stage returns, atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decodeTable } from '../store/arrow-io.js';
import type { OutputValue } from '../engine/stage.js';

export interface DeclaredOutput {
  /** File extension without the dot; `arrow` means an Arrow table. */
  ext: string;
  optional?: boolean;
}

export const TABLE_EXT = 'arrow';

/** Reads one output file; a file that claims to be a table but is not says so, with its path. */
export function readOutputFile(name: string, path: string, ext: string): OutputValue {
  const bytes = new Uint8Array(readFileSync(path));
  if (ext !== TABLE_EXT) return { bytes, ext };
  try {
    return decodeTable(bytes);
  } catch (e) {
    throw new Error(`output '${name}' (${path}) is not an Arrow IPC file: ${(e as Error).message}`);
  }
}

/** Reads every declared output from `pathOf(name)`; a missing required one is an error. */
export function collectOutputs(declared: Record<string, DeclaredOutput>, pathOf: (name: string) => string, who: string): Record<string, OutputValue> {
  const out: Record<string, OutputValue> = {};
  for (const [name, d] of Object.entries(declared)) {
    const path = pathOf(name);
    if (!existsSync(path)) {
      if (d.optional) continue;
      throw new Error(`${who} did not write its output '${name}' (expected at ${path})`);
    }
    out[name] = readOutputFile(name, path, d.ext);
  }
  return out;
}
