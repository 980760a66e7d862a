"""The policy and critic artifacts of iql-pipeline, in Python (docs/artifacts.md is the format).

A weights table has one row per tensor — ``name: utf8``, ``shape: list<int32>``,
``values: list<float32>`` (row-major) — and describes the network in its schema metadata (string
values, JSON-encoded when not strings). The engine's side is src/rl/nn/serialize.ts,
src/rl/algos/policy.ts and critic.ts; this module reads and writes the same tables with numpy, so
a policy trained in PyTorch is evaluated by the ``evaluate`` stage and ours load here.

    policy = Policy.from_table(table); actions = policy.act(observations)
    table = policy_table(layers, method="awr", log_std=..., obs_norm=..., env_id=...)
    critic = Critic.from_table(table); q1, q2 = critic.q(obs, act); v = critic.v(obs)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

ACTIVATIONS = ("relu", "mish", "gelu")
LAYER_NORM_EPS = 1e-6  # flax's default, as src/rl/nn/dense.ts
OBS_NORM_EPS = 1e-3  # CORL's normalize_states epsilon, as src/rl/algos/obs-norm.ts
POLICY_METHODS = ("awr", "ddpg", "awr-discrete")


# -- weights tables -----------------------------------------------------------------------------

def weights_table(named: dict, metadata: dict | None = None):
    """Named arrays (insertion order kept) + metadata → the weights table."""
    import pyarrow as pa

    names, shapes, values = [], [], []
    for name, a in named.items():
        a = np.asarray(a, dtype=np.float32)
        names.append(name)
        shapes.append(np.asarray(a.shape, dtype=np.int32))
        values.append(np.ascontiguousarray(a).reshape(-1))

    def list_array(parts, typ):
        offsets = np.zeros(len(parts) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([len(p) for p in parts])
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=typ.to_pandas_dtype())
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(flat, typ)).cast(
            pa.list_(pa.field("item", typ, nullable=False)))

    meta = {k: v if isinstance(v, str) else json.dumps(_plain(v)) for k, v in (metadata or {}).items()}
    schema = pa.schema([
        pa.field("name", pa.utf8(), nullable=False),
        pa.field("shape", pa.list_(pa.field("item", pa.int32(), nullable=False)), nullable=False),
        pa.field("values", pa.list_(pa.field("item", pa.float32(), nullable=False)), nullable=False),
    ], metadata=meta)
    return pa.Table.from_arrays([pa.array(names, pa.utf8()), list_array(shapes, pa.int32()), list_array(values, pa.float32())], schema=schema)


def read_metadata(table) -> dict:
    """Schema metadata with JSON values decoded where they parse (plain strings otherwise)."""
    out = {}
    for k, v in (table.schema.metadata or {}).items():
        k, v = k.decode(), v.decode()
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


def read_weights(table) -> dict:
    """name → float32 array of its shape (copied out of Arrow memory)."""
    for col in ("name", "shape", "values"):
        if col not in table.column_names:
            raise ValueError(f"weights table needs columns name, shape, values (has {', '.join(table.column_names)})")
    out = {}
    for name, shape, values in zip(table.column("name").to_pylist(), table.column("shape").to_pylist(), table.column("values").to_numpy(zero_copy_only=False)):
        a = np.asarray(values, dtype=np.float32)
        if math.prod(shape) != a.size:
            raise ValueError(f"weights row {name!r}: shape {shape} needs {math.prod(shape)} values, got {a.size}")
        out[name] = a.reshape(shape).copy()
    return out


def _open(table, formats: tuple, what: str):
    """(metadata, weights) of a table whose `format` is one of `formats`."""
    meta = read_metadata(table)
    if meta.get("format") not in formats:
        raise ValueError(f"not a {what} table (format {meta.get('format')!r}, expected {' or '.join(formats)})")
    return meta, read_weights(table)


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, np.generic):
        return v.item()
    return v


# -- networks -----------------------------------------------------------------------------------

@dataclass
class Arch:
    activation: str = "relu"
    layer_norm: bool = False

    @staticmethod
    def from_metadata(meta: dict, prefix: str = "") -> "Arch":
        act = meta.get(prefix + "activation", "relu")
        ln = meta.get(prefix + "layerNorm", False)
        if act not in ACTIVATIONS:
            raise ValueError(f"metadata {prefix}activation is {act!r}, expected one of {', '.join(ACTIVATIONS)}")
        if not isinstance(ln, bool):
            raise ValueError(f"metadata {prefix}layerNorm is {ln!r}, expected true or false")
        return Arch(act, ln)

    def metadata(self) -> dict:
        return {"activation": self.activation, "layerNorm": self.layer_norm}


def mlp_names(sizes: Sequence[int], arch: Arch) -> list:
    """Row names of one MLP: l0/W, l0/b, (l0/ln_scale, l0/ln_bias,) l1/W, …"""
    names = []
    for l in range(len(sizes) - 1):
        names += [f"l{l}/W", f"l{l}/b"]
        if arch.layer_norm and l + 2 < len(sizes):
            names += [f"l{l}/ln_scale", f"l{l}/ln_bias"]
    return names


def mlp_shapes(sizes: Sequence[int], arch: Arch) -> list:
    shapes = []
    for l in range(len(sizes) - 1):
        shapes += [(sizes[l], sizes[l + 1]), (sizes[l + 1],)]
        if arch.layer_norm and l + 2 < len(sizes):
            shapes += [(sizes[l + 1],), (sizes[l + 1],)]
    return shapes


def _activate(n: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(n, 0)
    if activation == "mish":
        return n * np.tanh(np.logaddexp(0, n))
    return 0.5 * n * (1 + np.tanh(math.sqrt(2 / math.pi) * (n + 0.044715 * n ** 3)))  # gelu, tanh form


class MLP:
    """Hidden layer: z = x·W + b → LayerNorm (optional) → activation; the output layer is linear."""

    def __init__(self, sizes: Sequence[int], params: Sequence[np.ndarray], arch: Arch):
        self.sizes, self.arch = list(sizes), arch
        self.params = [np.asarray(p, dtype=np.float32) for p in params]
        for p, shape, name in zip(self.params, mlp_shapes(sizes, arch), mlp_names(sizes, arch)):
            if p.shape != tuple(shape):
                raise ValueError(f"{name} has shape {p.shape}, expected {tuple(shape)}")

    @staticmethod
    def from_weights(w: dict, prefix: str, sizes: Sequence[int], arch: Arch) -> "MLP":
        missing = [n for n in mlp_names(sizes, arch) if f"{prefix}/{n}" not in w]
        if missing:
            raise ValueError(f"weights table has no row {prefix}/{missing[0]}")
        return MLP(sizes, [w[f"{prefix}/{n}"] for n in mlp_names(sizes, arch)], arch)

    def named(self, prefix: str) -> dict:
        return {f"{prefix}/{n}": p for n, p in zip(mlp_names(self.sizes, self.arch), self.params)}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        it = iter(self.params)
        layers = len(self.sizes) - 1
        for l in range(layers):
            W, b = next(it), next(it)
            x = x @ W + b
            if l == layers - 1:
                break
            if self.arch.layer_norm:
                scale, bias = next(it), next(it)
                mu = x.mean(-1, keepdims=True)
                var = ((x - mu) ** 2).mean(-1, keepdims=True)
                x = (x - mu) / np.sqrt(var + LAYER_NORM_EPS) * scale + bias
            x = _activate(x, self.arch.activation)
        return x


@dataclass
class ObsNorm:
    """CORL's normalize_states: s ↦ (s − mean) / std, std = dataset std + eps."""

    mean: np.ndarray
    std: np.ndarray
    eps: float = OBS_NORM_EPS

    @staticmethod
    def from_data(observations: np.ndarray, eps: float = OBS_NORM_EPS) -> "ObsNorm":
        o = np.asarray(observations, dtype=np.float64)
        return ObsNorm(o.mean(0).astype(np.float32), (o.std(0) + eps).astype(np.float32), eps)

    @staticmethod
    def from_metadata(meta: dict, obs_dim: int) -> "ObsNorm | None":
        m = meta.get("obsNorm")
        if m is None:
            return None
        mean, std = np.asarray(m["mean"], np.float32), np.asarray(m["std"], np.float32)
        if mean.shape != (obs_dim,) or std.shape != (obs_dim,) or not (std > 0).all():
            raise ValueError(f"metadata obsNorm needs mean and positive std of {obs_dim} numbers")
        return ObsNorm(mean, std, float(m.get("eps", OBS_NORM_EPS)))

    def metadata(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "eps": self.eps}

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return ((np.asarray(obs, np.float32) - self.mean) / self.std).astype(np.float32)


