"""The pipe between a Python stage and the engine: line-delimited JSON.

- engine → stage, on stdin: first ``{"type": "start", ...}`` (what to run), then replies to
  requests ``{"type": "reply", "id": n, ...}``. stdin closing means the engine is gone (killed):
  the stage process exits at once, so no orphan keeps training and writing checkpoints.
- stage → engine, on file descriptor 3: events (progress, metric, log, summary, record; the
  vocabulary of src/stage-runtimes/events.ts), requests (``checkpoint_latest``,
  ``checkpoint_save``, answered on stdin) and the final ``done`` or ``error``.

stdout and stderr stay free for the user's prints; the engine streams them to the stage log.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from typing import Any


def jsonable(v: Any) -> Any:
    """numpy scalars and arrays → Python numbers and lists; non-finite floats → None."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        return jsonable(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class Channel:
    """Messages out on fd 3, replies in on stdin (read by a daemon thread)."""

    def __init__(self, out_fd: int = 3):
        self._out = os.fdopen(out_fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()
        self._replies: dict[int, dict] = {}
        self._cond = threading.Condition()
        self._next_id = 0

    def read_start(self) -> dict:
        line = sys.stdin.readline()
        if not line:
            os._exit(70)  # the engine went away before sending anything
        msg = json.loads(line)
        if msg.get("type") != "start":
            raise RuntimeError(f"iqlp: expected a start message, got {msg.get('type')!r}")
        threading.Thread(target=self._read_replies, name="iqlp-replies", daemon=True).start()
        return msg

    def _read_replies(self) -> None:
        for line in sys.stdin:
            msg = json.loads(line)
            with self._cond:
                self._replies[int(msg["id"])] = msg
                self._cond.notify_all()
        # stdin closed: the engine died (kill -9) or dropped us. Stop now, mid-step if need be:
        # nothing this process writes from here on could be committed anyway.
        os._exit(75)

    def send(self, msg: dict) -> None:
        line = json.dumps(jsonable(msg), allow_nan=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def request(self, msg: dict) -> dict:
        """Sends a request and blocks until the engine answers it."""
        with self._cond:
            self._next_id += 1
            rid = self._next_id
        self.send({**msg, "id": rid})
        with self._cond:
            while rid not in self._replies:
                self._cond.wait()
            reply = self._replies.pop(rid)
        if reply.get("error"):
            raise RuntimeError(f"engine: {reply['error']}")
        return reply
