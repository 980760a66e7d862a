"""iql-torch: Implicit Q-Learning in PyTorch, an independent reference for our fit-iql.

Written here from the IQL paper (Kostrikov, Nair & Levine 2021) in the single-file style of CORL's
algorithms/offline/iql.py, whose training protocol it follows (checked against that file):

  per step, on a minibatch (s, a, r, s', done) of `batch_size` rows drawn with replacement:
    v'     = V(s')                                           (no grad; V before this step's update)
    u      = min(Q1', Q2')(s, a) − V(s)                       (target nets Q', no grad on Q')
    L_V    = mean(|τ − 1(u < 0)| · u²)                        → V's own Adam
    y      = r + γ · (1 − done) · v'
    L_Q    = (mean((Q1(s,a) − y)²) + mean((Q2(s,a) − y)²)) / 2 → Q's own Adam (loss averaged over the twins)
    Q'     ← (1 − τ_polyak) Q' + τ_polyak Q
    joint protocol only (CORL):
    L_π    = mean(min(exp(β·u), 100) · −log π(a|s))           → actor's own Adam, lr cosine over `steps`
             π = N(tanh(f(s)), exp(clip(log σ, log_std_min, log_std_max))), u from the V step above

`protocol: joint` is CORL's (the actor learns alongside the critic, one step each); `protocol:
critic` trains only Q and V, the frozen-critic protocol of our pipeline (the policy is then
extracted by stages/extract_torch.py or by our extract-policy from this critic). The exported
critic holds the TARGET Q nets and V (what the actor update uses), in the artifact format of
docs/artifacts.md, so every stage that reads our critics reads this one.

Data: our dataset table (src/rl/data/dataset.ts) has one row per transition with its own
next_observations. `terminals` marks true terminal states (never in maze2d); `timeouts` marks the
last row of an episode cut by the time limit or, in our maze2d generator (as D4RL's), ended by
reaching the navigation target — the motion continues and the row's next_observations is the
true next state. `timeouts: drop` removes those rows (and the dataset's last row), as D4RL's
qlearning_dataset (terminate_on_end=False), which CORL uses, does: in D4RL files the next
observation of a timeout row is not known. `timeouts: keep` uses every row, as our fit-iql does.
Observations are standardised by the dataset statistics when `normalize_observations` (CORL's
`normalize: true`, (s − mean)/(std + 1e-3)); rewards are used as they are (CORL's maze2d config).

Runs on a GPU when one is visible (`device: auto`), else on the CPU with `threads` threads.
"""

import io
import math
import time

kind = "iql-torch"
version = "1"
description = "Implicit Q-Learning in PyTorch (CORL protocol: joint actor; or critic only), an independent reference"

params = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "steps": {"type": "integer", "minimum": 1, "default": 1000000, "description": "Gradient steps (CORL: 1M); also the actor's cosine horizon."},
        "protocol": {"enum": ["joint", "critic"], "default": "joint", "description": "joint: CORL's (actor trained with the critic); critic: Q and V only (extract afterwards)."},
        "hidden": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "default": [256, 256]},
        "activation": {"enum": ["relu", "mish", "gelu"], "default": "relu", "description": "gelu is the tanh approximation (as our nets)."},
        "layer_norm": {"type": "boolean", "default": False, "description": "LayerNorm (eps 1e-6) after each hidden linear layer, before the activation."},
        "normalize_observations": {"type": "boolean", "default": True, "description": "CORL's normalize: (s − mean)/(std + 1e-3) with the dataset's statistics."},
        "timeouts": {"enum": ["drop", "keep"], "default": "drop", "description": "drop: rows with timeouts = 1 (not terminal) and the last row are removed, as D4RL's qlearning_dataset (CORL); keep: every row is a transition (our fit-iql)."},
        "batch_size": {"type": "integer", "minimum": 1, "default": 256},
        "discount": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.99},
        "target_tau": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.005},
        "expectile": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.7},
        "critic_lr": {"type": "number", "exclusiveMinimum": 0, "default": 0.0003},
        "value_lr": {"type": "number", "exclusiveMinimum": 0, "default": 0.0003},
        "actor_lr": {"type": "number", "exclusiveMinimum": 0, "default": 0.0003},
        "beta": {"type": "number", "minimum": 0, "default": 3.0},
        "max_weight": {"type": "number", "exclusiveMinimum": 0, "default": 100.0},
        "log_std_min": {"type": "number", "default": -5.0, "description": "Official IQL and our extract-policy: −5 (CORL: −20)."},
        "log_std_max": {"type": "number", "default": 2.0},
        "log_every": {"type": "integer", "minimum": 1, "default": 1000},
        "checkpoint_every": {"type": "integer", "minimum": 1, "default": 10000},
        "device": {"enum": ["auto", "cpu", "cuda"], "default": "auto", "description": "auto: cuda when torch sees a GPU, else cpu."},
        "threads": {"type": "integer", "minimum": 1, "default": 1, "description": "CPU threads (torch.set_num_threads)."},
    },
}
inputs = {"dataset": {"description": "a load-dataset dataset table"}}
outputs = {
    "critic": {"description": "target Q1, Q2 and V (Arrow, format iql-critic)"},
    "policy": {"description": "the jointly trained Gaussian actor (format policy; protocol joint only)", "optional": True},
    "curve": {"description": "training metrics in long format: step, metric, value"},
}

CRITIC_METRICS = ("q1Loss", "q2Loss", "vLoss", "meanQ", "meanV", "advMean", "advStd")
ACTOR_METRICS = ("loss", "policyStd", "lr")


# -- data ---------------------------------------------------------------------------------------

def vectors(table, name):
    """A FixedSizeList<float32> column as an [n, d] float32 array."""
    import numpy as np

    col = table.column(name).combine_chunks()
    d = col.type.list_size
    return np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, d)


def load_transitions(table, timeouts: str) -> dict:
    """Our dataset table → arrays; `timeouts` as described at the top of this file."""
    import numpy as np

    data = {
        "obs": vectors(table, "observations"),
        "act": vectors(table, "actions"),
        "next_obs": vectors(table, "next_observations"),
        "rew": np.asarray(table.column("rewards").to_numpy(), dtype=np.float32),
        "done": np.asarray(table.column("terminals").to_numpy(), dtype=np.float32),
    }
    if timeouts == "drop":
        tout = np.asarray(table.column("timeouts").to_numpy(), dtype=np.float32)
        keep = ~((tout > 0) & (data["done"] == 0))
        keep[-1] = False
        data = {k: v[keep] for k, v in data.items()}
    return data


def dataset_input(ctx):
    """The stage's `dataset` input: its env id and its transitions (`timeouts` param applied)."""
    table = ctx.inputs["dataset"]
    return (table.schema.metadata or {}).get(b"env_id", b"").decode(), load_transitions(table, ctx.params["timeouts"])


# -- networks -----------------------------------------------------------------------------------

def mlp(sizes, activation: str, layer_norm: bool, out_act=None):
    """Linear → (LayerNorm) → activation per hidden layer; parameter order matches docs/artifacts.md."""
    from torch import nn

    act = {"relu": nn.ReLU, "mish": nn.Mish, "gelu": lambda: nn.GELU(approximate="tanh")}[activation]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            if layer_norm:
                layers.append(nn.LayerNorm(sizes[i + 1], eps=1e-6))
            layers.append(act())
    if out_act is not None:
        layers.append(out_act())
    return nn.Sequential(*layers)


def to_layers(net) -> list:
    """Parameters as artifact rows: Linear weights transposed to [in, out]."""
    return [p.detach().cpu().numpy().T if p.ndim == 2 else p.detach().cpu().numpy() for p in net.parameters()]


def load_layers(net, layers) -> None:
    import torch

    with torch.no_grad():
        for p, a in zip(net.parameters(), layers):
            p.copy_(torch.as_tensor(a.T if a.ndim == 2 else a))


