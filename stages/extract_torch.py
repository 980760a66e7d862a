"""awr-torch: Gaussian AWR extraction from a FROZEN IQL critic, in PyTorch — the reference for our
extract-policy (method awr), as the IQL paper's actor objective:

    w   = min(exp(β · (min(Q1, Q2)(s, a) − V(s))), max_weight)      (frozen critic: computed once per row)
    L_π = mean(w · −log π(a|s)),  π = N(tanh(f(s)), exp(clip(log σ))²),  Adam, lr cosine over `steps`

The critic is any critic artifact (docs/artifacts.md): ours from fit-iql or iql_torch.py's; the
actor sees observations normalised with the critic's statistics when it has them, and the policy
artifact carries them. The networks and the training loop are iql_torch.py's (imported).
"""

import math

kind = "awr-torch"
version = "1"
description = "Gaussian AWR from a frozen IQL critic, in PyTorch (reference for extract-policy awr)"

params = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "steps": {"type": "integer", "minimum": 1, "default": 1000000, "description": "Actor steps; also the cosine horizon."},
        "hidden": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "default": [256, 256]},
        "activation": {"enum": ["relu", "mish", "gelu"], "default": "relu"},
        "layer_norm": {"type": "boolean", "default": False},
        "timeouts": {"enum": ["drop", "keep"], "default": "drop", "description": "As iql_torch.py: drop timeout rows (D4RL's qlearning_dataset) or keep every row."},
        "batch_size": {"type": "integer", "minimum": 1, "default": 256},
        "lr": {"type": "number", "exclusiveMinimum": 0, "default": 0.0003},
        "lr_schedule": {"enum": ["cosine", "constant"], "default": "cosine"},
        "beta": {"type": "number", "minimum": 0, "default": 3.0},
        "max_weight": {"type": "number", "exclusiveMinimum": 0, "default": 100.0},
        "log_std_min": {"type": "number", "default": -5.0},
        "log_std_max": {"type": "number", "default": 2.0},
        "log_every": {"type": "integer", "minimum": 1, "default": 1000},
        "checkpoint_every": {"type": "integer", "minimum": 1, "default": 10000},
        "device": {"enum": ["auto", "cpu", "cuda"], "default": "auto"},
        "threads": {"type": "integer", "minimum": 1, "default": 1},
    },
}
inputs = {
    "dataset": {"description": "the dataset the critic was fitted on"},
    "critic": {"description": "a critic artifact (fit-iql or iql-torch)"},
}
outputs = {
    "policy": {"description": "Gaussian policy (Arrow, format policy)"},
    "curve": {"description": "training metrics in long format: step, metric, value"},
}


def frozen_critic(table, device):
    """The critic artifact as torch nets (target Q1, Q2 and V) and its observation statistics."""
    from iqlp.artifacts import Critic
    from iql_torch import load_layers, mlp

    c = Critic.from_table(table)
    nets = []
    for m in (c.q1, c.q2, c.v_net):
        net = mlp(m.sizes, m.arch.activation, m.arch.layer_norm).to(device)
        load_layers(net, m.params)
        net.requires_grad_(False)
        nets.append(net)
    return nets, c.obs_norm


def awr_weights(q1, q2, v, s, a, beta, max_weight, chunk=65536):
    """exp(β · (min(Q1, Q2)(s, a) − V(s))) clipped at max_weight, for every row (the critic is frozen)."""
    import torch

    with torch.no_grad():
        adv = torch.cat([(torch.minimum(q1(torch.cat([s[i:i + chunk], a[i:i + chunk]], 1)), q2(torch.cat([s[i:i + chunk], a[i:i + chunk]], 1))) - v(s[i:i + chunk])).squeeze(-1)
                         for i in range(0, len(s), chunk)])
        return torch.exp(beta * adv).clamp(max=max_weight)


def run(ctx):
    from iql_torch import GaussianActor, ParamHolder, awr_step, dataset_input, make_actor_optim, policy_artifact, setup_torch, train_loop

    torch, device = setup_torch(ctx)
    p = ctx.params
    env_id, data = dataset_input(ctx)
    (q1, q2, v), norm = frozen_critic(ctx.inputs["critic"], device)
    obs = norm(data["obs"]) if norm is not None else data["obs"]
    n, obs_dim, act_dim = len(obs), obs.shape[1], data["act"].shape[1]
    s, a = torch.as_tensor(obs, device=device), torch.as_tensor(data["act"], device=device)
    weights = awr_weights(q1, q2, v, s, a, p["beta"], p["max_weight"])
    ctx.log(f"{n} rows; exp-advantage weights clipped at {p['max_weight']}: {float((weights >= p['max_weight']).float().mean()):.4f} of rows")

    actor = GaussianActor(obs_dim, act_dim, p, device)
    opt, sched = make_actor_optim(actor, p, p["steps"], lr_key="lr")
    gen = torch.Generator(device="cpu").manual_seed(ctx.seed)

    def step():
        i = torch.randint(n, (p["batch_size"],), generator=gen).to(device)
        return awr_step(actor, opt, sched, s[i], a[i], weights[i])

    modules = {"actor": actor.net, "log_std": ParamHolder(actor.log_std), "opt": opt, "sched": sched}
    curve, last, _, rate = train_loop(ctx, p["steps"], step, modules, {"gen": (gen.get_state, gen.set_state)}, ("loss", "policyStd", "lr"), "awr/")
    ctx.record("steps_per_second", rate)
    return {
        "outputs": {"policy": policy_artifact(actor, obs_dim, act_dim, p, norm, env_id), "curve": curve},
        "summary": {"loss": last.get("loss", math.nan), "policy_std": last.get("policyStd", math.nan), "steps_per_second": rate},
    }
