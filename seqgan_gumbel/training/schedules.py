"""Inverse-temperature schedules for the Gumbel-softmax (pure Python).

beta = 1/tau rises from 1 at step 0 to beta_max at the schedule's horizon H,
and stays there. By default H is the run's own last adversarial step N - 1,
so every schedule hits both ends of the run exactly. RelGAN and
TextGAN-PyTorch instead hard-code N = 5000 whatever the run's length: their
exp schedule is beta_max ** (i / 5000), so a 2,000-step run ends at
beta_max ** 0.4 (6.3 for beta_max 100). An explicit horizon reproduces that
trajectory exactly (`horizon=5000`), and a shorter run follows the same curve
when its horizon is scaled with it (150 steps, horizon 375).

With t = i / H, the formulas follow RelGAN's: lin 1 + t (beta_max - 1);
exp beta_max ** t; quad 1 + t^2 (beta_max - 1); sqrt 1 + sqrt(t)
(beta_max - 1); log 1 + (beta_max - 1) ln(i + 1) / ln(H + 1); sigmoid
RelGAN's logistic curve 1 / (1 + exp((M/2 - i) 20 / M)), M = H + 1,
rescaled from its values at i = 0 and i = H so that it too hits both ends
(unscaled it misses each end by up to e^(-10 + 20/M) of the range).
"""

from __future__ import annotations

import math

from seqgan_gumbel.config import SCHEDULES  # noqa: F401  (the names a config accepts)


def inverse_temperature(step: int, num_steps: int, beta_max: float, schedule: str = "exp",
                        horizon: int = 0) -> float:
    """The inverse temperature beta at an adversarial step.

    Args:
        step: the adversarial step i, 0-based; values past the horizon give beta_max.
        num_steps: N, the run's number of adversarial steps.
        beta_max: the final inverse temperature (> 0).
        schedule: one of SCHEDULES.
        horizon: H, the step at which beta reaches beta_max; 0: the run's last
            step N - 1. RelGAN's hard-coded trajectory is horizon 5000.

    Returns:
        beta(i); tau = 1 / beta.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be positive, got {num_steps}")
    if not beta_max > 0:
        raise ValueError(f"beta_max must be > 0, got {beta_max}")
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    h = horizon or num_steps - 1
    i = min(max(step, 0), h)
    if schedule == "no" or h == 0:
        return float(beta_max)
    t = i / h
    if schedule == "lin":
        return 1 + t * (beta_max - 1)
    if schedule == "exp":
        return float(beta_max ** t)
    if schedule == "log":
        return 1 + (beta_max - 1) / math.log(h + 1) * math.log(i + 1)
    if schedule == "sigmoid":
        m = h + 1

        def logistic(j: int) -> float:
            return 1 / (1 + math.exp((m / 2 - j) * 20 / m))

        low, high = logistic(0), logistic(h)
        return 1 + (beta_max - 1) * (logistic(i) - low) / (high - low)
    if schedule == "quad":
        return 1 + t**2 * (beta_max - 1)
    return 1 + math.sqrt(t) * (beta_max - 1)
