"""iqlp: the Python side of iql-pipeline.

- Python stage kinds: a module with ``kind``, ``version``, ``description``, ``params`` (JSON
  Schema), ``inputs``, ``outputs`` and ``run(ctx)``; the engine runs it through ``iqlp.runner``
  and ``ctx`` (``iqlp.context.Context``) gives inputs as ``pyarrow.Table``, params, seed,
  progress, metrics, log, checkpoints and cancellation.
- Command stages: ``iqlp.command`` reports progress and metrics from any script.
- Artifacts: ``iqlp.artifacts`` reads and writes the policy / critic weight tables
  (docs/artifacts.md).
"""

__version__ = "0.1.0"

from .context import Cancelled  # noqa: E402,F401
