"""Runs one Python stage outside the engine, for debugging it or running it where no Node is:

    python -m iqlp.standalone stages/iql_torch.py --input dataset=data.arrow \\
        --params '{"steps": 2000, "device": "cuda"}' --seed 0 --out results/

It plays the engine's side of the protocol (python/iqlp/protocol.py) over the same runner the
engine starts (``python -m iqlp.runner run``): inputs are Arrow files given by path, checkpoints
go to ``OUT/checkpoints/`` (so a second call with the same OUT resumes, as in the engine), events
are printed one per line, and on success the outputs land in ``OUT/<name>.<ext>`` with the
summary, the records and the metrics in ``OUT/result.json``. Nothing here is cached or
committed: it is the stage's code on its own, not a pipeline run.

Exit status: 0 done; 1 the stage raised (its traceback is printed); 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from .arrow_io import read_table, write_table


def parse_inputs(pairs: list[str]) -> dict:
    inputs = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--input wants name=path.arrow, got {pair!r}")
        if not os.path.isfile(path):
            raise SystemExit(f"--input {name}: no file {path}")
        item = {"instance": f"file:{path}", "output": name, "path": os.path.abspath(path), "digest": "",
                "kind": "table" if path.endswith(".arrow") else "file", "matrix": {}, "params": {}}
        inputs.setdefault(name, []).append(item)
    return {n: {"many": len(items) > 1, "items": items} for n, items in inputs.items()}


class Checkpoints:
    """The newest checkpoint in OUT/checkpoints/<step>/ (tables as Arrow files, meta.json)."""

    def __init__(self, root: str, scratch: str):
        self.root, self.scratch = root, scratch
        os.makedirs(root, exist_ok=True)

    def latest(self):
        steps = sorted(int(d) for d in os.listdir(self.root) if d.isdigit())
        if not steps:
            return None
        d = os.path.join(self.root, str(steps[-1]))
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
        tables = {}
        for i, name in enumerate(meta["tables"]):
            p = os.path.join(self.scratch, f"resume-{i}.arrow")
            shutil.copyfile(os.path.join(d, f"{i}.arrow"), p)  # the runner removes what it reads
            tables[name] = p
        return {"step": steps[-1], "meta": meta["meta"], "tables": tables}

    def save(self, step: int, tables: dict, meta: dict) -> None:
        tmp = tempfile.mkdtemp(dir=self.root, prefix=".tmp-")
        for i, path in enumerate(tables.values()):
            write_table(read_table(path), os.path.join(tmp, f"{i}.arrow"))
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump({"tables": list(tables), "meta": meta}, f)
        final = os.path.join(self.root, str(step))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in sorted((int(d) for d in os.listdir(self.root) if d.isdigit()))[:-2]:  # newest two kept
            shutil.rmtree(os.path.join(self.root, str(old)), ignore_errors=True)


def with_defaults(stage: str, params: dict) -> dict:
    """The engine validates ``with:`` against the module's schema and fills its defaults; so does this."""
    from .runner import load_module

    schema = getattr(load_module(stage), "params", None) or {}
    props = schema.get("properties", {})
    unknown = sorted(set(params) - set(props)) if schema.get("additionalProperties") is False else []
    if unknown:
        raise SystemExit(f"--params: unknown parameter(s) {', '.join(unknown)} for {stage} (known: {', '.join(sorted(props))})")
    return {**{k: v["default"] for k, v in props.items() if "default" in v}, **params}


def show(msg: dict) -> str:
    t = msg.get("type")
    if t == "progress":
        total = msg.get("total")
        return f"progress {msg.get('step')}" + (f"/{total}" if total else "") + (f"  {msg['note']}" if msg.get("note") else "")
    if t == "metric":
        return f"metric   {msg.get('name')}={msg.get('value')} @ {msg.get('step')}"
    if t == "log":
        return f"log      {msg.get('message')}"
    return f"{t:<8} {json.dumps({k: v for k, v in msg.items() if k != 'type'})}"


