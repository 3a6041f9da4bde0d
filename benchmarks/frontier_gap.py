#!/usr/bin/env python3
"""Prints how far each GAN point of a sweep lies from its MLE temperature curve.

    python benchmarks/frontier_gap.py benchmarks/results/sweeps/quick-coco-seed2-keep-best-mle.json
    python benchmarks/frontier_gap.py --starts BASE.json OTHER.json   # two ablation records

For each GAN temperature, the MLE curve is interpolated linearly in Self-BLEU-n
between its two neighbouring points, and the GAN's BLEU-n (and NLL_oracle, where
the sweep has it) is compared there: the "above / on its MLE curve" figures
of docs/results.md. Points outside the MLE curve's Self-BLEU range are reported as such.
The interpolation is `seqgan_gumbel.evaluation.frontier`'s, which `--keep-best-gan` uses too.

`--starts` compares two MLE starts of the same seeds, each from an
`ablation.py` record (e.g. pretraining with and without `--mle-lr-decay`):
for every seed both hold, OTHER's curves (its MLE start and each variant)
against BASE's MLE curve, and BASE's variants against OTHER's MLE curve.
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
        mean_length and mle_mean_length: the GAN's and the MLE generator's mean
        sample length at that temperature (None where a curve lacks it), since
        a GAN that gains BLEU by writing shorter sentences has not improved.
    """
    gan_lengths, mle_lengths = gan.get("mean_length") or {}, mle.get("mean_length") or {}
    mle_points = _points(mle, n)
    self_bleus = [p[0] for p in mle_points]
    out = []
    for self_bleu, bleu, nll, temperature in _points(gan, n):
        row = {"temperature": temperature, "self_bleu": self_bleu, "bleu": bleu, "mle_bleu": None,
               "mean_length": gan_lengths.get(temperature), "mle_mean_length": mle_lengths.get(temperature)}
        position = locate(self_bleus, self_bleu)
        if position is not None:
            row["mle_bleu"] = value_at([p[1] for p in mle_points], position)
            mle_nll = [p[2] for p in mle_points]
            i, f = position
            if nll is not None and None not in mle_nll[i:i + 2 if f else i + 1]:
                row["nll_oracle"], row["mle_nll_oracle"] = nll, value_at(mle_nll, position)
        out.append(row)
    return out


def cross_gaps(base: dict, other: dict, n: str = "5") -> list[dict]:
    """Each record's curves against the other record's MLE curve, seed by seed.

    Args:
        base, other: two `ablation.py` records (their "runs": seed -> {"mle": curve,
            variant: curve, ...}) measured against the same references.
        n: the BLEU order, as a string key.

    Returns:
        One dict per (seed, curve, reference curve): seed, curve (e.g. "other mle",
        "base gan"), against ("base mle" or "other mle") and rows (`gaps`' rows).
        OTHER's MLE start and variants are placed on BASE's MLE curve, then
        BASE's variants on OTHER's MLE curve.

    Raises:
        ValueError: when a shared seed's two MLE curves were scored against
            different references (their BLEU signatures differ).
    """
    out = []
    for seed in sorted(base["runs"].keys() & other["runs"].keys(), key=int):
        base_runs, other_runs = base["runs"][seed], other["runs"][seed]
        signatures = {(runs["mle"].get("signatures") or {}).get("bleu") for runs in (base_runs, other_runs)}
        if len(signatures) > 1:
            raise ValueError(f"seed {seed}: the two records' MLE curves were scored differently "
                             f"({' / '.join(sorted(map(str, signatures)))})")
        for name, curve in other_runs.items():
            out.append({"seed": seed, "curve": f"other {name}", "against": "base mle",
                        "rows": gaps(curve, base_runs["mle"], n)})
        for name, curve in base_runs.items():
            if name != "mle":
                out.append({"seed": seed, "curve": f"base {name}", "against": "other mle",
                            "rows": gaps(curve, other_runs["mle"], n)})
    return out


def _gap_text(row: dict) -> str:
    return "outside" if row["mle_bleu"] is None else f"{row['bleu'] - row['mle_bleu']:+.4f}"


def _length_text(row: dict) -> str:
    """The GAN's mean length beside the MLE start's at the same temperature, where both are known."""
    length, mle_length = row["mean_length"], row["mle_mean_length"]
    if length is None or not mle_length:
        return ""
    return f"; length {length:.2f} (MLE {mle_length:.2f}, {100 * (length / mle_length - 1):+.1f}%)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, nargs="?", help="a sweep JSON written by seqgan-gumbel evaluate-sweep")
    parser.add_argument("--starts", type=Path, nargs=2, metavar=("BASE", "OTHER"),
                        help="two benchmarks/ablation.py records of the same seeds: each one's curves "
                             "against the other's MLE curve")
    parser.add_argument("--n", default="5", help="BLEU order (default 5)")
    args = parser.parse_args()
    if (args.sweep is None) == (args.starts is None):
        parser.error("give a sweep JSON or --starts BASE OTHER")
    if args.starts:
        base, other = (json.loads(path.read_text(encoding="utf-8")) for path in args.starts)
        try:
            comparisons = cross_gaps(base, other, args.n)
        except ValueError as error:
            sys.exit(f"frontier_gap.py: {error}")
        print(f"base: {args.starts[0]}\nother: {args.starts[1]}\nBLEU-{args.n} minus the curve at equal Self-BLEU-{args.n}")
        for item in comparisons:
            by_temperature = sorted(item["rows"], key=lambda row: float(row["temperature"]))
            cells = "  ".join(f"T {row['temperature']} {_gap_text(row)}" for row in by_temperature)
            print(f"  seed {item['seed']}: {item['curve']:>16} on {item['against']}:  {cells}")
        return
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
                print(line + ": outside the MLE curve's range" + _length_text(row))
                continue
            line += f"; MLE curve there {row['mle_bleu']:.4f} ({row['bleu'] - row['mle_bleu']:+.4f})"
            if "nll_oracle" in row:
                line += (f"; NLL_oracle {row['nll_oracle']:.4f} against {row['mle_nll_oracle']:.4f}"
                         f" ({row['nll_oracle'] - row['mle_nll_oracle']:+.4f})")
            print(line + _length_text(row))


if __name__ == "__main__":
    main()
