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

Every finished run also gets a *verdict* (`frontier_verdict`): its final
samples' point against its own MLE generator's curve at `FRONTIER_TEMPERATURES`,
with the sampling noise of that comparison (`point_statistics` gives each
point's standard errors), so that the report says plainly whether the
adversarial phase made a better generator than its MLE start.

No TensorFlow: used by training (the verdict, `--keep-best-gan`) and by
``benchmarks/frontier_gap.py`` on `evaluate-sweep` results.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from seqgan_gumbel.metrics.bleu import BleuScorer, self_bleu_sentence_scores

# The temperatures of the MLE curve that --keep-best-gan measures (1.0, the
# temperature of the monitored GAN samples, must be among them).
FRONTIER_TEMPERATURES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
# --keep-best-gan refuses a step whose mean sample length is not within this
# fraction of the MLE start's.
LENGTH_TOLERANCE = 0.1
# The BLEU order of the frontier (Caccia et al. 2018 and RelGAN report BLEU-5 / Self-BLEU-5).
FRONTIER_ORDER = 5
# The verdict's noise band: this many standard errors of the gap either side of 0.
NOISE_Z = 2.0
# The verdicts of `frontier_verdict`.
VERDICTS = ("above", "level", "below", "length", "outside")


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


def _fsum_mean(values: np.ndarray) -> float:
    # math.fsum: the same mean as BleuScorer.score and self_bleu, to the last bit.
    return math.fsum(values.tolist()) / len(values)


def point_statistics(hypotheses: Sequence[Sequence[str]], scorer: BleuScorer, order: int = FRONTIER_ORDER) -> dict:
    """One point of the frontier: BLEU-n and Self-BLEU-n of samples, with the sampling errors of both.

    Args:
        hypotheses: the samples' tokens (at least two).
        scorer: a `BleuScorer` of the references (max_n >= order).
        order: the BLEU order.

    Returns:
        {"samples", "mean_length", "bleu", "bleu_se", "self_bleu", "self_bleu_se",
        "covariance"}: "bleu" and "self_bleu" equal `bleu` and `self_bleu` of
        the same samples exactly; the errors are the standard errors of those
        means, and "covariance" is the covariance of the two means, from the
        per-sentence scores (a sentence that matches the references well
        tends to match the other samples well too, so the two errors are
        correlated: on an English grammar corpus the correlation is strong).
    """
    bleu_scores = scorer.sentence_scores(hypotheses, order)
    self_scores = self_bleu_sentence_scores(hypotheses, (order,))[order]
    n = len(hypotheses)
    covariance = np.cov(np.stack([bleu_scores, self_scores]), ddof=1) / n
    return {"samples": n, "mean_length": float(np.mean([len(h) for h in hypotheses])),
            "bleu": _fsum_mean(bleu_scores), "bleu_se": float(math.sqrt(covariance[0, 0])),
            "self_bleu": _fsum_mean(self_scores), "self_bleu_se": float(math.sqrt(covariance[1, 1])),
            "covariance": float(covariance[0, 1])}


def _residual_variance(point: dict, slope: float) -> float:
    """The variance of a point's BLEU minus `slope` times its Self-BLEU: its distance from a line of that slope."""
    return max(0.0, point["bleu_se"] ** 2 + slope ** 2 * point["self_bleu_se"] ** 2
               - 2 * slope * point.get("covariance", 0.0))


def frontier_verdict(curve: Sequence[dict], point: dict, start_length: float,
                     tolerance: float = LENGTH_TOLERANCE, z: float = NOISE_Z) -> dict:
    """Whether a GAN's point lies above, on or below its MLE start's temperature curve.

    The gap is the point's BLEU minus the curve's, interpolated at the point's
    Self-BLEU (`frontier_gap`). Its noise, linearised on the curve's segment
    of slope k there: the variance of the point's BLEU - k * Self-BLEU, plus
    that of the two neighbouring curve points weighted as the interpolation
    weights them (an error in a Self-BLEU moves the comparison along the
    curve, which is why the two errors of a point enter together, with their
    covariance). The samples of the GAN and of its MLE start share their
    noise seed, which makes them correlated, so the sum errs on the wide side.

    Args:
        curve: `point_statistics` dicts of the MLE generator, each with its
            "temperature" (at least two, any order).
        point: the GAN's `point_statistics` dict.
        start_length: the MLE start's mean sample length at temperature 1.
        tolerance: the allowed relative length change (sentence length moves
            BLEU and Self-BLEU together, so a GAN that changed its length is
            not compared).
        z: the noise band in standard errors.

    Returns:
        {"verdict": one of `VERDICTS`, "gap", "noise" (z standard errors of
        the gap), "mle_bleu" (the curve's BLEU at the point's Self-BLEU), "bleu",
        "self_bleu", "mean_length", "mle_mean_length" (`start_length`),
        "length_change" (relative to the start), "samples", "temperatures"
        (the curve's), "self_bleu_range"}; gap, noise and mle_bleu are None
        when the point lies outside the curve's Self-BLEU range.
    """
    ordered = sorted(curve, key=lambda p: (p["self_bleu"], p["temperature"]))
    xs = [p["self_bleu"] for p in ordered]
    change = (point["mean_length"] - start_length) / start_length if start_length > 0 else math.inf
    result = {"verdict": "outside", "gap": None, "noise": None, "mle_bleu": None, "bleu": point["bleu"],
              "self_bleu": point["self_bleu"], "mean_length": point["mean_length"], "mle_mean_length": start_length,
              "length_change": change, "samples": point["samples"],
              "temperatures": sorted(p["temperature"] for p in curve), "self_bleu_range": [xs[0], xs[-1]]}
    position = locate(xs, point["self_bleu"])
    if position is None:
        return result
    i, f = position
    j = i + 1 if i + 1 < len(ordered) else i - 1  # the segment whose slope applies
    low, high = ordered[min(i, j)], ordered[max(i, j)]
    rise = high["self_bleu"] - low["self_bleu"]
    slope = (high["bleu"] - low["bleu"]) / rise if rise > 0 else 0.0
    following = ordered[i + 1] if f else ordered[i]
    variance = (_residual_variance(point, slope) + (1 - f) ** 2 * _residual_variance(ordered[i], slope)
                + f ** 2 * _residual_variance(following, slope))
    mle_bleu = value_at([p["bleu"] for p in ordered], position)
    gap = point["bleu"] - mle_bleu
    noise = z * math.sqrt(variance)
    if not abs(change) <= tolerance:
        verdict = "length"
    elif gap > noise:
        verdict = "above"
    elif gap < -noise:
        verdict = "below"
    else:
        verdict = "level"
    result.update(verdict=verdict, gap=gap, noise=noise, mle_bleu=mle_bleu)
    return result


def verdict_lines(verdict: dict) -> list[str]:
    """What `frontier_verdict` found, for a user: a heading, the conclusion and its figures.

    Args:
        verdict: `frontier_verdict`'s dict (as metrics.json's "frontier" holds it).

    Returns:
        Three lines: what was compared with what; above / on / below its MLE
        curve (or why no comparison was made) and what that means; the gap,
        its noise and the length change.
    """
    temperatures = verdict["temperatures"]
    heading = (f"Against its MLE start (BLEU-{FRONTIER_ORDER} at equal Self-BLEU-{FRONTIER_ORDER} on the MLE "
               f"generator's temperature curve, T {temperatures[0]:g}-{temperatures[-1]:g}; Caccia et al. 2018):")
    v, change = verdict["verdict"], verdict["length_change"]
    length = (f"mean length {verdict['mean_length']:.2f}, {change:+.1%} against the MLE start's "
              f"{verdict['mle_mean_length']:.2f}" if math.isfinite(change)
              else f"mean length {verdict['mean_length']:.2f} (the MLE start's: 0)")
    if v == "outside":
        low, high = verdict["self_bleu_range"]
        return [heading, f"not comparable: its Self-BLEU-{FRONTIER_ORDER} {verdict['self_bleu']:.3f} lies outside the "
                         f"MLE curve's range [{low:.3f}, {high:.3f}]", length]
    conclusion = {
        "above": "above its MLE curve: better than its MLE start",
        "level": ("on its MLE curve: no gain over its MLE start larger than the sampling noise (more samples "
                  "measure finer: training.num_eval_samples, evaluate-sweep --num)"),
        "below": ("below its MLE curve: worse than its MLE start (generator_mle.keras, `generate --mle`, is the "
                  "better model)"),
        "length": (f"not an improvement: its sentences are {abs(change):.0%} "
                   f"{'shorter' if change < 0 else 'longer'} than its MLE start's (sentence length moves BLEU "
                   f"and Self-BLEU together: a change over {LENGTH_TOLERANCE:.0%} is not compared)"),
    }[v]
    figures = (f"gap {verdict['gap']:+.4f} BLEU-{FRONTIER_ORDER} (sampling noise +-{verdict['noise']:.4f}, "
               f"{NOISE_Z:g} standard errors at {verdict['samples']} samples a point); {length}")
    return [heading, conclusion, figures]
