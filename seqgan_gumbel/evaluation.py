"""Scoring sample files against reference files (no TensorFlow needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from seqgan_gumbel.corpus import read_lines
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.metrics.bleu import BleuResult, bleu
from seqgan_gumbel.tokenizer import split_text


def tokenize_all(sentences: Sequence[str], tokenization: str = "word", lowercase: bool = False) -> list[list[str]]:
    """Tokens of every sentence, by the metrics' tokenization name (word|char|none)."""
    return [split_text(s, tokenization, lowercase) for s in sentences]


def evaluate_files(
    samples: str | Path,
    references: str | Path,
    orders: Sequence[int] = (2, 3, 4, 5),
    tokenization: str = "word",
    lowercase: bool = False,
) -> BleuResult:
    """BLEU of a sample file against a reference file (one sentence a line).

    Args:
        samples: generated sentences.
        references: real sentences; every one is a reference of every sample.
        orders: the n of BLEU-n.
        tokenization: "word", "char" or "none" (whitespace tokens as they are).
        lowercase: lower-case both sides first.

    Returns:
        The scores with their signature.

    Raises:
        UserInputError: a file is missing, empty or not UTF-8.
    """
    if not orders or any(n < 1 for n in orders):
        raise UserInputError(f"BLEU orders must be positive integers, got {list(orders)}")
    hypotheses = tokenize_all(read_lines(samples, "samples"), tokenization, lowercase)
    refs = tokenize_all(read_lines(references, "references"), tokenization, lowercase)
    return bleu(hypotheses, refs, orders=tuple(orders), tokenization=tokenization)
