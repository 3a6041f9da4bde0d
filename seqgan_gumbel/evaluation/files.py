"""Scoring sample files against reference files (no TensorFlow needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from seqgan_gumbel.corpus.loading import read_lines
from seqgan_gumbel.corpus.tokenizer import split_text
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.scorer import SampleScorer, SampleScores
from seqgan_gumbel.metrics.bleu import BleuResult


def tokenize_all(sentences: Sequence[str], tokenization: str = "word", lowercase: bool = False) -> list[list[str]]:
    """Tokens of every sentence, by the metrics' tokenization name (word|char|none)."""
    return [split_text(s, tokenization, lowercase) for s in sentences]


def score_files(
    samples: str | Path,
    references: str | Path | None = None,
    orders: Sequence[int] = (2, 3, 4, 5),
    tokenization: str = "word",
    lowercase: bool = False,
    with_self_bleu: bool = False,
    grammar: str | Path | None = None,
) -> SampleScores:
    """Every score of a sample file: BLEU against a reference file, Self-BLEU, grammar validity.

    Args:
        samples: generated sentences, one a line; a blank line is an empty
            sentence (it scores 0), as `generate` writes one.
        references: real sentences; every one is a reference of every sample
            (None: no BLEU).
        orders: the n of BLEU-n.
        tokenization: "word", "char" or "none" (whitespace tokens as they are).
        lowercase: lower-case both sides first (the grammar sees the same tokens).
        with_self_bleu: also Self-BLEU-n of the samples (leave-one-out).
        grammar: a PCFG file: also the fraction of samples it derives.

    Returns:
        The `SampleScores` (mean length and distinct fraction always).

    Raises:
        UserInputError: a file is missing, empty or not UTF-8, a grammar that
            does not load, bad orders, or Self-BLEU of one sample.
    """
    if not orders or any(n < 1 for n in orders):
        raise UserInputError(f"BLEU orders must be positive integers, got {list(orders)}")
    checker = None
    if grammar is not None:
        from seqgan_gumbel.corpus.grammar import GrammarChecker, load_grammar

        try:
            checker = GrammarChecker(load_grammar(grammar))
        except FileNotFoundError:
            raise UserInputError(f"{grammar}: grammar file not found") from None
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
    hypotheses = tokenize_all(read_lines(samples, "samples", keep_blank=True), tokenization, lowercase)
    refs = tokenize_all(read_lines(references, "references"), tokenization, lowercase) if references is not None \
        else None
    if with_self_bleu and len(hypotheses) < 2:
        raise UserInputError(f"{samples}: Self-BLEU needs at least two samples")
    scorer = SampleScorer(refs, tokenization, orders, with_self_bleu=with_self_bleu, grammar_checker=checker,
                          grammar_name=Path(grammar).name if grammar is not None else "")
    return scorer.score(hypotheses)


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
        {"bleu": BleuResult, "self_bleu": BleuResult}, each key present when
        computed (`score_files` has every score).

    Raises:
        UserInputError: a file is missing, empty or not UTF-8; nothing to compute.
    """
    if references is None and not with_self_bleu:
        raise UserInputError("give --references FILE for BLEU, or --self-bleu for Self-BLEU alone")
    scores = score_files(samples, references, orders, tokenization, lowercase, with_self_bleu)
    return {name: result for name, result in (("bleu", scores.bleu), ("self_bleu", scores.self_bleu))
            if result is not None}