class GaussianActor:
    """π(a|s) = N(tanh(f(s)), σ²), σ = exp(clip(log_std)), log_std state-independent (starts at 0)."""

    def __init__(self, obs_dim, act_dim, p, device):
        import torch

        self.net = mlp([obs_dim, *p["hidden"], act_dim], p["activation"], p["layer_norm"]).to(device)
        self.log_std = torch.zeros(act_dim, device=device, requires_grad=True)
        self.lo, self.hi = p["log_std_min"], p["log_std_max"]

    def parameters(self):
        return [*self.net.parameters(), self.log_std]

    def dist(self, obs):
        import torch

        return torch.distributions.Normal(torch.tanh(self.net(obs)), self.log_std.clamp(self.lo, self.hi).exp())


def awr_step(actor, opt, sched, obs, act, weights):
    """One AWR step: minimise mean(w · −log π(a|s)) (w already clipped)."""
    loss = (weights * -actor.dist(obs).log_prob(act).sum(-1)).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    lr = opt.param_groups[0]["lr"]
    sched.step()
    return {"loss": loss.detach(), "policyStd": actor.log_std.detach().clamp(actor.lo, actor.hi).exp().mean(), "lr": lr}


def make_actor_optim(actor, p, steps, lr_key="actor_lr"):
    import torch

    opt = torch.optim.Adam(actor.parameters(), lr=p[lr_key])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if p.get("lr_schedule", "cosine") == "cosine" else torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    return opt, sched


def policy_artifact(actor, obs_dim, act_dim, p, obs_norm, env_id):
    from iqlp.artifacts import Arch, policy_table

    return policy_table(to_layers(actor.net), method="awr", obs_dim=obs_dim, act_dim=act_dim, hidden=p["hidden"],
                        log_std=actor.log_std.detach().cpu().numpy(), log_std_min=p["log_std_min"], log_std_max=p["log_std_max"],
                        arch=Arch(p["activation"], p["layer_norm"]), obs_norm=obs_norm, extra={"env_id": env_id})


def pick_device(choice: str) -> str:
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda, but torch sees no GPU (torch.cuda.is_available() is False)")
    return "cuda" if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()) else "cpu"


# -- IQL ----------------------------------------------------------------------------------------

class IQL:
    def __init__(self, obs_dim, act_dim, p, device, joint: bool):
        import torch

        a, ln = p["activation"], p["layer_norm"]
        q_sizes, v_sizes = [obs_dim + act_dim, *p["hidden"], 1], [obs_dim, *p["hidden"], 1]
        self.q1, self.q2, self.v = (mlp(q_sizes, a, ln).to(device), mlp(q_sizes, a, ln).to(device), mlp(v_sizes, a, ln).to(device))
        self.q1_t, self.q2_t = mlp(q_sizes, a, ln).to(device), mlp(q_sizes, a, ln).to(device)
        self.q1_t.load_state_dict(self.q1.state_dict())
        self.q2_t.load_state_dict(self.q2.state_dict())
        for t in (self.q1_t, self.q2_t):
            t.requires_grad_(False)
        self.q_params = [*self.q1.parameters(), *self.q2.parameters()]
        self.t_params = [*self.q1_t.parameters(), *self.q2_t.parameters()]
        self.q_opt = torch.optim.Adam(self.q_params, lr=p["critic_lr"])
        self.v_opt = torch.optim.Adam(self.v.parameters(), lr=p["value_lr"])
        self.actor = GaussianActor(obs_dim, act_dim, p, device) if joint else None
        if joint:
            self.a_opt, self.a_sched = make_actor_optim(self.actor, p, p["steps"])
        self.p = p

    def step(self, s, a, r, s2, done):
        import torch

        p = self.p
        sa = torch.cat([s, a], 1)
        with torch.no_grad():
            next_v = self.v(s2).squeeze(-1)
            target_q = torch.minimum(self.q1_t(sa), self.q2_t(sa)).squeeze(-1)
        v = self.v(s).squeeze(-1)
        u = target_q - v
        v_loss = (torch.abs(p["expectile"] - (u < 0).float()) * u.square()).mean()
        self.v_opt.zero_grad(set_to_none=True)
        v_loss.backward()
        self.v_opt.step()

        y = r + p["discount"] * (1.0 - done) * next_v
        q1, q2 = self.q1(sa).squeeze(-1), self.q2(sa).squeeze(-1)
        q1_loss, q2_loss = (q1 - y).square().mean(), (q2 - y).square().mean()
        self.q_opt.zero_grad(set_to_none=True)
        ((q1_loss + q2_loss) / 2).backward()
        self.q_opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(self.t_params, self.q_params, p["target_tau"])

        adv = u.detach()
        m = {"q1Loss": q1_loss.detach(), "q2Loss": q2_loss.detach(), "vLoss": v_loss.detach(), "meanQ": target_q.mean(),
             "meanV": v.detach().mean(), "advMean": adv.mean(), "advStd": adv.std()}
        if self.actor is not None:
            w = torch.exp(p["beta"] * adv).clamp(max=p["max_weight"])
            m.update(awr_step(self.actor, self.a_opt, self.a_sched, s, a, w))
        return m

    def modules(self):
        mods = {"q1": self.q1, "q2": self.q2, "v": self.v, "q1_t": self.q1_t, "q2_t": self.q2_t, "q_opt": self.q_opt, "v_opt": self.v_opt}
        if self.actor is not None:
            mods.update({"actor": self.actor.net, "a_opt": self.a_opt, "a_sched": self.a_sched})
        return mods


