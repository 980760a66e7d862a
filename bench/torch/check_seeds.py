"""Checks that iql_ref.py's K-seed program (--seeds K, IQLCriticK) takes, for each seed, the step the
single-seed IQLCritic takes: seed 1 of K = 2 and a single critic start from the same weights, are
fed the same rows for 3 steps, and must end within 1e-6 (measured 2.2e-8; reading the online Q1
instead of the target Q1' in the K-seed program's V target gives 3.5e-4 and fails).
Usage: (cd bench/torch && PYTHONPATH=. ../.venv/bin/python check_seeds.py)
"""
import sys

import torch

sys.argv = [sys.argv[0]]
import iql_ref as R  # noqa: E402

R.SIZES, R.BATCH = [32, 32], 16
torch.manual_seed(0)
d = R.Data(1000, torch.Generator().manual_seed(0))
many, one = R.IQLCriticK(2), R.IQLCritic()


def load(mod: torch.nn.Module, params: dict, k: int) -> None:
    with torch.no_grad():
        for n, p in mod.named_parameters():
            p.copy_(params[n][k])


for mod, params in ((one.q1, many.q1), (one.q2, many.q2), (one.v, many.v), (one.q1_t, many.q1_t), (one.q2_t, many.q2_t)):
    load(mod, params, 1)
real = torch.randint
try:
    for _ in range(3):
        idx = real(d.rows, (2, R.BATCH))
        torch.randint = lambda n, shape: idx  # noqa: E731
        many.step(d)
        torch.randint = lambda n, shape: idx[1]  # noqa: E731
        one.step(d)
finally:
    torch.randint = real
err = max(
    (p - params[n][1]).abs().max().item()
    for mod, params in ((one.q1, many.q1), (one.q2, many.q2), (one.v, many.v), (one.q1_t, many.q1_t), (one.q2_t, many.q2_t))
    for n, p in mod.named_parameters()
)
print(f"seed 1 of 2 vs the single critic after 3 steps: max abs difference {err:.2e}")
sys.exit(0 if err < 1e-6 else 1)
