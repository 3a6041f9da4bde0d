"""Times the exact BLEU / Self-BLEU against nltk on COCO captions.

Samples are COCO train.txt sentences, references test.txt sentences, both
split on whitespace (tokenization label "none").  Every timing is end to end:
token lists in, mean scores out (table building included).  nltk is timed on
a small subset and extrapolated linearly to the full job; the same subset
checks that both give the same values.

Usage:
    python benchmarks/bleu_speed.py [--shared ../shared] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import math
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from seqgan_gumbel.metrics.bleu import (  # noqa: E402
    BleuScorer,
    bleu,
    self_bleu,
    self_bleu_sentence_scores,
)

ORDERS = (2, 3, 4, 5)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options.

    Args:
        argv: arguments (default sys.argv[1:]).

    Returns:
        the parsed namespace.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO_ROOT.parent / "shared",
        help="folder holding datasets/coco/{train,test}.txt (default: ../shared)",
    )
    parser.add_argument("--samples", type=int, default=10_000, help="hypotheses/samples")
    parser.add_argument("--references", type=int, default=10_000, help="references")
    parser.add_argument("--nltk-hyps", type=int, default=20, help="nltk subset size")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (best kept)")
    return parser.parse_args(argv)


def read_tokens(path: Path, limit: int) -> list[list[str]]:
    """Whitespace tokens of the first `limit` lines of a text file.

    Args:
        path: the file.
        limit: number of lines.

    Returns:
        list of token lists.
    """
    lines = path.read_text(encoding="utf-8").splitlines()[:limit]
    return [line.split() for line in lines]


def best_time(fn, repeats: int):
    """Runs fn `repeats` times.

    Args:
        fn: callable without arguments.
        repeats: number of runs.

    Returns:
        (fastest wall time in seconds, result of the last run).
    """
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def nltk_bleu_rows(hypotheses, references_of):
    """nltk BLEU-2..5 per hypothesis, one sentence_bleu call per order.

    Args:
        hypotheses: token lists.
        references_of: i -> the reference list of hypothesis i.

    Returns:
        list of {n: score} per hypothesis.
    """
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    smooth = SmoothingFunction().method1
    return [
        {
            n: sentence_bleu(references_of(i), hyp, weights=(1 / n,) * n, smoothing_function=smooth)
            for n in ORDERS
        }
        for i, hyp in enumerate(hypotheses)
    ]


def max_abs_diff(ours: dict, rows: list) -> float:
    """Largest |ours - nltk| over a subset.

    Args:
        ours: n -> per-hypothesis array of our scores.
        rows: nltk's {n: score} per hypothesis.

    Returns:
        the maximum absolute difference.
    """
    return max(abs(float(ours[n][i]) - row[n]) for i, row in enumerate(rows) for n in ORDERS)


def fmt(scores: dict) -> str:
    return " ".join(f"{n}:{s:.4f}" for n, s in sorted(scores.items()))


def bench_bleu(samples, refs, args) -> None:
    seconds, result = best_time(lambda: bleu(samples, refs, ORDERS, tokenization="none"), args.repeats)
    print(f"BLEU-2..5  {len(samples)} samples x {len(refs)} refs: {seconds:.3f} s  [{fmt(result.scores)}]")
    print(f"  signature: {result.signature}")

    subset = samples[: args.nltk_hyps]
    start = time.perf_counter()
    rows = nltk_bleu_rows(subset, lambda i: refs)
    nltk_seconds = time.perf_counter() - start
    estimate = nltk_seconds * len(samples) / len(subset)
    ours = BleuScorer(refs, max(ORDERS)).sentence_scores_all(subset, ORDERS)
    print(
        f"  nltk: {nltk_seconds:.2f} s for {len(subset)} hyps -> est. {estimate:.0f} s "
        f"({estimate / 60:.1f} min) for all; speed-up ~{estimate / seconds:,.0f}x; "
        f"max |diff| on subset = {max_abs_diff(ours, rows):.3g}"
    )


def bench_self_bleu(samples, args) -> None:
    seconds, result = best_time(lambda: self_bleu(samples, ORDERS, tokenization="none"), args.repeats)
    print(f"Self-BLEU-2..5  {len(samples)} samples: {seconds:.3f} s  [{fmt(result.scores)}]")
    print(f"  signature: {result.signature}")

    count = min(args.nltk_hyps, len(samples))
    start = time.perf_counter()
    rows = nltk_bleu_rows(samples[:count], lambda i: samples[:i] + samples[i + 1 :])
    nltk_seconds = time.perf_counter() - start
    estimate = nltk_seconds * len(samples) / count
    ours = self_bleu_sentence_scores(samples, ORDERS)
    print(
        f"  nltk: {nltk_seconds:.2f} s for {count} samples -> est. {estimate:.0f} s "
        f"({estimate / 60:.1f} min) for all; speed-up ~{estimate / seconds:,.0f}x; "
        f"max |diff| on subset = {max_abs_diff(ours, rows):.3g}"
    )


def bench_cli(coco: Path, repeats: int) -> None:
    """Times whole `seqgan-gumbel evaluate` processes, interpreter start included."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    jobs = {
        "BLEU-2..5 vs 10,000 refs": ["--references", str(coco / "test.txt")],
        "Self-BLEU-2..5": ["--self-bleu"],
    }
    for label, extra in jobs.items():
        command = [sys.executable, "-m", "seqgan_gumbel", "evaluate", "--samples", str(coco / "train.txt"),
                   "--tokenize", "none", "--json", *extra]

        def run():
            subprocess.run(command, check=True, capture_output=True, env=env)

        seconds, _ = best_time(run, repeats)
        print(f"whole `seqgan-gumbel evaluate` process, {label}, 10,000 samples: {seconds:.2f} s (goal <= 3 s)")


def main(argv=None) -> int:
    args = parse_args(argv)
    coco = args.shared / "datasets" / "coco"
    if not (coco / "train.txt").is_file() or not (coco / "test.txt").is_file():
        print(f"COCO data not found under {coco}; pass --shared", file=sys.stderr)
        return 2
    start = time.perf_counter()
    samples = read_tokens(coco / "train.txt", args.samples)
    refs = read_tokens(coco / "test.txt", args.references)
    print(
        f"read + whitespace-split {len(samples) + len(refs)} lines: "
        f"{time.perf_counter() - start:.3f} s (not included below)"
    )
    bench_bleu(samples, refs, args)
    bench_self_bleu(samples, args)
    bench_self_bleu(samples[:1000], args)
    bench_cli(coco, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