# -- policies -----------------------------------------------------------------------------------

class Policy:
    """A policy artifact (format 'policy'): the MLP from (normalised) observations to

    - awr: the mean of a Gaussian, tanh(MLP(s)), with a state-independent log σ (``log_std`` row,
      clipped to [logStdMin, logStdMax]); deterministic acting uses the mean;
    - ddpg: the action tanh(MLP(s));
    - awr-discrete: logits [actDim, bins]; bin k of a dimension stands for
      actLow + k (actHigh − actLow)/(bins − 1); deterministic acting takes the argmax.
    """

    def __init__(self, meta: dict, weights: dict):
        self.meta = meta
        self.method = str(meta.get("method"))
        if self.method not in POLICY_METHODS:
            raise ValueError(f"policy table: unknown method {self.method!r}")
        self.obs_dim, self.act_dim = int(meta["obsDim"]), int(meta["actDim"])
        self.hidden = [int(h) for h in meta["hidden"]]
        self.bins = int(meta.get("bins", 21))
        self.act_low, self.act_high = float(meta.get("actLow", -1)), float(meta.get("actHigh", 1))
        self.arch = Arch.from_metadata(meta)
        self.obs_norm = ObsNorm.from_metadata(meta, self.obs_dim)
        out = self.act_dim * self.bins if self.method == "awr-discrete" else self.act_dim
        self.mlp = MLP.from_weights(weights, "pi", [self.obs_dim, *self.hidden, out], self.arch)
        self.log_std = None
        if self.method == "awr":
            ls = weights.get("log_std")
            if ls is None or ls.shape != (self.act_dim,):
                raise ValueError(f"policy table: an awr policy needs a log_std row of shape ({self.act_dim},)")
            self.log_std = np.clip(ls, float(meta.get("logStdMin", -5)), float(meta.get("logStdMax", 2)))

    @staticmethod
    def from_table(table) -> "Policy":
        return Policy(*_open(table, ("policy", "extract-state"), "policy"))

    def act(self, obs: np.ndarray, deterministic: bool = True, rng: np.random.Generator | None = None) -> np.ndarray:
        obs = np.asarray(obs, np.float32).reshape(-1, self.obs_dim)
        x = self.obs_norm(obs) if self.obs_norm else obs
        y = self.mlp(x)
        if self.method == "awr-discrete":
            logits = y.reshape(-1, self.act_dim, self.bins)
            if deterministic:
                k = logits.argmax(-1)
            else:
                p = np.exp(logits - logits.max(-1, keepdims=True))
                p /= p.sum(-1, keepdims=True)
                u = (rng or np.random.default_rng()).random(p.shape[:-1] + (1,))
                k = np.minimum((p.cumsum(-1) < u).sum(-1), self.bins - 1)
            return (self.act_low + k * (self.act_high - self.act_low) / (self.bins - 1)).astype(np.float32)
        mean = np.tanh(y)
        if deterministic or self.method == "ddpg":
            return mean
        noise = (rng or np.random.default_rng()).standard_normal(mean.shape).astype(np.float32)
        return np.clip(mean + np.exp(self.log_std) * noise, -1, 1)


