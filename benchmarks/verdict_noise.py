#!/usr/bin/env python3
"""Checks the final verdict's noise band on a finished run: the MLE generator against its own curve.

    python benchmarks/verdict_noise.py runs/demo --draws 20

A run's verdict (`seqgan_gumbel.evaluation.frontier.frontier_verdict`) compares its GAN
with the MLE curve stored in metrics_mle.json and calls a gap "above" or
"below" only beyond two estimated standard errors. This script puts the
estimate to the test under the null hypothesis: it samples the run's *MLE*
generator again at temperature 1 with other seeds (`--draws` times, the
run's `training.num_eval_samples` each), so each draw is the MLE start
itself and any gap is sampling noise (each draw measures a fresh curve too,
as a run does). It prints the spread of those gaps
against the estimated standard error, how often the verdict calls a draw
"above" or "below" (about 5% of draws for a calibrated two-standard-error
band), and the measured spread of Self-BLEU-5 means against their
per-sample standard error. The MLE curve is measured here as the run measured
it (the run's seed and `training.num_eval_samples`), so that runs from before
the verdict can be checked too.

To find where a mean gap other than 0 comes from, each draw's gap is split
in two: its *linear* part, the point against the curve's own temperature-1
point along the chord of the curve's temperature-0.9 and -1.1 points (what
the gap would be if the curve were straight there), and the *kink* part,
the rest (what the piecewise-linear interpolation adds where the point's
Self-BLEU falls on one side of the temperature-1 point or the other). The
differences of the point from the curve's temperature-1 point, in BLEU and
in Self-BLEU, are printed beside them: under the null both have mean 0.
`--first-seed` draws with other seeds than an earlier check's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan_gumbel.quiet_tf import import_tensorflow  # noqa: E402

import_tensorflow()

import numpy as np  # noqa: E402

from seqgan_gumbel.corpus.loading import read_lines  # noqa: E402
from seqgan_gumbel.evaluation.frontier import (  # noqa: E402
    FRONTIER_ORDER,
    NOISE_Z,
    frontier_verdict,
    point_statistics,
)
from seqgan_gumbel.generation import sample_ids  # noqa: E402
from seqgan_gumbel.metrics.bleu import BleuScorer  # noqa: E402
from seqgan_gumbel.rundir import MLE_GENERATOR_FILE, RunDirectory  # noqa: E402
from seqgan_gumbel.training.run import frontier_curve  # noqa: E402


def linear_gap(curve: list[dict], point: dict) -> float:
    """The point's gap from the curve's temperature-1 point along the chord of its T 0.9 and T 1.1 points.

    Args:
        curve: `frontier_curve`'s points (temperatures 0.9, 1.0 and 1.1 among them).
        point: a `point_statistics` dict.

    Returns:
        BLEU - BLEU(T 1) - k * (Self-BLEU - Self-BLEU(T 1)), k the chord's slope.
    """
    at = {p["temperature"]: p for p in curve}
    low, middle, high = at[1.1], at[1.0], at[0.9]
    slope = (high["bleu"] - low["bleu"]) / (high["self_bleu"] - low["self_bleu"])
    return point["bleu"] - middle["bleu"] - slope * (point["self_bleu"] - middle["self_bleu"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a finished run directory")
    parser.add_argument("--draws", type=int, default=20, help="independent samplings of the MLE generator")
    parser.add_argument("--first-seed", type=int, default=None,
                        help="the first draw's curve seed (default: the run's seed + 1); draw d uses this + 2d and + 2d + 1")
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args(argv)

    run = RunDirectory(args.run_dir)
    config, tokenizer = run.load_config(), run.load_tokenizer()
    references = read_lines(config.data.test or config.data.corpus)
    scorer = BleuScorer([tokenizer.tokenize(s) for s in references], max_n=FRONTIER_ORDER)
    generator = run.load_generator(MLE_GENERATOR_FILE, tokenizer)
    num, run_seed = config.training.num_eval_samples, config.training.seed
    first_seed = run_seed + 1 if args.first_seed is None else args.first_seed
    gaps, errors, verdicts, self_bleus, self_errors = [], [], [], [], []
    linear_gaps, kink_gaps, bleu_offsets, self_bleu_offsets = [], [], [], []
    for draw in range(args.draws):
        # A fresh curve and a fresh point each draw: the gap's spread then holds both noises, as a run's does.
        curve_seed, point_seed = first_seed + 2 * draw, first_seed + 1 + 2 * draw
        curve = frontier_curve(generator, tokenizer, scorer, None, num, curve_seed)
        at_1 = next(p for p in curve if p["temperature"] == 1.0)
        ids = sample_ids(generator, num, 1.0, seed=point_seed)
        point = point_statistics([tokenizer.ids_to_tokens(row) for row in ids], scorer)
        verdict = frontier_verdict(curve, point, at_1["mean_length"])
        self_bleus.append(point["self_bleu"])
        self_errors.append(point["self_bleu_se"])
        verdicts.append(verdict["verdict"])
        if verdict["gap"] is not None:
            gaps.append(verdict["gap"])
            errors.append(verdict["noise"] / NOISE_Z)
            linear = linear_gap(curve, point)
            linear_gaps.append(linear)
            kink_gaps.append(verdict["gap"] - linear)
            bleu_offsets.append(point["bleu"] - at_1["bleu"])
            self_bleu_offsets.append(point["self_bleu"] - at_1["self_bleu"])
    seed = first_seed + 2 * args.draws - 1

    counts = {v: verdicts.count(v) for v in sorted(set(verdicts))}
    parts = {"linear_gap": linear_gaps, "kink_gap": kink_gaps, "bleu_offset": bleu_offsets,
             "self_bleu_offset": self_bleu_offsets}
    result = {
        "run_dir": str(args.run_dir), "draws": args.draws, "samples": num,
        "gap_mean": float(np.mean(gaps)), "gap_sd": float(np.std(gaps, ddof=1)),
        "estimated_se_mean": float(np.mean(errors)),
        "verdicts": counts,
        "false_alarms": (counts.get("above", 0) + counts.get("below", 0)) / len(verdicts),
        "self_bleu_sd": float(np.std(self_bleus, ddof=1)),
        "self_bleu_se_mean": float(np.mean(self_errors)),
        "first_seed": first_seed,
        **{f"{name}_mean": float(np.mean(values)) for name, values in parts.items()},
        **{f"{name}_sd": float(np.std(values, ddof=1)) for name, values in parts.items()},
    }
    result["se_ratio"] = result["gap_sd"] / result["estimated_se_mean"]
    result["self_bleu_se_ratio"] = result["self_bleu_sd"] / result["self_bleu_se_mean"]
    print(f"{args.run_dir}: the MLE generator against its own curve, {args.draws} draws of a curve and a point, "
          f"{num} samples each (seeds {first_seed}..{seed})")
    print(f"  gap BLEU-{FRONTIER_ORDER}: mean {result['gap_mean']:+.4f}, measured sd {result['gap_sd']:.4f}, "
          f"estimated standard error {result['estimated_se_mean']:.4f} (ratio {result['se_ratio']:.2f}; "
          f"below 1: the band is wide)")
    print(f"  the gap's parts: linear {result['linear_gap_mean']:+.4f} (sd {result['linear_gap_sd']:.4f}), kink "
          f"{result['kink_gap_mean']:+.4f} (sd {result['kink_gap_sd']:.4f}); the point minus the curve's T 1 point: "
          f"BLEU-{FRONTIER_ORDER} {result['bleu_offset_mean']:+.4f}, Self-BLEU-{FRONTIER_ORDER} "
          f"{result['self_bleu_offset_mean']:+.4f} (standard errors of these means: sd / {math.sqrt(len(gaps)):.1f})")
    print(f"  verdicts: {counts}; called above or below: {result['false_alarms']:.0%} of draws "
          f"(a calibrated {NOISE_Z:g}-standard-error band: about 5%)")
    print(f"  Self-BLEU-{FRONTIER_ORDER} means: measured sd {result['self_bleu_sd']:.4f}, per-sample standard "
          f"error {result['self_bleu_se_mean']:.4f} (ratio {result['self_bleu_se_ratio']:.2f})")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if math.isfinite(result["gap_sd"]) else 1


if __name__ == "__main__":
    sys.exit(main())