# -- the training loop shared with extract_torch.py (checkpoints, metrics, cancellation) ----------

def blob_table(state: dict):
    """A torch.save'd dict as a one-row Arrow table (what the engine's checkpointer stores)."""
    import pyarrow as pa
    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return pa.table({"blob": pa.array([buf.getvalue()], pa.binary())})


def blob_state(table) -> dict:
    import torch

    return torch.load(io.BytesIO(table.column("blob")[0].as_py()), weights_only=False)


def train_loop(ctx, steps, step_fn, modules: dict, extra_state: dict, metrics: tuple, prefix: str):
    """Runs step_fn() `steps` times with resume, averaged metrics every log_every, checkpoints every
    checkpoint_every and when cancelled. `modules`: name → object with state_dict/load_state_dict;
    `extra_state`: name → (get, set) of other state (the sampling generator).
    Returns (curve table, last metrics, resumed_from, steps/s)."""
    import pyarrow as pa
    import torch

    p = ctx.params
    curve = {"step": [], "metric": [], "value": []}
    step = 0
    ck = ctx.checkpoint.latest()
    if ck is not None:
        state = blob_state(ck.tables["state"])
        for k, mod in modules.items():
            mod.load_state_dict(state["modules"][k])
        for k, v in state["extra"].items():
            extra_state[k][1](v)
        curve = {c: ck.tables["curve"].column(c).to_pylist() for c in curve}
        step = ck.step
        ctx.log(f"resumed from checkpoint at step {step}")
    resumed_from = step

    def save():
        state = {"modules": {k: m.state_dict() for k, m in modules.items()}, "extra": {k: get() for k, (get, _) in extra_state.items()}}
        ctx.checkpoint.save(step, {"state": blob_table(state), "curve": curve_table()})

    def curve_table():
        return pa.table({"step": pa.array(curve["step"], pa.int32()), "metric": pa.array(curve["metric"], pa.utf8()), "value": pa.array(curve["value"], pa.float64())})

    acc, last = {}, {}
    t0 = time.perf_counter()
    while step < steps:
        if ctx.cancelled:
            save()
            raise KeyboardInterrupt(f"stopped at step {step} (checkpoint saved)")
        m = step_fn()
        step += 1
        for k in metrics:
            acc.setdefault(k, []).append(m[k])
        if step % p["log_every"] == 0 or step == steps:
            for k, vals in acc.items():
                v = float(torch.stack([torch.as_tensor(x, dtype=torch.float64) for x in vals]).mean()) if vals else math.nan
                curve["step"].append(step)
                curve["metric"].append(k)
                curve["value"].append(v)
                last[k] = v
                ctx.metric(prefix + k, v, step)
            acc = {}
            ctx.progress(step, steps)
        if step % p["checkpoint_every"] == 0 and step < steps:
            save()
    rate = (steps - resumed_from) / max(time.perf_counter() - t0, 1e-9)
    return curve_table(), last, resumed_from, rate


