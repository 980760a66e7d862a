"""reference-report: our IQL against the PyTorch reference (pipelines/reference-iql.yaml).

For each arm (ours: fit-iql + extract-policy; and, when given, torch: iql_torch.py critic +
extract_torch.py, and torch-joint: CORL's protocol) over its critic seeds:

- score: each seed's mean D4RL-normalised evaluation score, then the mean over seeds with a 95%
  percentile-bootstrap interval (seeded; resampling seeds), and the difference of the arms' means
  with its own bootstrap interval (arms resampled independently: their seeds are unrelated);
- losses: the last logged value of each training metric, averaged over seeds (the Q loss as the
  mean of the twins' MSEs, as CORL logs it);
- speed: gradient steps per second of the critic and the actor, from each stage's manifest
  (`recorded.steps_per_second`, next to the artifact), averaged over seeds.

Writes a Markdown report and the same numbers as a table.
"""

import json
import math
import os

kind = "reference-report"
version = "1"
description = "Scores, losses and speed of our IQL vs the PyTorch reference, with bootstrap intervals over critic seeds"

params = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "resamples": {"type": "integer", "minimum": 100, "default": 20000},
        "confidence": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.95},
        "title": {"type": "string", "default": "Our IQL vs the PyTorch reference"},
        "describe": {
            "type": "object", "additionalProperties": False,
            "properties": {k: {"type": "string"} for k in ("ours", "torch", "torch-joint")},
            "description": "What each arm is, when a pipeline wires other stages into the inputs (e.g. our extractor on the PyTorch critics).",
        },
        "paired": {
            "type": "boolean", "default": False,
            "description": "The arms share their critics seed by seed (the i-th input of each arm comes from the same critic): differences are bootstrapped over seeds jointly (paired), not per arm.",
        },
    },
}
inputs = {
    "ours_eval": {"description": "evaluate episodes of our policies", "many": True},
    "ours_critic_curve": {"description": "fit-iql curves", "many": True},
    "ours_actor_curve": {"description": "extract-policy curves", "many": True},
    "torch_eval": {"description": "evaluate episodes of the PyTorch policies (frozen-critic protocol)", "many": True, "optional": True},
    "torch_critic_curve": {"description": "iql_torch.py curves", "many": True, "optional": True},
    "torch_actor_curve": {"description": "extract_torch.py curves", "many": True, "optional": True},
    "joint_eval": {"description": "evaluate episodes of the jointly trained PyTorch actors (CORL protocol)", "many": True, "optional": True},
    "joint_curve": {"description": "iql_torch.py curves of the joint protocol", "many": True, "optional": True},
}
outputs = {
    "table": {"description": "one row per arm: seeds, score mean and interval, final losses, steps/s"},
    "report": {"description": "the comparison in Markdown"},
}