def policy_table(layers: Sequence[np.ndarray], *, method: str = "awr", obs_dim: int, act_dim: int, hidden: Sequence[int],
                 log_std: np.ndarray | None = None, log_std_min: float = -5.0, log_std_max: float = 2.0,
                 bins: int = 21, act_low: float = -1.0, act_high: float = 1.0, arch: Arch | None = None,
                 obs_norm: ObsNorm | None = None, extra: dict | None = None):
    """A policy table from MLP parameters in row order (W as [in, out]: torch's ``weight.T``)."""
    arch = arch or Arch()
    out = act_dim * bins if method == "awr-discrete" else act_dim
    mlp = MLP([obs_dim, *hidden, out], layers, arch)
    named = mlp.named("pi")
    if method == "awr":
        if log_std is None:
            raise ValueError("an awr policy needs log_std")
        named["log_std"] = np.asarray(log_std, np.float32).reshape(act_dim)
    meta = {"format": "policy", "version": 2, "method": method, "obsDim": obs_dim, "actDim": act_dim, "hidden": list(hidden),
            "logStdMin": log_std_min, "logStdMax": log_std_max, "bins": bins, "actLow": act_low, "actHigh": act_high,
            **arch.metadata(), "obsNorm": obs_norm.metadata() if obs_norm else None, **(extra or {})}
    return weights_table(named, meta)