def setup_torch(ctx):
    import numpy as np  # noqa: F401  (torch warns once without numpy)
    import torch

    p = ctx.params
    torch.set_num_threads(p["threads"])
    torch.manual_seed(ctx.seed)
    device = pick_device(p["device"])
    ctx.record("device", device)
    ctx.record("torch", torch.__version__)
    ctx.record("threads", torch.get_num_threads())
    ctx.log(f"torch {torch.__version__} on {device}" + (f" ({torch.get_num_threads()} threads)" if device == "cpu" else f" ({torch.cuda.get_device_name()})"))
    return torch, device


def run(ctx):
    torch, device = setup_torch(ctx)
    from iqlp.artifacts import Arch, ObsNorm, critic_table

    p = ctx.params
    env_id, data = dataset_input(ctx)
    n, obs_dim, act_dim = len(data["obs"]), data["obs"].shape[1], data["act"].shape[1]
    norm = ObsNorm.from_data(data["obs"]) if p["normalize_observations"] else None
    if norm is not None:
        data["obs"], data["next_obs"] = norm(data["obs"]), norm(data["next_obs"])
    ctx.log(f"{n} transitions ({p['timeouts']} timeouts), obs {obs_dim}, act {act_dim}")
    dev = {k: torch.as_tensor(v, device=device) for k, v in data.items()}

    joint = p["protocol"] == "joint"
    iql = IQL(obs_dim, act_dim, p, device, joint)
    gen = torch.Generator(device="cpu").manual_seed(ctx.seed)

    def step():
        i = torch.randint(n, (p["batch_size"],), generator=gen).to(device)
        return iql.step(dev["obs"][i], dev["act"][i], dev["rew"][i], dev["next_obs"][i], dev["done"][i])

    modules = iql.modules()
    if joint:
        modules["log_std"] = ParamHolder(iql.actor.log_std)
    extra = {"gen": (gen.get_state, gen.set_state)}
    curve, last, resumed, rate = train_loop(ctx, p["steps"], step, modules, extra, CRITIC_METRICS + (ACTOR_METRICS if joint else ()), "iql/")
    ctx.record("steps_per_second", rate)

    arch = Arch(p["activation"], p["layer_norm"])
    meta = {"env_id": env_id, "dataset_digest": ctx.artifacts["dataset"].digest, "implementation": "stages/iql_torch.py"}
    critic = critic_table(to_layers(iql.q1_t), to_layers(iql.q2_t), to_layers(iql.v), obs_dim=obs_dim, act_dim=act_dim,
                          hidden=p["hidden"], arch=arch, obs_norm=norm, extra=meta)
    out = {"critic": critic, "curve": curve}
    if joint:
        out["policy"] = policy_artifact(iql.actor, obs_dim, act_dim, p, norm, env_id)
    summary = {"q1_loss": last.get("q1Loss", math.nan), "v_loss": last.get("vLoss", math.nan), "mean_q": last.get("meanQ", math.nan),
               "mean_v": last.get("meanV", math.nan), "adv_std": last.get("advStd", math.nan), "steps_per_second": rate}
    if joint:
        summary["actor_loss"] = last.get("loss", math.nan)
    return {"outputs": out, "summary": summary}


class ParamHolder:
    """Gives a bare tensor parameter the state_dict interface the checkpoint code uses."""

    def __init__(self, t):
        self.t = t

    def state_dict(self):
        return {"t": self.t.detach().clone()}

    def load_state_dict(self, s):
        import torch

        with torch.no_grad():
            self.t.copy_(s["t"])
