"""JAX-CPU reference for speed comparison (issue 14): our IQL critic step (src/rl/algos/iql.ts) written
the way JAX code is written, the whole update in one jax.jit, at configurable sizes.

One step on a minibatch of B rows drawn inside the jitted update (jax.random.randint) from `rows`
random transitions held as arrays:

    y    = r + γ(1 − done)·V(s')                               (V before this step's update, no grad)
    L_V  = mean(|τ − 1(u ≤ 0)|·u²),  u = min(Q1', Q2')(s, a) − V(s)    (target nets, no grad)
    L_Q  = mean((Q1(s, a) − y)²) + mean((Q2(s, a) − y)²)
    one Adam (PyTorch's form: ε added to √v̂, lr 3e-4) over [Q1, Q2, V] on ∇(L_Q + L_V);
    Q' ← Q' + 0.005·(Q − Q')

Networks: Dense → (LayerNorm, flax's ε 1e-6) → activation on each hidden layer, linear output;
relu | mish (x·tanh(softplus x)) | gelu (jax.nn.gelu's default tanh approximation); init as
PyTorch's nn.Linear (U(±1/√fan_in)). The twin Q nets are one stacked parameter tree run with
jax.vmap (as the official IQL code's ensemble), or two nets with --twin separate. Adam and Polyak are
written out with jax.tree.map (no optax: jax[cpu] is all the venv needs). The state is donated to
the jitted update, so XLA updates the parameters in place.

One thread: XLA_FLAGS gets --xla_cpu_multi_thread_eigen=false and intra_op_parallelism_threads=1
before jax is imported (what JAX's own docs and issues give for single-threaded CPU runs); the JSON
line reports cpu_per_wall, the process's CPU seconds per wall second over the timed steps (≈ 1.0:
one busy thread). --pin CPU also restricts the process to that CPU (sched_setaffinity, as taskset).

--seeds K (issue 14, "K seeds per step"): K independent critics (own initial weights, own minibatch
draws) as one program: every state leaf gets a leading seed axis and the update is jax.vmap'ed over
it inside the one jit, so each layer is one batched matmul over the K seeds. `iql_steps_per_s` is
then batched steps/s; `seed_steps_per_s` = K × that, the figure to set against a K = 1 run.

Prints one JSON line. Usage:
  bench/.venv/bin/python bench/jax/iql_ref.py [--hidden 256,256] [--activation relu] [--layer-norm]
      [--batch 256] [--steps 300] [--warmup 20] [--threads 1] [--twin vmap|separate] [--pin CPU] [--seeds K]
"""

import argparse
import json
import math
import os
import sys
import time

OBS, ACT = 4, 2
GAMMA, POLYAK, EXPECTILE, LR = 0.99, 0.005, 0.7, 3e-4
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
LN_EPS = 1e-6


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--activation", choices=["relu", "mish", "gelu"], default="relu")
    ap.add_argument("--layer-norm", action="store_true")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="1: the single-thread XLA flags; more: XLA's default thread pool")
    ap.add_argument("--twin", choices=["vmap", "separate"], default="vmap")
    ap.add_argument("--pin", type=int, default=None, help="restrict the process to this CPU (as taskset -c CPU)")
    ap.add_argument("--seeds", type=int, default=1, help="K critics in one vmap'ed program (leading seed axis)")
    return ap.parse_args()


def parse_from_env() -> argparse.Namespace:
    """Imported (check_ref.py): the sizes come from IQL_REF_ARGS, e.g. "--hidden 32,32 --layer-norm"."""
    ap_args = os.environ.get("IQL_REF_ARGS", "").split()
    saved, sys.argv = sys.argv, [sys.argv[0], *ap_args]
    try:
        return parse()
    finally:
        sys.argv = saved


args = parse() if __name__ == "__main__" else parse_from_env()
if args.pin is not None:
    os.sched_setaffinity(0, {args.pin})
if args.threads == 1:
    flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

HIDDEN = [int(h) for h in args.hidden.split(",")]
B = args.batch


def act_fn(x: jax.Array) -> jax.Array:
    if args.activation == "relu":
        return jax.nn.relu(x)
    if args.activation == "mish":
        return x * jnp.tanh(jax.nn.softplus(x))
    return jax.nn.gelu(x)  # approximate=True: the tanh form, as ours


def init_mlp(key: jax.Array, sizes: list[int]) -> list[dict]:
    layers = []
    for i in range(len(sizes) - 1):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1 / math.sqrt(sizes[i])
        layer = {
            "W": jax.random.uniform(kw, (sizes[i], sizes[i + 1]), jnp.float32, -bound, bound),
            "b": jax.random.uniform(kb, (sizes[i + 1],), jnp.float32, -bound, bound),
        }
        if args.layer_norm and i < len(sizes) - 2:
            layer["g"] = jnp.ones((sizes[i + 1],), jnp.float32)
            layer["beta"] = jnp.zeros((sizes[i + 1],), jnp.float32)
        layers.append(layer)
    return layers


def mlp(params: list[dict], x: jax.Array) -> jax.Array:
    for layer in params[:-1]:
        x = x @ layer["W"] + layer["b"]
        if args.layer_norm:
            mean = jnp.mean(x, -1, keepdims=True)
            var = jnp.mean(jnp.square(x - mean), -1, keepdims=True)
            x = (x - mean) * jax.lax.rsqrt(var + LN_EPS) * layer["g"] + layer["beta"]
        x = act_fn(x)
    last = params[-1]
    return x @ last["W"] + last["b"]


