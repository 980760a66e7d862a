/** Parameter schemas shared by several stage kinds. */

/** The tfjs backend a training or evaluation stage runs on (stages/lib/backend.ts selects it). */
export const backendParam = { enum: ['auto', 'node', 'wasm', 'cpu'], default: 'auto', description: 'tfjs backend; auto = native tfjs-node if installed, else wasm, else cpu. The backend actually used is recorded in the manifest.' } as const;
