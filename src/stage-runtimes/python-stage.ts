/** The module the engine imports to run a Python stage: `python-stage.js?spec=…` (module-url.ts). */
import { pythonKind, type PythonStageSpec } from './python-kind.js';
import { specFromModuleUrl } from './module-url.js';

export default pythonKind(specFromModuleUrl<PythonStageSpec>(import.meta.url));
