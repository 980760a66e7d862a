import type { StageContext } from '../../src/engine/stage.js';

export type BackendParam = 'auto' | 'node' | 'wasm' | 'cpu';

/** Selects the tfjs backend before any model code runs, and records the choice in the manifest. */
export async function useBackend(ctx: StageContext<unknown>, param: BackendParam): Promise<void> {
  const { initBackend } = await import('../../src/rl/nn/backend.js');
  const backend = await initBackend(param === 'auto' ? undefined : param);
  ctx.record('backend', backend);
  const threads = backend.threads ? ` (${backend.threads} thread${backend.threads === 1 ? '' : 's'})` : '';
  ctx.log(`tfjs backend: ${backend.name}${threads}`);
}
