"""PyTorch-CPU reference for speed comparison (issue 7): IQL critic step and AWR actor step at the
sizes of our tfjs implementation's maze2d defaults: obs 4, act 2, 2×256 ReLU MLPs, batch 256, Adam 3e-4.
Issue 14: --hidden, --activation (relu | mish | gelu, tanh approximation as ours), --layer-norm
(Linear → LayerNorm(ε 1e-6) → activation on each hidden layer, as ours) and --batch set the sizes;
--iql-only skips the AWR measurements. The defaults are the original sizes.
--seeds K (issue 14, "K seeds per step"; implies --iql-only): K independent critics as one program,
the ensemble idiom of torch.func: each net's parameters stacked along a leading seed axis
(stack_module_state), the forward vmap'ed over it (functional_call), so each layer is one batched
matmul for the K seeds; each seed draws its own minibatch; the loss is the sum of the K per-seed
losses (so each seed's gradient is its own), and one Adam over the stacked tensors is K Adams.
`iql_steps_per_s` is then batched steps/s and `seed_steps_per_s` K × that.
--device cuda runs it on a GPU (torch.set_default_device; the data is drawn on the CPU and moved),
for bench/torch/gpu-check.sh's K-seed rows; the default is the CPU.

Our own small reference, written for this benchmark (same maths as src/rl/algos/iql.ts and
extract.ts, plain idiomatic PyTorch eager mode):

  IQL step on a minibatch drawn with torch.randint from 1M random rows:
    y    = r + γ(1 − done)·V(s')                      (no grad; V before this step's update)
    L_Q  = mean((Q1(s,a) − y)²) + mean((Q2(s,a) − y)²)
    L_V  = mean(|τ − 1(u < 0)|·u²),  u = min(Q1', Q2')(s,a) − V(s)   (target nets, no grad)
    one Adam over [Q1, Q2, V] on L_Q + L_V; Q' ← Q' + 0.005·(Q − Q')

  AWR step with a frozen critic (target Q1', Q2' and V):
    w    = min(exp(β·(min(Q1', Q2')(s,a) − V(s))), 100)   β = 3
    π    = N(tanh(f(s)), exp(clip(log σ, −5, 2))), log σ a state-independent parameter
    L    = −mean(w · log π(a|s)); Adam 3e-4 with a cosine-decayed learning rate
  measured two ways: `awr` evaluates the frozen critic on each minibatch; `awr_pre` gathers weights
  precomputed once for all rows (what our extractor does by default for long runs).

Prints one JSON line (cpu_per_wall: the process's CPU seconds per wall second over the timed IQL
steps, ≈ 1.0 for one busy thread). Usage:
  bench/.venv/bin/python bench/torch/iql_ref.py --threads 1 [--steps 300] [--hidden 512,512,512
      --activation mish --layer-norm --batch 1024 --iql-only]
"""

import argparse
import copy
import json
import math
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
from torch import nn  # noqa: E402

OBS, ACT, HIDDEN, BATCH = 4, 2, 256, 256
GAMMA, POLYAK, EXPECTILE, LR = 0.99, 0.005, 0.7, 3e-4
BETA, MAX_W, LOG_STD_MIN, LOG_STD_MAX = 3.0, 100.0, -5.0, 2.0


SIZES = [HIDDEN, HIDDEN]  # hidden layers (--hidden)
ACTIVATION = "relu"  # --activation
LAYER_NORM = False  # --layer-norm
DEVICE = "cpu"  # --device


def activation() -> nn.Module:
    return {"relu": nn.ReLU, "mish": nn.Mish, "gelu": lambda: nn.GELU(approximate="tanh")}[ACTIVATION]()