# -- critics ------------------------------------------------------------------------------------

class Critic:
    """An IQL critic artifact (format 'iql-critic'): twin Q(s, a) on [normalised s, a] and V(s).
    Rows q1/…, q2/…, v/…; IQL state checkpoints ('iql-state') keep the target nets under target/."""

    def __init__(self, meta: dict, weights: dict):
        self.meta = meta
        self.obs_dim, self.act_dim = int(meta["obsDim"]), int(meta["actDim"])
        self.hidden = [int(h) for h in meta["hidden"]]
        self.arch = Arch.from_metadata(meta)
        self.obs_norm = ObsNorm.from_metadata(meta, self.obs_dim)
        q = "target/" if meta.get("format") == "iql-state" else ""
        qs, vs = [self.obs_dim + self.act_dim, *self.hidden, 1], [self.obs_dim, *self.hidden, 1]
        self.q1 = MLP.from_weights(weights, f"{q}q1", qs, self.arch)
        self.q2 = MLP.from_weights(weights, f"{q}q2", qs, self.arch)
        self.v_net = MLP.from_weights(weights, "v", vs, self.arch)

    @staticmethod
    def from_table(table) -> "Critic":
        return Critic(*_open(table, ("iql-critic", "iql-state"), "critic"))

    def _obs(self, obs):
        obs = np.asarray(obs, np.float32).reshape(-1, self.obs_dim)
        return self.obs_norm(obs) if self.obs_norm else obs

    def q(self, obs: np.ndarray, act: np.ndarray):
        sa = np.concatenate([self._obs(obs), np.asarray(act, np.float32).reshape(-1, self.act_dim)], 1)
        return self.q1(sa)[:, 0], self.q2(sa)[:, 0]

    def v(self, obs: np.ndarray) -> np.ndarray:
        return self.v_net(self._obs(obs))[:, 0]


def critic_table(q1: Sequence[np.ndarray], q2: Sequence[np.ndarray], v: Sequence[np.ndarray], *, obs_dim: int, act_dim: int,
                 hidden: Sequence[int], arch: Arch | None = None, obs_norm: ObsNorm | None = None, extra: dict | None = None):
    """A critic table from the three MLPs' parameters in row order (W as [in, out])."""
    arch = arch or Arch()
    qs, vs = [obs_dim + act_dim, *hidden, 1], [obs_dim, *hidden, 1]
    named = {**MLP(qs, q1, arch).named("q1"), **MLP(qs, q2, arch).named("q2"), **MLP(vs, v, arch).named("v")}
    meta = {"format": "iql-critic", "version": 2, "obsDim": obs_dim, "actDim": act_dim, "hidden": list(hidden),
            **arch.metadata(), "obsNorm": obs_norm.metadata() if obs_norm else None, **(extra or {})}
    return weights_table(named, meta)
