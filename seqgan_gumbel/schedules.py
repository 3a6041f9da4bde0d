"""Inverse-temperature schedules for the Gumbel-softmax (pure Python).

beta = 1/tau rises from 1 to beta_max over the run's own N adversarial steps
i = 0..N-1 (RelGAN and TextGAN-PyTorch hard-code N = 5000 whatever the run's
length; here N is always the run's). Formulas follow RelGAN, with one
deliberate change: every schedule hits both ends exactly, beta(0) = 1 and
beta(N-1) = beta_max. So "exp" uses i/(N-1) (RelGAN's i/N stops at
beta_max ** (1 - 1/N)), and "sigmoid" is RelGAN's logistic curve rescaled from
its values at i = 0 and i = N-1 (unscaled it misses each end by up to
e^(-10 + 20/N) of the range, a third of a percent for N = 10).
"""

from __future__ import annotations

import math

SCHEDULES = ("no", "lin", "exp", "log", "sigmoid", "quad", "sqrt")


def inverse_temperature(step: int, num_steps: int, beta_max: float, schedule: str = "exp") -> float:
    """The inverse temperature beta at an adversarial step.

    Args:
        step: the adversarial step i, 0-based; values past the end are clamped.
        num_steps: N, the run's number of adversarial steps.
        beta_max: the final inverse temperature (> 0).
        schedule: one of SCHEDULES.

    Returns:
        beta(i); tau = 1 / beta.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be positive, got {num_steps}")
    if not beta_max > 0:
        raise ValueError(f"beta_max must be > 0, got {beta_max}")
    n = num_steps
    i = min(max(step, 0), n - 1)
    if schedule == "no" or n == 1:
        return float(beta_max)
    if schedule == "lin":
        return 1 + i / (n - 1) * (beta_max - 1)
    if schedule == "exp":
        return float(beta_max ** (i / (n - 1)))
    if schedule == "log":
        return 1 + (beta_max - 1) / math.log(n) * math.log(i + 1)
    if schedule == "sigmoid":
        def logistic(j: int) -> float:
            return 1 / (1 + math.exp((n / 2 - j) * 20 / n))

        low, high = logistic(0), logistic(n - 1)
        return 1 + (beta_max - 1) * (logistic(i) - low) / (high - low)
    if schedule == "quad":
        return (beta_max - 1) / (n - 1) ** 2 * i**2 + 1
    return (beta_max - 1) / math.sqrt(n - 1) * math.sqrt(i) + 1
