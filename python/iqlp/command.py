"""Helpers for scripts run by a command stage (``uses: command``): report to the engine with
``::iqlp::`` lines on stdout (src/stage-runtimes/events.ts), read the parameters and the state dir.

    from iqlp import command
    params = command.params()                 # the stage's `with:` values
    for step in range(n):
        ...
        command.progress(step + 1, n)
        command.metric("loss", loss, step + 1)
    command.summary("final_loss", loss)

Any program can print the same lines; this module only spares writing them by hand.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from .protocol import jsonable

PREFIX = "::iqlp::"


def emit(event: dict) -> None:
    sys.stdout.write(PREFIX + json.dumps(jsonable(event), allow_nan=False) + "\n")
    sys.stdout.flush()


def progress(step: float, total: float | None = None, note: str | None = None) -> None:
    emit({"type": "progress", "step": step, "total": total, "note": note})


def metric(name: str, value: float, step: int) -> None:
    emit({"type": "metric", "name": name, "value": float(value), "step": int(step)})


def summary(name: str, value: float) -> None:
    emit({"type": "summary", "name": name, "value": float(value)})


def record(key: str, value: Any) -> None:
    emit({"type": "record", "key": key, "value": value})


def resumed(step: int) -> None:
    """Tell the engine the program resumed from its own checkpoint (shown in the stage log)."""
    emit({"type": "resumed", "step": int(step)})


def params() -> dict:
    """The stage's parameters (its `with:` values after templates and overrides)."""
    with open(os.environ["IQLP_PARAMS_FILE"], encoding="utf-8") as f:
        return json.load(f)


def state_dir() -> str:
    """A directory that survives a killed run (keep checkpoints here); removed once the result is stored."""
    return os.environ["IQLP_STATE_DIR"]
