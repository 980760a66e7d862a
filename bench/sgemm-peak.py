"""Single-thread float32 GEMM throughput at the IQL step's shapes (numpy over OpenBLAS), the ceiling
any one-thread IQL step can reach. Run with OPENBLAS_NUM_THREADS=1:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/sgemm-peak.py

Prints GFLOP/s per shape (m×k×n: 2mkn flops per product), each repeated for about 2 GFLOP.
"""
import time

import numpy as np

for m, k, n in [(256, 256, 256), (256, 258, 256), (1024, 512, 512)]:
    a = np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(k, n).astype(np.float32)
    reps = max(3, int(2e9 / (2 * m * k * n)))
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    print(f"sgemm {m}x{k}x{n}: {2 * m * k * n * reps / (time.perf_counter() - t) / 1e9:.1f} GFLOP/s")
