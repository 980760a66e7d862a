"""Runs a Python stage module for the engine (src/stage-runtimes/python-kind.ts starts it):

    python -m iqlp.runner describe path/to/stage.py   → prints the module's declarations as JSON
    python -m iqlp.runner run path/to/stage.py        → runs ``run(ctx)`` over the protocol

A stage module declares, at top level, like a JavaScript stage kind:

    kind = "my-stage"; version = "1"; description = "..."
    params = {...JSON Schema...}; inputs = {"dataset": {"description": "..."}}
    outputs = {"model": {"description": "..."}}
    def run(ctx): ... return {"outputs": {"model": pyarrow_table}, "summary": {"score": 1.0}}

An output is a ``pyarrow.Table`` or ``{"bytes": b"...", "ext": "png"}``. Keep top-level imports
light (the engine describes every stage of a pipeline to validate it): import torch inside run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback

DESCRIBE_MARK = "::iqlp-describe::"
FIELDS = ("kind", "version", "description", "params", "inputs", "outputs")


def load_module(path: str):
    path = os.path.abspath(path)
    name = "iqlp_stage_" + "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    sys.path.insert(0, os.path.dirname(path))  # sibling helper modules import as usual
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def user_frame(tb, path: str):
    """The innermost traceback frame in the stage's own file (else the innermost of all)."""
    frames = traceback.extract_tb(tb)
    real = os.path.realpath(path)
    mine = [f for f in frames if os.path.realpath(f.filename) == real]
    return (mine or frames or [None])[-1]


def without_runner(tb):
    """The traceback from the user's code on (this module's own frames say nothing to the user)."""
    here = os.path.realpath(__file__)
    while tb is not None and tb.tb_next is not None and os.path.realpath(tb.tb_frame.f_code.co_filename) == here:
        tb = tb.tb_next
    return tb


def describe_error(e: BaseException, path: str) -> dict:
    frame = user_frame(e.__traceback__, path)
    file, line, func = (frame.filename, frame.lineno, frame.name) if frame else (path, None, None)
    if isinstance(e, SyntaxError) and e.filename:
        file, line, func = e.filename, e.lineno, None
    return {
        "type": "error",
        "exception": type(e).__name__,
        "message": str(e),
        "file": file,
        "line": line,
        "function": func,
        "traceback": "".join(traceback.format_exception(type(e), e, without_runner(e.__traceback__))),
    }


def describe(path: str) -> int:
    try:
        module = load_module(path)
        desc = {f: getattr(module, f, None) for f in FIELDS}
        desc["has_run"] = callable(getattr(module, "run", None))
        line = json.dumps(desc)
    except BaseException as e:  # noqa: BLE001 — every failure is reported to the engine
        line = json.dumps(describe_error(e, path))
    sys.stdout.flush()
    print(DESCRIBE_MARK + line, flush=True)
    return 0


def write_outputs(result, declared: dict, scratch: str) -> dict:
    from .arrow_io import write_table

    if not isinstance(result, dict) or not isinstance(result.get("outputs"), dict):
        raise TypeError('run(ctx) must return {"outputs": {name: pyarrow.Table, ...}, "summary": {...}}')
    out = {}
    for name, value in result["outputs"].items():
        if name not in declared:
            raise KeyError(f"run(ctx) returned undeclared output {name!r} (declared: {', '.join(declared) or 'none'})")
        if isinstance(value, dict) and "bytes" in value and "ext" in value:
            p = os.path.join(scratch, f"output-{name}.{value['ext']}")
            with open(p, "wb") as f:
                f.write(value["bytes"])
            out[name] = {"path": p, "ext": value["ext"]}
        elif hasattr(value, "schema") and hasattr(value, "num_rows"):
            p = os.path.join(scratch, f"output-{name}.arrow")
            write_table(value, p)
            out[name] = {"path": p, "ext": "arrow"}
        else:
            raise TypeError(f"output {name!r} must be a pyarrow.Table or {{'bytes': ..., 'ext': ...}}, got {type(value).__name__}")
    return out


def run(path: str) -> int:
    from .context import Context
    from .protocol import Channel

    channel = Channel()
    start = channel.read_start()
    ctx = Context(channel, start)
    ctx._install_signal_handlers()
    try:
        module = load_module(path)
        result = module.run(ctx)
        outputs = write_outputs(result, getattr(module, "outputs", {}) or {}, ctx.scratch_dir)
        summary = {}
        for k, v in (result.get("summary") or {}).items():
            try:
                summary[str(k)] = float(v)
            except (TypeError, ValueError):
                raise TypeError(f"summary value {k!r} must be a number, got {type(v).__name__}") from None
        channel.send({"type": "done", "outputs": outputs, "summary": summary})
        return 0
    except BaseException as e:  # noqa: BLE001 — KeyboardInterrupt (cancel) included
        channel.send(describe_error(e, path))
        return 130 if isinstance(e, KeyboardInterrupt) else 1


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("describe", "run"):
        print("usage: python -m iqlp.runner describe|run <stage.py>", file=sys.stderr)
        return 2
    return describe(argv[1]) if argv[0] == "describe" else run(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
