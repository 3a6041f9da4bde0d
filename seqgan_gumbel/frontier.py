"""The quality-diversity frontier: a point against an MLE temperature curve at equal Self-BLEU.

Sweeping an MLE model's softmax temperature traces a curve of BLEU against
Self-BLEU (Caccia et al. 2018); a GAN improves on its MLE start only where
its (Self-BLEU, BLEU) point lies above that curve. The *frontier gap* of a
point is its BLEU minus the curve's BLEU linearly interpolated at the point's
Self-BLEU. It cannot be won by trading diversity for BLEU: a less diverse
point is compared with a less diverse (higher-BLEU) part of the curve.

Outside the curve's Self-BLEU range no comparison is made (`interpolate`
returns None): extrapolating a noisy end segment could reward a point that
is more repetitive than anything the curve measured. `keep_best_score` turns
that into a score of -inf, so `--keep-best-gan` never keeps such a step.

Pure Python: used by training (`--keep-best-gan`) and by
``benchmarks/frontier_gap.py`` on `evaluate-sweep` results.
"""

from __future__ import annotations

import math
from typing import Sequence

# The temperatures of the MLE curve that --keep-best-gan measures (1.0, the
# temperature of the monitored GAN samples, must be among them).
FRONTIER_TEMPERATURES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
# --keep-best-gan refuses a step whose mean sample length is not within this
# fraction of the MLE start's.
LENGTH_TOLERANCE = 0.1


def locate(xs: Sequence[float], x: float) -> tuple[int, float] | None:
    """Where `x` falls on a polyline with ascending abscissae `xs`.

    Args:
        xs: the points' x values, ascending (ties allowed).
        x: the abscissa to find.

    Returns:
        (i, f) with x = xs[i] + f * (xs[i + 1] - xs[i]), 0 <= f < 1; f is 0
        exactly when x equals a point's x (the first such point), so that
        `value_at` then returns that point's value exactly. None when x is
        outside [xs[0], xs[-1]] or not a number.
    """
    if not xs or not (xs[0] <= x <= xs[-1]):
        return None
    for i, xi in enumerate(xs):
        if x == xi:
            return i, 0.0
    for i in range(len(xs) - 1):
        if xs[i] < x < xs[i + 1]:
            return i, (x - xs[i]) / (xs[i + 1] - xs[i])
    return None


def value_at(ys: Sequence[float], position: tuple[int, float]) -> float:
    """The linearly interpolated value at a position that `locate` returned."""
    i, f = position
    return ys[i] if f == 0 else ys[i] + f * (ys[i + 1] - ys[i])


def interpolate(points: Sequence[tuple[float, float]], x: float) -> float | None:
    """The piecewise-linear curve through (x, y) points, evaluated at x.

    Args:
        points: (Self-BLEU, BLEU) pairs in any order (sorted here).
        x: the Self-BLEU to evaluate at.

    Returns:
        The interpolated BLEU, or None outside the points' x range.
    """
    points = sorted(points)
    position = locate([p[0] for p in points], x)
    return None if position is None else value_at([p[1] for p in points], position)


def frontier_gap(curve: Sequence[tuple[float, float]], self_bleu: float, bleu: float) -> float | None:
    """BLEU minus the curve's BLEU at the same Self-BLEU; None outside the curve's range.

    Args:
        curve: the MLE curve's (Self-BLEU, BLEU) points.
        self_bleu, bleu: the point compared with it.
    """
    reference = interpolate(curve, self_bleu)
    return None if reference is None else bleu - reference


def keep_best_score(curve: Sequence[tuple[float, float]], self_bleu: float, bleu: float, mean_length: float,
                    start_length: float, tolerance: float = LENGTH_TOLERANCE) -> tuple[float, str | None]:
    """The `--keep-best-gan` score of a monitored step: its frontier gap, or -inf when refused.

    A step is refused when its mean sample length is not within `tolerance`
    (a fraction) of the MLE start's, or when its Self-BLEU lies outside the
    MLE curve's range (see the module docstring).

    Args:
        curve: the MLE curve's (Self-BLEU, BLEU) points.
        self_bleu, bleu: the step's Self-BLEU-n and BLEU-n.
        mean_length: the step's mean sample length (tokens).
        start_length: the MLE start's mean sample length.
        tolerance: the allowed relative length difference.

    Returns:
        (score, None), or (-inf, the reason it was refused).
    """
    if not abs(mean_length - start_length) <= tolerance * start_length:
        return -math.inf, (f"mean length {mean_length:.2f} not within {tolerance:.0%} of the MLE start's "
                           f"{start_length:.2f}")
    gap = frontier_gap(curve, self_bleu, bleu)
    if gap is None:
        low, high = min(p[0] for p in curve), max(p[0] for p in curve)
        return -math.inf, f"Self-BLEU {self_bleu:.3f} outside the MLE curve's range [{low:.3f}, {high:.3f}]"
    return gap, None
