#!/usr/bin/env python3
"""Trains a Gumbel-softmax text GAN: ``python train.py [seqgan-gumbel train flags]``.

With no flags it trains on the embedded default corpus (data/simple_english,
sampled from the project's own grammar) into a new directory under runs/,
then prints samples and a BLEU report. Any flag of ``seqgan-gumbel train`` is
accepted; --corpus, --test, --grammar and --out get these defaults when absent.
"""

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from seqgan_gumbel.cli import main  # noqa: E402

DEFAULT_CORPUS = ROOT / "data" / "simple_english" / "train.txt"
DEFAULT_TEST = ROOT / "data" / "simple_english" / "test.txt"
DEFAULT_GRAMMAR = ROOT / "data" / "simple_english.pcfg"


def with_defaults(argv: list[str]) -> list[str]:
    """The train command line with the default corpus and a fresh run directory filled in."""
    if any(a in ("-h", "--help", "--resume") for a in argv):
        return ["train", *argv]
    flags = {a.split("=", 1)[0] for a in argv if a.startswith("--")}
    extra = []
    if "--corpus" not in flags and "--config" not in flags:
        extra += ["--corpus", str(DEFAULT_CORPUS)]
        if "--test" not in flags:
            extra += ["--test", str(DEFAULT_TEST)]
        if "--grammar" not in flags:
            extra += ["--grammar", str(DEFAULT_GRAMMAR)]
    if "--out" not in flags:
        extra += ["--out", str(ROOT / "runs" / datetime.now().strftime("run-%Y%m%d-%H%M%S"))]
    return ["train", *extra, *argv]


if __name__ == "__main__":
    sys.exit(main(with_defaults(sys.argv[1:])))