def twin(q, x: jax.Array) -> jax.Array:
    """Both Q nets on x: [2, B]."""
    if args.twin == "vmap":
        return jax.vmap(mlp, in_axes=(0, None))(q, x)[..., 0]
    return jnp.stack([mlp(q[0], x)[:, 0], mlp(q[1], x)[:, 0]])


def init_state(key: jax.Array) -> dict:
    k1, k2, k3, k4 = jax.random.split(key, 4)
    q_sizes, v_sizes = [OBS + ACT, *HIDDEN, 1], [OBS, *HIDDEN, 1]
    q1, q2 = init_mlp(k1, q_sizes), init_mlp(k2, q_sizes)
    q = jax.tree.map(lambda a, b: jnp.stack([a, b]), q1, q2) if args.twin == "vmap" else [q1, q2]
    params = {"q": q, "v": init_mlp(k3, v_sizes)}
    zeros = jax.tree.map(jnp.zeros_like, params)
    return {
        "params": params,
        "target": jax.tree.map(jnp.copy, params["q"]),
        "m": zeros,
        "v": jax.tree.map(jnp.zeros_like, params),
        "t": jnp.zeros((), jnp.int32),
        "key": k4,
    }


def make_data(key: jax.Array, rows: int) -> dict:
    k = jax.random.split(key, 5)
    done = (jax.random.uniform(k[4], (rows,)) < 0.001).astype(jnp.float32)
    return {
        "obs": jax.random.normal(k[0], (rows, OBS)),
        "act": jax.random.uniform(k[1], (rows, ACT), minval=-1, maxval=1),
        "rew": jax.random.normal(k[2], (rows,)),
        "next_obs": jax.random.normal(k[3], (rows, OBS)),
        "gmask": GAMMA * (1 - done),  # γ(1 − done), precomputed as ours
    }


def update(state: dict, data: dict) -> tuple[dict, jax.Array]:
    """One IQL step on a minibatch drawn inside the jitted function."""
    key, sub = jax.random.split(state["key"])
    i = jax.random.randint(sub, (B,), 0, data["obs"].shape[0])
    return update_on(state, data, i, key)


def update_on(state: dict, data: dict, i: jax.Array, key: jax.Array) -> tuple[dict, jax.Array]:
    """One IQL step on rows i (check_ref.py feeds the same rows to the PyTorch reference)."""
    s, a, r = data["obs"][i], data["act"][i], data["rew"][i]
    s2, gmask = data["next_obs"][i], data["gmask"][i]
    sa = jnp.concatenate([s, a], 1)
    p = state["params"]
    y = r + gmask * mlp(p["v"], s2)[:, 0]  # V before this step's update; outside the gradient
    q_t = jnp.min(twin(state["target"], sa), 0)

    def loss_fn(params: dict) -> tuple[jax.Array, jax.Array]:
        q_loss = jnp.sum(jnp.mean(jnp.square(twin(params["q"], sa) - y), 1))
        u = q_t - mlp(params["v"], s)[:, 0]
        v_loss = jnp.mean(jnp.where(u > 0, EXPECTILE, 1 - EXPECTILE) * jnp.square(u))
        return q_loss + v_loss, q_loss

    (loss, _), g = jax.value_and_grad(loss_fn, has_aux=True)(p)
    t = state["t"] + 1
    m = jax.tree.map(lambda m, g: BETA1 * m + (1 - BETA1) * g, state["m"], g)
    v = jax.tree.map(lambda v, g: BETA2 * v + (1 - BETA2) * jnp.square(g), state["v"], g)
    tf = t.astype(jnp.float32)
    bc1, bc2 = 1 - BETA1**tf, 1 - BETA2**tf
    params = jax.tree.map(lambda p, m, v: p - LR * (m / bc1) / (jnp.sqrt(v / bc2) + EPS), p, m, v)
    target = jax.tree.map(lambda qt, q: qt + POLYAK * (q - qt), state["target"], params["q"])
    return {"params": params, "target": target, "m": m, "v": v, "t": t, "key": key}, loss


def main() -> None:
    key = jax.random.PRNGKey(args.seed)
    kd, ks = jax.random.split(key)
    data = jax.block_until_ready(make_data(kd, args.rows))
    if args.seeds == 1:
        state = init_state(ks)
        step = jax.jit(update, donate_argnums=(0,))
    else:
        state = jax.vmap(init_state)(jax.random.split(ks, args.seeds))
        step = jax.jit(jax.vmap(update, in_axes=(0, None)), donate_argnums=(0,))

    t0 = time.perf_counter()
    state, loss = step(state, data)
    loss.block_until_ready()
    compile_s = time.perf_counter() - t0
    for _ in range(args.warmup):
        state, loss = step(state, data)
    loss.block_until_ready()

    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        state, loss = step(state, data)
    loss.block_until_ready()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0

    print(
        json.dumps(
            {
                "bench": "jax-iql",
                "threads": args.threads,
                "iql_steps_per_s": round(args.steps / wall, 2),
                "seeds": args.seeds,
                "seed_steps_per_s": round(args.seeds * args.steps / wall, 2),
                "cpu_per_wall": round(cpu / wall, 3),
                "compile_s": round(compile_s, 2),
                "jax": jax.__version__,
                "device": str(jax.devices()[0]),
                "xla_flags": os.environ.get("XLA_FLAGS", ""),
                "pinned_cpu": args.pin,
                "twin": args.twin,
                "steps": args.steps,
                "warmup": args.warmup,
                "rows": args.rows,
                "batch": B,
                "hidden": HIDDEN,
                "activation": args.activation,
                "layer_norm": args.layer_norm,
                "finite": bool(jnp.all(jnp.isfinite(loss))),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
