"""``ctx``, what a Python stage's ``run(ctx)`` gets: the Python twin of the engine's StageContext.

    ctx.params        dict, defaults filled in and validated against the stage's schema
    ctx.seed          int
    ctx.inputs        name → pyarrow.Table (a ``many`` input: a list), read on first use
    ctx.artifacts     name → Artifact (path, digest, instance, matrix, params of the upstream)
    ctx.progress(step, total=None, note=None)    progress bar (throttled here)
    ctx.metric(name, value, step)                a training-curve point (journal, MLflow)
    ctx.log(message)                             a line in the stage log
    ctx.record(key, value)                       a fact for the manifest (device, versions)
    ctx.checkpoint.latest() / .save(step, tables, meta)   resumable training
    ctx.cancelled / ctx.check_cancelled()        the engine asked the stage to stop
    ctx.scratch_dir, ctx.instance, ctx.cache_key
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .arrow_io import map_table, read_table, write_table
from .protocol import Channel


class Cancelled(Exception):
    """Raised by ``ctx.check_cancelled()`` once the engine asked the stage to stop."""


@dataclass
class Artifact:
    """A committed upstream output (read-only)."""

    instance: str
    output: str
    path: str
    digest: str
    kind: str
    matrix: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def table(self):
        if self.kind != "table":
            raise TypeError(f"input {self.instance}.{self.output} is a file ({self.path}), not an Arrow table")
        return map_table(self.path)

    def bytes(self) -> bytes:
        with open(self.path, "rb") as f:
            return f.read()


@dataclass
class Checkpoint:
    step: int
    tables: dict
    meta: dict


class _Inputs(Mapping):
    """name → pyarrow.Table (or a list for ``many`` inputs), memory-mapped on first access."""

    def __init__(self, artifacts: dict):
        self._artifacts = artifacts
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str):
        if name not in self._cache:
            a = self._artifacts[name]
            self._cache[name] = [x.table() for x in a] if isinstance(a, list) else a.table()
        return self._cache[name]

    def __iter__(self):
        return iter(self._artifacts)

    def __len__(self) -> int:
        return len(self._artifacts)


class _Checkpointer:
    """Checkpoints go through the engine's store (atomic, digest-checked, newest two kept)."""

    def __init__(self, channel: Channel, scratch: str):
        self._ch = channel
        self._scratch = scratch
        self._seq = 0

    def latest(self) -> Checkpoint | None:
        reply = self._ch.request({"type": "checkpoint_latest"})
        ck = reply.get("checkpoint")
        if not ck:
            return None
        tables = {}
        for name, path in ck["tables"].items():
            tables[name] = read_table(path)
            os.remove(path)
        return Checkpoint(step=int(ck["step"]), tables=tables, meta=ck.get("meta") or {})

    def save(self, step: int, tables: dict, meta: dict | None = None) -> None:
        """Returns once the checkpoint is durable in the store."""
        self._seq += 1
        paths = {}
        for name, table in tables.items():
            p = os.path.join(self._scratch, f"checkpoint-{self._seq}-{len(paths)}.arrow")
            write_table(table, p)
            paths[name] = p
        try:
            self._ch.request({"type": "checkpoint_save", "step": int(step), "tables": paths, "meta": meta or {}})
        finally:
            for p in paths.values():
                if os.path.exists(p):
                    os.remove(p)


PROGRESS_INTERVAL_S = 0.1


class Context:
    def __init__(self, channel: Channel, start: dict):
        self._ch = channel
        self.params: dict = start["params"]
        self.seed: int = int(start["seed"])
        self.instance: str = start["instance"]
        self.cache_key: str = start["cache_key"]
        self.scratch_dir: str = start["scratch_dir"]
        self.artifacts: dict = {}
        for name, b in start["inputs"].items():
            items = [Artifact(**{k: i[k] for k in ("instance", "output", "path", "digest", "kind", "matrix", "params")}) for i in b["items"]]
            self.artifacts[name] = items if b["many"] else items[0]
        self.inputs = _Inputs(self.artifacts)
        self.checkpoint = _Checkpointer(channel, self.scratch_dir)
        self._last_progress = 0.0
        self._cancel_requested = False
        self._cancel_polled = False

    # -- reporting ---------------------------------------------------------------------------
    def progress(self, step: float, total: float | None = None, note: str | None = None) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S and step != total:
            return
        self._last_progress = now
        self._ch.send({"type": "progress", "step": step, "total": total, "note": note})

    def metric(self, name: str, value: float, step: int) -> None:
        self._ch.send({"type": "metric", "name": name, "value": float(value), "step": int(step)})

    def log(self, message: str) -> None:
        self._ch.send({"type": "log", "message": str(message)})

    def record(self, key: str, value: Any) -> None:
        self._ch.send({"type": "record", "key": key, "value": value})

    # -- cancellation ------------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        """True once the engine asked the stage to stop (Ctrl-C on the pipeline run).

        A stage that reads this is trusted to stop by itself (e.g. after saving a checkpoint);
        one that never does gets a KeyboardInterrupt at the signal instead.
        """
        self._cancel_polled = True
        return self._cancel_requested

    def check_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled("the engine asked the stage to stop")

    def _install_signal_handlers(self) -> None:
        def on_signal(signum, _frame):
            first = not self._cancel_requested
            self._cancel_requested = True
            if not first or not self._cancel_polled:
                raise KeyboardInterrupt(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