def mlp(inp: int, out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in SIZES:
        layers.append(nn.Linear(inp, h))
        if LAYER_NORM:
            layers.append(nn.LayerNorm(h, eps=1e-6))
        layers.append(activation())
        inp = h
    return nn.Sequential(*layers, nn.Linear(inp, out))


class Data:
    """Random transitions kept as whole tensors; a minibatch is an index_select of random rows."""

    def __init__(self, rows: int, gen: torch.Generator):
        self.rows = rows
        cpu = {"generator": gen, "device": "cpu"}
        self.obs = torch.randn(rows, OBS, **cpu).to(DEVICE)
        self.act = (torch.rand(rows, ACT, **cpu) * 2 - 1).to(DEVICE)
        self.rew = torch.randn(rows, **cpu).to(DEVICE)
        self.next_obs = torch.randn(rows, OBS, **cpu).to(DEVICE)
        self.done = (torch.rand(rows, **cpu) < 0.001).float().to(DEVICE)

    def idx(self) -> torch.Tensor:
        return torch.randint(self.rows, (BATCH,))


def adam_then_polyak(opt: torch.optim.Optimizer, loss: torch.Tensor, target: list, online: list) -> torch.Tensor:
    """One Adam step on the loss, then the target nets' Polyak move towards the online ones."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
        torch._foreach_lerp_(target, online, POLYAK)
    return loss.detach()


class IQLCritic:
    def __init__(self):
        self.q1, self.q2, self.v = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1), mlp(OBS, 1)
        self.q1_t, self.q2_t = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
        self.q1_t.load_state_dict(self.q1.state_dict())
        self.q2_t.load_state_dict(self.q2.state_dict())
        for p in [*self.q1_t.parameters(), *self.q2_t.parameters()]:
            p.requires_grad_(False)
        self.online = [*self.q1.parameters(), *self.q2.parameters()]
        self.target = [*self.q1_t.parameters(), *self.q2_t.parameters()]
        self.opt = torch.optim.Adam([*self.online, *self.v.parameters()], lr=LR)

    def step(self, d: Data) -> torch.Tensor:
        i = d.idx()
        s, a, r = d.obs[i], d.act[i], d.rew[i]
        s2, done = d.next_obs[i], d.done[i]
        sa = torch.cat([s, a], 1)
        with torch.no_grad():
            y = r + GAMMA * (1 - done) * self.v(s2).squeeze(1)
            q_t = torch.minimum(self.q1_t(sa), self.q2_t(sa)).squeeze(1)
        v = self.v(s).squeeze(1)
        u = q_t - v
        v_loss = (torch.abs(EXPECTILE - (u < 0).float()) * u.square()).mean()
        q_loss = (self.q1(sa).squeeze(1) - y).square().mean() + (self.q2(sa).squeeze(1) - y).square().mean()
        return adam_then_polyak(self.opt, q_loss + v_loss, self.target, self.online)

    @torch.no_grad()
    def advantage(self, sa: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return (torch.minimum(self.q1_t(sa), self.q2_t(sa)) - self.v(s)).squeeze(1)


class IQLCriticK:
    """K critics in one program (--seeds K): parameters stacked on a leading seed axis, vmap'ed forwards."""

    def __init__(self, k: int):
        from torch.func import stack_module_state

        self.k = k
        q1s, q2s, vs = ([mlp(inp, 1) for _ in range(k)] for inp in (OBS + ACT, OBS + ACT, OBS))
        self.q_base, self.v_base = copy.deepcopy(q1s[0]).to("meta"), copy.deepcopy(vs[0]).to("meta")
        self.q1, _ = stack_module_state(q1s)
        self.q2, _ = stack_module_state(q2s)
        self.v, _ = stack_module_state(vs)
        self.q1_t = {n: t.detach().clone() for n, t in self.q1.items()}
        self.q2_t = {n: t.detach().clone() for n, t in self.q2.items()}
        self.online = [*self.q1.values(), *self.q2.values()]
        self.target = [*self.q1_t.values(), *self.q2_t.values()]
        self.opt = torch.optim.Adam([*self.online, *self.v.values()], lr=LR)

    @staticmethod
    def fwd(base: nn.Module, params: dict, x: torch.Tensor) -> torch.Tensor:
        """[K, B, in] → [K, B]: seed k's net on seed k's rows."""
        from torch.func import functional_call, vmap

        return vmap(lambda p, xx: functional_call(base, p, (xx,)))(params, x).squeeze(-1)

    def step(self, d: Data) -> torch.Tensor:
        i = torch.randint(d.rows, (self.k, BATCH))
        s, a, r = d.obs[i], d.act[i], d.rew[i]
        s2, done = d.next_obs[i], d.done[i]
        sa = torch.cat([s, a], 2)
        with torch.no_grad():
            y = r + GAMMA * (1 - done) * self.fwd(self.v_base, self.v, s2)
            q_t = torch.minimum(self.fwd(self.q_base, self.q1_t, sa), self.fwd(self.q_base, self.q2_t, sa))
        u = q_t - self.fwd(self.v_base, self.v, s)
        v_loss = (torch.abs(EXPECTILE - (u < 0).float()) * u.square()).mean(1).sum()
        q_loss = (self.fwd(self.q_base, self.q1, sa) - y).square().mean(1).sum() + (self.fwd(self.q_base, self.q2, sa) - y).square().mean(1).sum()
        return adam_then_polyak(self.opt, q_loss + v_loss, self.target, self.online)


class AWR:
    def __init__(self, critic: IQLCritic, d: Data, steps: int, precompute: bool):
        self.critic, self.d = critic, d
        self.pi = mlp(OBS, ACT)
        self.log_std = nn.Parameter(torch.zeros(ACT))
        self.opt = torch.optim.Adam([*self.pi.parameters(), self.log_std], lr=LR)
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, T_max=steps)
        self.weights = None
        if precompute:
            parts = []
            for start in range(0, d.rows, 65536):
                s = d.obs[start : start + 65536]
                sa = torch.cat([s, d.act[start : start + 65536]], 1)
                parts.append(self.awr_weights(critic.advantage(sa, s)))
            self.weights = torch.cat(parts)

    @staticmethod
    def awr_weights(adv: torch.Tensor) -> torch.Tensor:
        return torch.exp(BETA * adv).clamp(max=MAX_W)

    def step(self) -> torch.Tensor:
        d = self.d
        i = d.idx()
        s, a = d.obs[i], d.act[i]
        if self.weights is not None:
            w = self.weights[i]
        else:
            w = self.awr_weights(self.critic.advantage(torch.cat([s, a], 1), s))
        mean = torch.tanh(self.pi(s))
        log_std = self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        logp = (-0.5 * ((a - mean) / log_std.exp()).square() - log_std - 0.5 * math.log(2 * math.pi)).sum(1)
        loss = -(w * logp).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.sched.step()
        return loss.detach()


