#!/usr/bin/env python3
"""Prints how far each GAN point of a sweep lies from its MLE temperature curve.

    python benchmarks/frontier_gap.py benchmarks/results/sweeps/quick-coco-seed2-keep-best-mle.json

For each GAN temperature, the MLE curve is interpolated linearly in Self-BLEU-n
between its two neighbouring points, and the GAN's BLEU-n (and NLL_oracle, where
the sweep has it) is compared there: the "above / on its MLE curve" figures
of docs/results.md. Points outside the MLE curve's Self-BLEU range are reported as such.
The interpolation is `seqgan_gumbel.evaluation.frontier`'s, which `--keep-best-gan` uses too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan_gumbel.evaluation.frontier import locate, value_at  # noqa: E402  (the one implementation)


def _points(curve: dict, n: str) -> list[tuple[float, float, float | None, str]]:
    """(Self-BLEU-n, BLEU-n, NLL_oracle or None, temperature) per temperature, by Self-BLEU."""
    oracle = curve.get("nll_oracle") or {}
    return sorted(
        (curve["self_bleu"][t][n], curve["bleu"][t][n], (oracle.get(t) or {}).get("nll"), t)
        for t in curve["bleu"]
    )


def gaps(gan: dict, mle: dict, n: str = "5") -> list[dict]:
    """Compares each GAN point with the MLE curve at the GAN's Self-BLEU-n.

    Args:
        gan, mle: two curves of a sweep JSON (its "curves" entries).
        n: the BLEU order, as a string key.

    Returns:
        One dict per GAN temperature: temperature, self_bleu, bleu, and, where the
        MLE curve spans that Self-BLEU, mle_bleu (and nll_oracle / mle_nll_oracle
        where both curves have NLL_oracle); mle_bleu is None outside its range.
    """
    mle_points = _points(mle, n)
    self_bleus = [p[0] for p in mle_points]
    out = []
    for self_bleu, bleu, nll, temperature in _points(gan, n):
        row = {"temperature": temperature, "self_bleu": self_bleu, "bleu": bleu, "mle_bleu": None}
        position = locate(self_bleus, self_bleu)
        if position is not None:
            row["mle_bleu"] = value_at([p[1] for p in mle_points], position)
            mle_nll = [p[2] for p in mle_points]
            i, f = position
            if nll is not None and None not in mle_nll[i:i + 2 if f else i + 1]:
                row["nll_oracle"], row["mle_nll_oracle"] = nll, value_at(mle_nll, position)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="a sweep JSON written by seqgan-gumbel evaluate-sweep")
    parser.add_argument("--n", default="5", help="BLEU order (default 5)")
    args = parser.parse_args()
    curves = json.loads(args.sweep.read_text(encoding="utf-8"))["curves"]
    by_kind = {}
    for curve in curves:
        by_kind.setdefault(curve["run_dir"], {})[curve["label"].rsplit("/", 1)[-1]] = curve
    for run_dir, pair in by_kind.items():
        if not {"gan", "mle"} <= pair.keys():
            continue
        print(run_dir)
        for row in gaps(pair["gan"], pair["mle"], args.n):
            line = f"  GAN T {row['temperature']}: BLEU-{args.n} {row['bleu']:.4f} at Self-BLEU-{args.n} {row['self_bleu']:.4f}"
            if row["mle_bleu"] is None:
                print(line + ": outside the MLE curve's range")
                continue
            line += f"; MLE curve there {row['mle_bleu']:.4f} ({row['bleu'] - row['mle_bleu']:+.4f})"
            if "nll_oracle" in row:
                line += (f"; NLL_oracle {row['nll_oracle']:.4f} against {row['mle_nll_oracle']:.4f}"
                         f" ({row['nll_oracle'] - row['mle_nll_oracle']:+.4f})")
            print(line)


if __name__ == "__main__":
    main()
