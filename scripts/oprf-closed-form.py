#!/usr/bin/env python3
"""Closed-form variance of one positive random feature (iid ω ~ N(0, I_d)) for FAVOR+ (A = 0) and
FAVOR++ (A = A*), on query-key pairs drawn like `performer approx` draws q and k (docs/APPROX.md):
  φ(x)φ(y) = D²·exp(2A‖ω‖² + B·ωᵀ(x + y) − (‖x‖² + ‖y‖²)/2),  B² = 1 − 4A,  D = (1 − 4A)^{d/4}
  E[(φ(x)φ(y))²] = D⁴·e^{−‖x‖²−‖y‖²}·(1 − 8A)^{−d/2}·exp(2B²‖x + y‖²/(1 − 8A)),  Var = that − K².
Prints the mean over pairs of ln Var and of Var/K² (m features divide both by m).

    python3 scripts/oprf-closed-form.py
"""
import numpy as np
d, P = 16, 32
rng = np.random.default_rng(0)
for scale in [0.5, 1.0, 1.5]:
    x = rng.normal(0, scale, (P, d)) * d ** -0.25
    y = rng.normal(0, scale, (P, d)) * d ** -0.25
    S = np.mean([np.sum((xi + yj) ** 2) for xi in x for yj in y]); f = S / d
    Astar = (1 - 2 * f - np.sqrt((2 * f + 1) ** 2 + 8 * f)) / 16
    out = []
    for A in [0.0, Astar]:
        B2 = 1 - 4 * A; D4 = (1 - 4 * A) ** d
        lv, rv = [], []
        for xi in x:
            for yj in y:
                K = np.exp(xi @ yj)
                ln_m2 = np.log(D4) - xi @ xi - yj @ yj - d / 2 * np.log(1 - 8 * A) + 2 * B2 * np.sum((xi + yj) ** 2) / (1 - 8 * A)
                var = np.exp(ln_m2) - K ** 2
                lv.append(np.log(var)); rv.append(var / K ** 2)
        out.append((A, np.mean(lv), np.mean(rv)))
    print(f'scale {scale}: A*={Astar:.4f}; closed-form single-feature (iid): ' + '; '.join(f'A={a:.4f} mean lnVar={l:.3f} mean Var/K^2={r:.3e}' for a, l, r in out))
