"""Scoring sample files against reference files (no TensorFlow needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from seqgan_gumbel.corpus.loading import read_lines
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.metrics.bleu import BleuResult, bleu, self_bleu
from seqgan_gumbel.corpus.tokenizer import split_text


def tokenize_all(sentences: Sequence[str], tokenization: str = "word", lowercase: bool = False) -> list[list[str]]:
    """Tokens of every sentence, by the metrics' tokenization name (word|char|none)."""
    return [split_text(s, tokenization, lowercase) for s in sentences]


def evaluate_files(
    samples: str | Path,
    references: str | Path | None = None,
    orders: Sequence[int] = (2, 3, 4, 5),
    tokenization: str = "word",
    lowercase: bool = False,
    with_self_bleu: bool = False,
) -> dict[str, BleuResult]:
    """BLEU of a sample file against a reference file, and optionally Self-BLEU.

    Args:
        samples: generated sentences, one a line; a blank line is an empty
            sentence (it scores 0), as `generate` writes one.
        references: real sentences; every one is a reference of every sample.
            May be None when only Self-BLEU is asked for.
        orders: the n of BLEU-n.
        tokenization: "word", "char" or "none" (whitespace tokens as they are).
        lowercase: lower-case both sides first.
        with_self_bleu: also Self-BLEU-n of the samples (leave-one-out).

    Returns:
        {"bleu": BleuResult, "self_bleu": BleuResult}, each key present when computed.

    Raises:
        UserInputError: a file is missing, empty or not UTF-8; nothing to compute.
    """
    if not orders or any(n < 1 for n in orders):
        raise UserInputError(f"BLEU orders must be positive integers, got {list(orders)}")
    if references is None and not with_self_bleu:
        raise UserInputError("give --references FILE for BLEU, or --self-bleu for Self-BLEU alone")
    hypotheses = tokenize_all(read_lines(samples, "samples", keep_blank=True), tokenization, lowercase)
    results = {}
    if references is not None:
        refs = tokenize_all(read_lines(references, "references"), tokenization, lowercase)
        results["bleu"] = bleu(hypotheses, refs, orders=tuple(orders), tokenization=tokenization)
    if with_self_bleu:
        if len(hypotheses) < 2:
            raise UserInputError(f"{samples}: Self-BLEU needs at least two samples")
        results["self_bleu"] = self_bleu(hypotheses, orders=tuple(orders), tokenization=tokenization)
    return results
