"""Checks that the JAX and PyTorch references compute the same IQL step: from the same weights and the
same minibatch rows, a few steps of bench/jax/iql_ref.py's jitted update and of bench/torch/iql_ref.py's
IQLCritic.step must leave the same online nets, target nets and V (float32 rounding apart), for
relu, LayerNorm + mish and gelu. Both are written from src/rl/algos/iql.ts's equations; this keeps
the two peers honest with each other (the speed comparison means something only if they do the same
work). Prints one JSON line; exits 1 on a mismatch.

Usage: bench/.venv/bin/python bench/jax/check_ref.py
"""

import importlib.util
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    {"activation": "relu", "layer_norm": False},
    {"activation": "mish", "layer_norm": True},
    {"activation": "gelu", "layer_norm": False},
]
HIDDEN, BATCH, ROWS, STEPS, TOL = [32, 32], 64, 500, 3, 1e-4


def load(name: str, path: str, env_args: str):
    os.environ["IQL_REF_ARGS"] = env_args
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    tref = load("torch_ref", os.path.join(HERE, "..", "torch", "iql_ref.py"), "")
    results, ok = [], True
    for case in CASES:
        flags = f"--hidden {','.join(map(str, HIDDEN))} --batch {BATCH} --activation {case['activation']}" + (" --layer-norm" if case["layer_norm"] else "")
        jref = load(f"jax_ref_{case['activation']}", os.path.join(HERE, "iql_ref.py"), flags)
        import jax
        import jax.numpy as jnp

        tref.SIZES, tref.ACTIVATION, tref.LAYER_NORM, tref.BATCH = HIDDEN, case["activation"], case["layer_norm"], BATCH
        key = jax.random.PRNGKey(0)
        data = jref.make_data(key, ROWS)
        state = jref.init_state(jax.random.PRNGKey(1))
        critic = tref.IQLCritic()

        def to_torch(net: torch.nn.Sequential, layers: list[dict]) -> None:
            linears = [m for m in net if isinstance(m, torch.nn.Linear)]
            norms = [m for m in net if isinstance(m, torch.nn.LayerNorm)]
            with torch.no_grad():
                for lin, layer in zip(linears, layers):
                    lin.weight.copy_(torch.from_numpy(np.asarray(layer["W"]).T.copy()))
                    lin.bias.copy_(torch.from_numpy(np.asarray(layer["b"]).copy()))
                for ln, layer in zip(norms, layers):
                    ln.weight.copy_(torch.from_numpy(np.asarray(layer["g"]).copy()))
                    ln.bias.copy_(torch.from_numpy(np.asarray(layer["beta"]).copy()))

        twin = lambda tree, k: jax.tree.map(lambda x: x[k], tree)  # noqa: E731
        to_torch(critic.q1, twin(state["params"]["q"], 0))
        to_torch(critic.q2, twin(state["params"]["q"], 1))
        to_torch(critic.v, state["params"]["v"])
        to_torch(critic.q1_t, twin(state["target"], 0))
        to_torch(critic.q2_t, twin(state["target"], 1))

        class Rows:
            rows = ROWS
            obs = torch.from_numpy(np.asarray(data["obs"]).copy())
            act = torch.from_numpy(np.asarray(data["act"]).copy())
            rew = torch.from_numpy(np.asarray(data["rew"]).copy())
            next_obs = torch.from_numpy(np.asarray(data["next_obs"]).copy())
            done = torch.from_numpy((np.asarray(data["gmask"]) < 0.5 * tref.GAMMA).astype(np.float32))
            i = None

            def idx(self):
                return self.i

        d = Rows()
        step = jax.jit(jref.update_on)
        rng = np.random.default_rng(2)
        for _ in range(STEPS):
            i = rng.integers(0, ROWS, BATCH)
            state, _ = step(state, data, jnp.asarray(i, jnp.int32), state["key"])
            d.i = torch.from_numpy(i)
            critic.step(d)

        def worst(net: torch.nn.Sequential, layers: list[dict]) -> float:
            linears = [m for m in net if isinstance(m, torch.nn.Linear)]
            diffs = []
            for lin, layer in zip(linears, layers):
                w = np.asarray(layer["W"]).T
                diffs.append(float(np.max(np.abs(lin.weight.detach().numpy() - w)) / (np.max(np.abs(w)) + 1e-12)))
            return max(diffs)

        d_case = {
            "q1": worst(critic.q1, twin(state["params"]["q"], 0)),
            "q2": worst(critic.q2, twin(state["params"]["q"], 1)),
            "v": worst(critic.v, state["params"]["v"]),
            "q1_target": worst(critic.q1_t, twin(state["target"], 0)),
        }
        # The step must have moved the weights (the comparison is not of two untouched copies).
        moved = float(np.max(np.abs(np.asarray(state["params"]["v"][0]["W"]) - np.asarray(jref.init_state(jax.random.PRNGKey(1))["params"]["v"][0]["W"]))))
        good = max(d_case.values()) < TOL and moved > 1e-5
        ok = ok and good
        results.append({**case, "max_rel_diff": {k: float(f"{v:.2e}") for k, v in d_case.items()}, "moved": float(f"{moved:.2e}"), "ok": good})
    print(json.dumps({"bench": "check-ref", "steps": STEPS, "hidden": HIDDEN, "batch": BATCH, "tolerance": TOL, "cases": results, "ok": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
