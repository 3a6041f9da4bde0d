"""Watching adversarial training for collapse, and keeping its best step.

Every `training.sample_every` adversarial steps (where `SampleWriter` writes
samples/step-N.txt), `CollapseMonitor` samples `training.monitor_samples`
sentences at temperature 1 with the run's seed and measures:

- mean_length: tokens per sample, EOS not counted;
- distinct: the fraction of distinct samples;
- self_bleu: Self-BLEU-5 over the samples (diversity is 1 - Self-BLEU-5);

with `--keep-best-gan` also BLEU-5 against held-out references and the
frontier gap (`seqgan_gumbel.evaluation.frontier`). The same is measured once on the MLE
start (step 0; stored in metrics_mle.json under "monitor", so that a resumed
run compares with the same values). One warning is logged when, at a
monitored step, the mean length, the distinct fraction or the diversity
(1 - Self-BLEU-5) falls below half the MLE start's: an all-EOS generator
trips the first two, near-duplicate samples the last two (Self-BLEU alone
misses empty samples: they share no n-grams). A second warning, also once,
comes earlier in the slide: when the mean length has moved by more than
`DRIFT_FRACTION` from the MLE start's, either way (a GAN that buys BLEU with
shorter sentences, the length shortcut, has not improved; the final verdict
refuses it at 10%).

The samples are drawn in batches of 20, the batch of samples/step-N.txt, so
one traced sampling graph serves both and the 20 written sentences are the
first 20 monitored ones. Sampling is stateless (the seed is fixed), so the
monitor never changes the training itself: a resumed run stays bit-identical.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import keras
import numpy as np

from seqgan_gumbel.evaluation.frontier import FRONTIER_TEMPERATURES, keep_best_score
from seqgan_gumbel.generation import sample_ids
from seqgan_gumbel.evaluation.scorer import SampleScorer
from seqgan_gumbel.metrics.bleu import BleuScorer
from seqgan_gumbel.corpus.tokenizer import Tokenizer
from seqgan_gumbel.runlog import GAN_PHASE

ORDER = 5
# The batch of samples/step-N.txt (and samples/pretrained.txt): no second sampling graph to trace.
MONITOR_BATCH = 20
# A warning when a measure falls below this fraction of the MLE start's.
COLLAPSE_FRACTION = 0.5
# A warning when the mean length moves further than this (relative) from the MLE start's, either way.
DRIFT_FRACTION = 0.2
# The numbers of a "monitor" record that go to TensorBoard (as monitor/<name>, e.g. monitor/self_bleu/5).
MONITOR_SCALARS = ("mean_length", "distinct", "self_bleu", "bleu", "frontier_gap")
# The measures the collapse warning watches: record key -> (label, value of a stats dict).
_WATCHED = {
    "mean_length": ("mean length", lambda s: s["mean_length"]),
    "distinct": ("distinct fraction", lambda s: s["distinct"]),
    "diversity": ("diversity (1 - Self-BLEU-5)", lambda s: 1.0 - s["self_bleu"][str(ORDER)]),
}


def sample_statistics(hypotheses: Sequence[Sequence[str]], scorer: BleuScorer | None = None) -> dict:
    """Length, distinctness and Self-BLEU-5 (and BLEU-5 with `scorer`) of token lists.

    Args:
        hypotheses: the samples' tokens (EOS and padding removed); at least two.
        scorer: a `BleuScorer` of the references, or None for no BLEU.

    Returns:
        {"samples", "mean_length", "distinct", "self_bleu": {"5": ...}} and
        "bleu": {"5": ...} with a scorer: the shape of the "eval" records.
    """
    scores = SampleScorer(scorer, "none", (ORDER,)).score(hypotheses)
    stats = {"samples": scores.num_samples, "mean_length": scores.mean_length, "distinct": scores.distinct,
             "self_bleu": {str(ORDER): float(scores.self_bleu.scores[ORDER])}}
    if scores.bleu is not None:
        stats["bleu"] = {str(ORDER): float(scores.bleu.scores[ORDER])}
    return stats


class SampleMonitor:
    """Samples a generator and measures its samples (see the module docstring).

    Args:
        tokenizer: the run's tokenizer.
        num_samples: sentences per measurement.
        seed: the sampling seed (the run's): every measurement draws the same noise.
        references: token lists for BLEU-5 (None: no BLEU, no frontier gap).
        reference_name: where the references came from ("validation", "test", "train").
    """

    def __init__(self, tokenizer: Tokenizer, num_samples: int, seed: int,
                 references: Sequence[Sequence[str]] | None = None, reference_name: str | None = None):
        self.tokenizer = tokenizer
        self.num_samples = num_samples
        self.seed = seed
        self.scorer = BleuScorer(references, max_n=ORDER) if references else None
        self.reference_name = reference_name
        self.num_references = len(references) if references else 0

    def sample(self, generator, temperature: float = 1.0) -> np.ndarray:
        """(num_samples, sequence_length) ids; the first 20 rows equal `sample_ids(generator, 20, seed=seed)`."""
        return sample_ids(generator, self.num_samples, temperature, seed=self.seed, batch_size=MONITOR_BATCH)

    def measure(self, generator, temperature: float = 1.0) -> dict:
        """`sample_statistics` of fresh samples (the same noise every call)."""
        ids = self.sample(generator, temperature)
        return sample_statistics([self.tokenizer.ids_to_tokens(row) for row in ids], self.scorer)

    def measure_start(self, generator, curve: bool = False) -> dict:
        """The MLE start's statistics at temperature 1, and with `curve` its temperature curve.

        Returns:
            `measure`'s dict, plus "temperature": 1.0 and, with `curve`,
            "references", "num_references" and "curve": one
            {"temperature", **statistics} per `FRONTIER_TEMPERATURES`; the
            temperature-1 point is the start itself, so its frontier gap is 0.
        """
        start = {"temperature": 1.0, **self.measure(generator)}
        if curve:
            if self.scorer is None:
                raise ValueError("the MLE curve needs references")
            points = []
            for temperature in FRONTIER_TEMPERATURES:
                stats = start if temperature == 1.0 else self.measure(generator, temperature)
                points.append({**stats, "temperature": temperature})
            start.update(references=self.reference_name, num_references=self.num_references, curve=points)
        return start


def curve_points(start: dict) -> list[tuple[float, float]]:
    """The (Self-BLEU-5, BLEU-5) points of a start's MLE curve."""
    key = str(ORDER)
    return [(p["self_bleu"][key], p["bleu"][key]) for p in start["curve"]]


def frontier_score(stats: dict, start: dict) -> tuple[float, str | None]:
    """The `--keep-best-gan` score of a measurement against the MLE start: see `keep_best_score`."""
    key = str(ORDER)
    return keep_best_score(curve_points(start), stats["self_bleu"][key], stats["bleu"][key],
                           stats["mean_length"], start["mean_length"])


def collapse_criteria(stats: dict, start: dict) -> list[str]:
    """The watched measures ("mean_length", "distinct", "diversity") below half the MLE start's."""
    return [name for name, (_, value) in _WATCHED.items() if value(stats) < COLLAPSE_FRACTION * value(start)]


def collapse_message(step: int, stats: dict, start: dict, criteria: list[str]) -> str:
    """The one-line warning for `criteria` at `step`."""
    parts = [f"{_WATCHED[name][0]} {_WATCHED[name][1](stats):.3g} (MLE start {_WATCHED[name][1](start):.3g})"
             for name in criteria]
    return (f"warning: possible collapse at adversarial step {step}: {'; '.join(parts)}: below half the MLE "
            f"start's ({stats['samples']} samples at temperature 1); see \"Collapse monitor\" in the README "
            f"(--keep-best-gan keeps the best monitored step)")


def length_drift(stats: dict, start: dict) -> float | None:
    """The relative change of the mean length from the MLE start's when it exceeds `DRIFT_FRACTION`, else None."""
    if start["mean_length"] <= 0:
        return None
    change = stats["mean_length"] / start["mean_length"] - 1
    return change if abs(change) > DRIFT_FRACTION else None


def drift_message(step: int, stats: dict, start: dict, change: float) -> str:
    """The one-line warning for a length drift of `change` at `step`."""
    return (f"warning: the mean sample length has moved {change:+.0%} from the MLE start's at adversarial step "
            f"{step} ({stats['mean_length']:.3g} against {start['mean_length']:.3g} tokens, {stats['samples']} samples "
            f"at temperature 1): {'shorter' if change < 0 else 'longer'} sentences move BLEU and Self-BLEU together, so "
            f"this is not an improvement (the length shortcut; see \"Troubleshooting\" in the README; --keep-best-gan keeps "
            f"the best monitored step)")


def describe(stats: dict, start: dict) -> str:
    """A short line of a measurement beside the MLE start's."""
    key = str(ORDER)
    text = (f"length {stats['mean_length']:.2f} (MLE {start['mean_length']:.2f})  "
            f"distinct {stats['distinct']:.1%} (MLE {start['distinct']:.1%})  "
            f"Self-BLEU-5 {stats['self_bleu'][key]:.3f} (MLE {start['self_bleu'][key]:.3f})")
    if "bleu" in stats:
        text += f"  BLEU-5 {stats['bleu'][key]:.3f}"
    if "frontier_gap" in stats:
        gap = stats["frontier_gap"]
        text += f"  frontier gap {gap:+.4f}" if math.isfinite(gap) else "  frontier gap: refused"
    return text


class CollapseMonitor(keras.callbacks.Callback):
    """Measures the generator's samples every `every` adversarial steps; warns of collapse; keeps the best step.

    Placed before the checkpoint callback, so that a step's checkpoint holds
    the best-step choice that step made.

    Args:
        monitor: the `SampleMonitor`.
        generator: the generator being trained.
        start: the MLE start's `SampleMonitor.measure_start` result.
        every: the period in adversarial steps (0: never).
        record: called with (step, values) for each measurement (metrics.jsonl, TensorBoard).
        echo: called with a short line per measurement; None for silence.
        warn: called once with the collapse warning; None for silence.
        best: a `BestWeights` of the generator for --keep-best-gan (the start
            needs its "curve"), offered each step with minus its frontier gap.
    """

    def __init__(self, monitor: SampleMonitor, generator, start: dict, every: int,
                 record: Callable[[int, dict], None], echo: Callable[[str], None] | None = None,
                 warn: Callable[[str], None] | None = None, best=None):
        super().__init__()
        self.monitor = monitor
        self.generator = generator
        self.start = start
        self.every = every
        self.record = record
        self.echo = echo
        self.warn = warn
        self.best = best
        self.warned = False
        self.drift_warned = False

    def measure(self, step: int) -> dict:
        """Measures the generator now, as step `step`; returns the values recorded."""
        stats = {"generator": GAN_PHASE, "temperature": 1.0, **self.monitor.measure(self.generator)}
        criteria = collapse_criteria(stats, self.start)
        if criteria:
            stats["collapse"] = criteria
            if not self.warned:
                self.warned = True
                if self.warn:
                    self.warn(collapse_message(step, stats, self.start, criteria))
        drift = length_drift(stats, self.start)
        if drift is not None:
            stats["length_drift"] = drift
            # Once, and not beside a collapse warning that already names the length.
            if not self.drift_warned and not self.warned:
                self.drift_warned = True
                if self.warn:
                    self.warn(drift_message(step, stats, self.start, drift))
        if self.best is not None:
            score, reason = frontier_score(stats, self.start)
            stats["frontier_gap"] = score
            if reason:
                stats["refused"] = reason
            # A NaN or -inf score is never kept; ties keep the earlier step (step 0 first).
            stats["best_so_far"] = self.best.offer(step, -score)
        self.record(step, stats)
        if self.echo:
            best = "  (best so far)" if stats.get("best_so_far") else ""
            self.echo(f"[step {step}] monitor: {describe(stats, self.start)}{best}")
        return stats

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step_counter.numpy())
        if self.every and step % self.every == 0:
            self.measure(step)