def run(stage: str, inputs: dict, params: dict, seed: int, out: str, quiet_progress: bool) -> int:
    os.makedirs(out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="iqlp-standalone-")
    checkpoints = Checkpoints(os.path.join(out, "checkpoints"), scratch)
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The runner writes its messages on fd 3: move our pipe's write end there in the child.
    def messages_on_fd3() -> None:
        os.dup2(write_fd, 3)  # dup2 leaves the copy inheritable

    child = subprocess.Popen([sys.executable, "-m", "iqlp.runner", "run", stage], stdin=subprocess.PIPE, env=env, text=True,
                             pass_fds=(write_fd, 3), preexec_fn=messages_on_fd3)  # 3 kept: close_fds runs after preexec_fn
    os.close(write_fd)
    lock = threading.Lock()

    def reply(rid: int, body: dict) -> None:
        with lock:
            child.stdin.write(json.dumps({"type": "reply", "id": rid, **body}) + "\n")
            child.stdin.flush()

    child.stdin.write(json.dumps({"type": "start", "params": params, "seed": seed, "instance": os.path.basename(stage),
                                  "cache_key": "standalone", "scratch_dir": scratch, "inputs": inputs}) + "\n")
    child.stdin.flush()
    end: dict = {}
    records, metrics = {}, []
    with os.fdopen(read_fd, encoding="utf-8") as messages:
        for line in messages:
            msg = json.loads(line)
            t = msg.get("type")
            if t in ("done", "error"):
                end = msg
                continue
            if t == "checkpoint_latest":
                reply(msg["id"], {"checkpoint": checkpoints.latest()})
                continue
            if t == "checkpoint_save":
                checkpoints.save(int(msg["step"]), msg["tables"], msg.get("meta") or {})
                reply(msg["id"], {"ok": True})
                continue
            if t == "record":
                records[msg.get("key")] = msg.get("value")
            if t == "metric":
                metrics.append({k: msg.get(k) for k in ("name", "value", "step")})
            if not (quiet_progress and t == "progress"):
                print(show(msg), flush=True)
    child.stdin.close()
    code = child.wait()
    try:
        if end.get("type") == "error":
            print(f"\nthe stage raised {end.get('exception')}: {end.get('message')} ({end.get('file')}:{end.get('line')})\n{end.get('traceback', '')}", file=sys.stderr)
            return 1
        if end.get("type") != "done" or code != 0:
            print(f"the stage process exited with status {code} without a result", file=sys.stderr)
            return 1
        written = {}
        for name, o in end["outputs"].items():
            dest = os.path.join(out, f"{name}.{o['ext']}")
            shutil.move(o["path"], dest)
            written[name] = dest
        with open(os.path.join(out, "result.json"), "w") as f:
            json.dump({"outputs": written, "summary": end.get("summary", {}), "records": records, "metrics": metrics}, f, indent=1)
        print(f"done     outputs: {', '.join(f'{k} → {v}' for k, v in written.items())}; summary {json.dumps(end.get('summary', {}))}")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m iqlp.standalone", description="Run one Python stage outside the engine.")
    p.add_argument("stage", help="the stage module (a .py file declaring kind, params, inputs, outputs, run)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=PATH", help="an input as an Arrow file (repeat a name for a many-input)")
    p.add_argument("--params", default="{}", help="the stage's with: as JSON; the module's schema defaults fill the rest")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="folder for the outputs, result.json and checkpoints/ (reusing it resumes)")
    p.add_argument("--quiet-progress", action="store_true", help="do not print progress events")
    a = p.parse_args(argv)
    try:
        params = json.loads(a.params)
    except json.JSONDecodeError as e:
        print(f"--params is not JSON: {e}", file=sys.stderr)
        return 2
    return run(a.stage, parse_inputs(a.input), with_defaults(a.stage, params), a.seed, a.out, a.quiet_progress)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
