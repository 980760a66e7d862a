/** The module the engine imports to run a command stage: `command-stage.js?spec=…` (module-url.ts). */
import { commandKind } from './command-kind.js';
import type { CommandSpec } from './command-spec.js';
import { specFromModuleUrl } from './module-url.js';

export default commandKind(specFromModuleUrl<CommandSpec>(import.meta.url));