CPU_PER_WALL: list[float] = []


def timed(fn, steps: int, warmup: int) -> tuple[float, bool]:
    for _ in range(warmup):
        fn()
    if DEVICE != "cpu":
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        last = fn()
    finite = bool(torch.isfinite(last).item())
    wall = time.perf_counter() - t0
    CPU_PER_WALL.append((time.process_time() - c0) / wall)
    return steps / wall, finite


def main() -> None:
    global SIZES, ACTIVATION, LAYER_NORM, BATCH, DEVICE
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hidden", default=f"{HIDDEN},{HIDDEN}")
    ap.add_argument("--activation", choices=["relu", "mish", "gelu"], default="relu")
    ap.add_argument("--layer-norm", action="store_true")
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--iql-only", action="store_true", help="measure the IQL step only (no AWR)")
    ap.add_argument("--seeds", type=int, default=1, help="K critics in one vmap'ed program (implies --iql-only)")
    ap.add_argument("--device", default="cpu", help="cpu | cuda")
    args = ap.parse_args()
    SIZES = [int(h) for h in args.hidden.split(",")]
    ACTIVATION, LAYER_NORM, BATCH, DEVICE = args.activation, args.layer_norm, args.batch, args.device
    if DEVICE != "cpu":  # only then: the default-device mode intercepts every torch call (eager overhead)
        torch.set_default_device(DEVICE)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    d = Data(args.rows, torch.Generator().manual_seed(args.seed))

    critic = IQLCritic() if args.seeds == 1 else IQLCriticK(args.seeds)
    iql_sps, iql_ok = timed(lambda: critic.step(d), args.steps, args.warmup)
    awr_sps = pre_sps = pre_setup = None
    awr_ok = pre_ok = True
    if not args.iql_only and args.seeds == 1:
        awr_sps, pre_sps, pre_setup, awr_ok, pre_ok = measure_awr(critic, d, args)
    r2 = lambda x: None if x is None else round(x, 2)  # noqa: E731

    print(
        json.dumps(
            {
                "bench": "torch-iql",
                "threads": torch.get_num_threads(),
                "iql_steps_per_s": round(iql_sps, 2),
                "seeds": args.seeds,
                "seed_steps_per_s": round(args.seeds * iql_sps, 2),
                "awr_steps_per_s": r2(awr_sps),
                "awr_pre_steps_per_s": r2(pre_sps),
                "awr_pre_setup_s": r2(pre_setup),
                "cpu_per_wall": round(CPU_PER_WALL[0], 3),
                "torch": torch.__version__,
                "device": DEVICE,
                "steps": args.steps,
                "warmup": args.warmup,
                "rows": args.rows,
                "batch": BATCH,
                "hidden": SIZES,
                "activation": ACTIVATION,
                "layer_norm": LAYER_NORM,
                "finite": iql_ok and awr_ok and pre_ok,
            }
        ),
        flush=True,
    )


def measure_awr(critic: IQLCritic, d: Data, args: argparse.Namespace) -> tuple[float, float, float, bool, bool]:
    horizon = 100_000  # cosine horizon, as in our extract-speed bench
    awr = AWR(critic, d, horizon, precompute=False)
    awr_sps, awr_ok = timed(awr.step, args.steps, args.warmup)

    t0 = time.perf_counter()
    awr_pre = AWR(critic, d, horizon, precompute=True)
    pre_setup = time.perf_counter() - t0
    pre_sps, pre_ok = timed(awr_pre.step, args.steps, args.warmup)
    return awr_sps, pre_sps, pre_setup, awr_ok, pre_ok


if __name__ == "__main__":
    main()
