"""OpenBLAS sgemm throughput through numpy: the hardware reference for `performer bench`.

Prints one JSON line {"impl":"openblas-sgemm","n","ms","gflops"}: the median of
repeated float32 n×n×n products (2·n³ FLOPs each) after a warm-up.
Usage: python3 bench/sgemm.py [n] [seconds]
"""
import json, sys, time
import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a @ b  # warm-up
times = []
start = time.perf_counter()
while time.perf_counter() - start < seconds or len(times) < 3:
    t0 = time.perf_counter()
    a @ b
    times.append(time.perf_counter() - t0)
ms = sorted(times)[len(times) // 2] * 1e3
print(json.dumps({"impl": "openblas-sgemm", "n": n, "ms": round(ms, 3), "gflops": round(2 * n**3 / (ms * 1e6), 1)}))
