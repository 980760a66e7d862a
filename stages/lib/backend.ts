import type { FromSchema } from 'json-schema-to-ts';
import type { StageContext } from '../../src/engine/stage.js';
import type { backendParam } from '../params/common.js';

export type BackendParam = FromSchema<typeof backendParam>;

/** Selects the tfjs backend before any model code runs, and records the choice in the manifest. */
export async function useBackend(ctx: Pick<StageContext, 'record' | 'log'>, param: BackendParam): Promise<void> {
  const { initBackend } = await import('../../src/rl/nn/backend.js');
  const backend = await initBackend(param === 'auto' ? undefined : param);
  ctx.record('backend', backend);
  const threads = backend.threads ? ` (${backend.threads} thread${backend.threads === 1 ? '' : 's'})` : '';
  ctx.log(`tfjs backend: ${backend.name}${threads}`);
}