def manifest_of(artifact) -> dict:
    """The manifest of the store entry an artifact belongs to (it sits next to the output file);
    empty outside a store (python -m iqlp.standalone), where no speed is known."""
    path = os.path.join(os.path.dirname(artifact.path), "manifest.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def seed_scores(artifacts) -> list:
    import numpy as np

    return [float(np.mean(a.table().column("score").to_numpy())) for a in artifacts]


def last_values(artifacts) -> dict:
    """metric → mean over seeds of its last logged value."""
    import numpy as np

    per = {}
    for a in artifacts:
        t = a.table()
        steps, names, vals = t.column("step").to_numpy(), t.column("metric").to_pylist(), t.column("value").to_numpy()
        last = {}
        for s, n, v in zip(steps, names, vals):
            if n not in last or s >= last[n][0]:
                last[n] = (s, v)
        for n, (_, v) in last.items():
            per.setdefault(n, []).append(v)
    out = {n: float(np.mean(v)) for n, v in per.items()}
    if "q1Loss" in out and "q2Loss" in out:
        out["qLoss"] = (out["q1Loss"] + out["q2Loss"]) / 2
    return out


def speed(artifacts) -> float:
    import numpy as np

    rates = [manifest_of(a).get("recorded", {}).get("steps_per_second") for a in artifacts]
    rates = [r for r in rates if isinstance(r, (int, float))]
    return float(np.mean(rates)) if rates else math.nan


def bootstrap_mean(rng, xs, resamples, conf):
    import numpy as np

    x = np.asarray(xs, float)
    means = x[rng.integers(0, len(x), (resamples, len(x)))].mean(1)
    lo, hi = np.quantile(means, [(1 - conf) / 2, (1 + conf) / 2])
    return float(x.mean()), float(lo), float(hi)


def bootstrap_diff(rng, xs, ys, resamples, conf):
    import numpy as np

    x, y = np.asarray(xs, float), np.asarray(ys, float)
    d = x[rng.integers(0, len(x), (resamples, len(x)))].mean(1) - y[rng.integers(0, len(y), (resamples, len(y)))].mean(1)
    lo, hi = np.quantile(d, [(1 - conf) / 2, (1 + conf) / 2])
    return float(x.mean() - y.mean()), float(lo), float(hi)


def bootstrap_paired_diff(rng, xs, ys, resamples, conf):
    """Difference of means when xs[i] and ys[i] come from the same critic: the per-critic
    differences resampled as one sample, so the critic-to-critic variance cancels."""
    import numpy as np

    return bootstrap_mean(rng, np.asarray(xs, float) - np.asarray(ys, float), resamples, conf)


def fmt(v, digits=2):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def run(ctx):
    import numpy as np
    import pyarrow as pa

    p = ctx.params
    rng = np.random.default_rng(ctx.seed)
    A = ctx.artifacts
    what = {"ours": "fit-iql + extract-policy awr (frozen critic)",
            "torch": "iql_torch.py (critic) + extract_torch.py (frozen critic)",
            "torch-joint": "iql_torch.py, CORL protocol (actor trained jointly)", **p.get("describe", {})}
    arms = [("ours", what["ours"], A["ours_eval"], A["ours_critic_curve"], A["ours_actor_curve"])]
    if A.get("torch_eval"):
        arms.append(("torch", what["torch"], A["torch_eval"], A.get("torch_critic_curve") or [], A.get("torch_actor_curve") or []))
    if A.get("joint_eval"):
        arms.append(("torch-joint", what["torch-joint"], A["joint_eval"], A.get("joint_curve") or [], []))

    rows, scores = [], {}
    for name, what, evals, ccurves, acurves in arms:
        s = seed_scores(evals)
        scores[name] = s
        mean, lo, hi = bootstrap_mean(rng, s, p["resamples"], p["confidence"])
        c, a = last_values(ccurves), last_values(acurves) if acurves else {}
        rows.append({
            "arm": name, "what": what, "seeds": len(s), "score_mean": mean, "score_lo": lo, "score_hi": hi,
            "score_std": float(np.std(s, ddof=1)) if len(s) > 1 else math.nan, "scores": s,
            "q_loss": c.get("qLoss", math.nan), "v_loss": c.get("vLoss", math.nan), "mean_q": c.get("meanQ", math.nan),
            "adv_std": c.get("advStd", math.nan),
            "actor_loss": (a or c).get("loss", math.nan), "policy_std": (a or c).get("policyStd", math.nan),
            "critic_steps_per_s": speed(ccurves), "actor_steps_per_s": speed(acurves) if acurves else math.nan,
        })
    if p["paired"] and len({len(v) for v in scores.values()}) > 1:
        raise ValueError(f"paired: every arm needs the same number of seeds, got { {k: len(v) for k, v in scores.items()} }")
    diff = bootstrap_paired_diff if p["paired"] else bootstrap_diff
    diffs = [(f"{x} − {y}", *diff(rng, scores[x], scores[y], p["resamples"], p["confidence"]))
             for x, y in (("ours", "torch"), ("ours", "torch-joint"), ("torch", "torch-joint")) if x in scores and y in scores]

    pct = round(p["confidence"] * 100)
    pairing = ("the arms share their critics seed by seed, so differences are paired (seeds resampled jointly)"
               if p["paired"] else "differences resample each arm's seeds independently")
    lines = [f"# {p['title']}", "",
             f"Normalised evaluation score per arm: mean over critic seeds with a {pct}% bootstrap interval "
             f"({p['resamples']} resamples of the seeds; {pairing}); losses are the last logged values averaged over seeds; "
             "speed is gradient steps per second of each stage on this machine.", "",
             "| arm | seeds | score (mean [interval]) | per seed | Q loss | V loss | actor loss | policy σ | critic steps/s | actor steps/s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['arm']} | {r['seeds']} | {fmt(r['score_mean'])} [{fmt(r['score_lo'])}, {fmt(r['score_hi'])}] | "
                     f"{', '.join(fmt(x, 1) for x in r['scores'])} | {fmt(r['q_loss'], 4)} | {fmt(r['v_loss'], 4)} | "
                     f"{fmt(r['actor_loss'], 3)} | {fmt(r['policy_std'], 3)} | {fmt(r['critic_steps_per_s'], 1)} | {fmt(r['actor_steps_per_s'], 1)} |")
    lines += ["", "| difference | mean | interval | intervals overlap 0? |", "|---|---|---|---|"]
    for name, d, lo, hi in diffs:
        lines.append(f"| {name} | {fmt(d)} | [{fmt(lo)}, {fmt(hi)}] | {'yes' if lo <= 0 <= hi else 'NO'} |")
    lines += ["", "Arms:"] + [f"- **{r['arm']}**: {r['what']}" for r in rows]
    report = "\n".join(lines) + "\n"
    ctx.log(report)

    cols = [k for k in rows[0] if k not in ("scores",)]
    table = pa.table({k: [r[k] for r in rows] for k in cols})
    summary = {f"score_{r['arm'].replace('-', '_')}": r["score_mean"] for r in rows}
    for name, d, lo, hi in diffs:
        key = "diff_" + name.replace(" − ", "_").replace("-", "_")
        summary.update({key: d, f"{key}_lo": lo, f"{key}_hi": hi})
    return {"outputs": {"table": table, "report": {"bytes": report.encode(), "ext": "md"}}, "summary": summary}
