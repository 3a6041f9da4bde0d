"""Exact and fast BLEU and Self-BLEU (Texygen / RelGAN protocol).

BLEU-n of a sample set is the mean over hypotheses of nltk's
``sentence_bleu(references, hypothesis, weights=(1/n,)*n,
smoothing_function=SmoothingFunction().method1)`` where ``references`` is the
whole reference set; Self-BLEU-n scores every sample against all the other
samples.  The values here equal nltk's bit for bit: clipping only needs each
n-gram's maximum count over the references (see :mod:`.ngrams`), the closest
reference length comes from the sorted reference lengths, and the last step
(log, ``math.fsum``, exp, brevity penalty) repeats nltk's float operations in
the same order with the same ``math`` functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Sequence

import numpy as np

from seqgan_gumbel.metrics.ngrams import (
    ReferenceTables,
    build_reference_tables,
    clipped_matches,
    ngram_totals,
)
from seqgan_gumbel.signature import signature

__all__ = [
    "BleuResult",
    "BleuScorer",
    "bleu",
    "self_bleu",
    "self_bleu_sentence_scores",
    "tokenize",
]

DEFAULT_ORDERS = (2, 3, 4, 5)
# nltk SmoothingFunction().method1 adds this to zero numerators.
METHOD1_EPSILON = 0.1


# --------------------------------------------------------------------------
# Result record
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BleuResult:
    """Corpus BLEU or Self-BLEU scores with the settings that produced them.

    Attributes:
        metric: "bleu" or "self_bleu".
        scores: order n -> mean BLEU-n over the samples.
        num_samples: number of scored hypotheses.
        num_references: references per hypothesis (all references for BLEU,
            ``num_samples - 1`` for Self-BLEU).
        tokenization: label of the tokenisation the inputs went through.
    """

    metric: str
    scores: dict = field(default_factory=dict)
    num_samples: int = 0
    num_references: int = 0
    tokenization: str = "word"

    @property
    def signature(self) -> str:
        """Sacrebleu-like string recording every setting of the computation."""
        return signature(self.metric, n=",".join(str(n) for n in sorted(self.scores)), samples=self.num_samples,
                         refs=self.num_references, tok=self.tokenization, smooth="method1",
                         refs_per_hyp="leave-one-out" if self.metric == "self_bleu" else "all")

    def to_dict(self) -> dict:
        """JSON-ready form; order keys become strings as JSON requires.

        Returns:
            dict with metric, scores, num_samples, num_references, signature.
        """
        return {
            "metric": self.metric,
            "scores": {str(n): float(s) for n, s in sorted(self.scores.items())},
            "num_samples": self.num_samples,
            "num_references": self.num_references,
            "signature": self.signature,
        }


# --------------------------------------------------------------------------
# Tokenisation and validation
# --------------------------------------------------------------------------


def tokenize(texts: Sequence, tokenization: str = "word") -> list:
    """Turns raw strings into token lists; token lists pass through.

    Args:
        texts: strings, or already tokenised sentences (lists/tuples).
        tokenization: for raw strings "word" (the package tokenizer's word
            level, nltk's NLTKWordTokenizer), "char" (every character) or
            "none" (whitespace split, like sacrebleu's ``-tok none``); for
            pre-tokenised input any label, only recorded in the signature.

    Returns:
        list of token sequences.

    Raises:
        ValueError: a string was given with a tokenisation this module cannot
            apply.
    """
    if len(texts) == 0 or not isinstance(texts[0], str):
        return list(texts)
    # Lazy: the word tokenizer pulls in nltk's tokenizers, which token-list
    # callers (the common, fast path) never need.
    from seqgan_gumbel.corpus.tokenizer import split_text

    return [split_text(text, tokenization) for text in texts]


def _check_orders(orders: Iterable[int], max_n: int | None = None) -> tuple:
    orders = tuple(sorted({int(n) for n in orders}))
    if not orders or orders[0] < 1:
        raise ValueError(f"BLEU orders must be positive integers, got {orders!r}")
    if max_n is not None and orders[-1] > max_n:
        raise ValueError(
            f"order {orders[-1]} exceeds the scorer's max_n={max_n}; "
            "build the BleuScorer with a larger max_n"
        )
    return orders


def _check_nonempty(sentences: Sequence, what: str) -> None:
    if len(sentences) == 0:
        raise ValueError(f"BLEU needs at least one {what}; got an empty list")


# --------------------------------------------------------------------------
# nltk's arithmetic, vectorised where that is bit-exact
# --------------------------------------------------------------------------


def _closest(lengths: np.ndarray, below: np.ndarray, above: np.ndarray) -> np.ndarray:
    """Picks the nearer of two candidate reference lengths, ties to the shorter.

    Args:
        lengths: hypothesis lengths.
        below: nearest reference length <= the hypothesis length, -1 if none.
        above: nearest reference length >= the hypothesis length, -1 if none.

    Returns:
        the closest reference length (nltk's closest_ref_length).
    """
    take_below = (below >= 0) & ((above < 0) | (lengths - below <= above - lengths))
    return np.where(take_below, below, above)


def closest_reference_lengths(hyp_lengths, ref_lengths) -> np.ndarray:
    """nltk's closest_ref_length against a whole reference set, vectorised.

    Args:
        hyp_lengths: hypothesis lengths.
        ref_lengths: lengths of all references (non-empty).

    Returns:
        int64 closest reference length per hypothesis.
    """
    distinct = np.unique(ref_lengths)
    index = np.searchsorted(distinct, hyp_lengths)
    above = np.where(index < distinct.size, distinct[np.minimum(index, distinct.size - 1)], -1)
    below = np.where(index > 0, distinct[np.maximum(index - 1, 0)], -1)
    below = np.where(above == hyp_lengths, above, below)
    return _closest(hyp_lengths, below, above)


def leave_one_out_closest_lengths(lengths) -> np.ndarray:
    """Closest length among the other sentences' lengths, for each sentence.

    Args:
        lengths: sentence lengths (at least two sentences).

    Returns:
        int64 closest length over the multiset with the sentence's own length
        removed once.
    """
    distinct, counts = np.unique(lengths, return_counts=True)
    index = np.searchsorted(distinct, lengths)
    # Own length stays available when another sentence shares it.
    shared = counts[index] >= 2
    below = np.where(index > 0, distinct[np.maximum(index - 1, 0)], -1)
    above = np.where(
        index + 1 < distinct.size, distinct[np.minimum(index + 1, distinct.size - 1)], -1
    )
    below = np.where(shared, lengths, below)
    above = np.where(shared, lengths, above)
    return _closest(lengths, below, above)


def _brevity_penalty(closest: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """nltk's brevity_penalty per hypothesis.

    Args:
        closest: closest reference lengths.
        lengths: hypothesis lengths.

    Returns:
        float64 penalties: 1 if longer than the reference, 0 if empty, else
        exp(1 - r/c) evaluated with ``math.exp`` (numpy's exp may differ in
        the last bit).
    """
    penalty = np.ones(lengths.shape[0], dtype=np.float64)
    short = (lengths <= closest) & (lengths > 0)
    # numpy float64 division of exact integers is IEEE, like Python's int/int.
    args = 1 - closest[short] / lengths[short]
    distinct, inverse = np.unique(args, return_inverse=True)
    penalty[short] = np.array([math.exp(a) for a in distinct.tolist()])[inverse]
    penalty[lengths == 0] = 0.0
    return penalty


def _log_precisions(matches: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """math.log of nltk's method1-smoothed modified precisions.

    Args:
        matches: clipped match counts (numerators).
        totals: n-gram counts of the hypotheses.

    Returns:
        float64 array of log p with p = m / max(1, total), or 0.1 / max(1,
        total) when m == 0.
    """
    denominators = np.maximum(totals, 1)
    # Fraction.__float__ is numerator/denominator, correctly rounded, which
    # the float64 division of these exact integers reproduces.
    numerators = np.where(matches == 0, METHOD1_EPSILON, matches)
    precisions = numerators / denominators
    distinct, inverse = np.unique(precisions, return_inverse=True)
    logs = np.array([math.log(p) for p in distinct.tolist()])
    return logs[inverse].reshape(precisions.shape)


def _combine(log_p: np.ndarray, unigram_matches, penalty: np.ndarray, n: int) -> np.ndarray:
    """BLEU-n per hypothesis from precomputed pieces, nltk's operation order.

    Args:
        log_p: (num_hyp, >= n) log modified precisions.
        unigram_matches: clipped unigram matches (0 -> score 0, as in nltk).
        penalty: brevity penalties.
        n: the order.

    Returns:
        float64 BLEU-n per hypothesis.
    """
    weight = 1 / n
    terms = (weight * log_p[:, :n]).tolist()
    # math.fsum is correctly rounded, so it has to be math.fsum itself.
    exps = np.array([math.exp(s) for s in map(math.fsum, terms)], dtype=np.float64)
    scores = penalty * exps
    scores[unigram_matches == 0] = 0.0
    return scores


def _sentence_scores(matches, lengths, closest, orders) -> dict:
    """Per-hypothesis BLEU for several orders sharing the count work.

    Args:
        matches: (num_hyp, max_n) clipped matches.
        lengths: hypothesis lengths.
        closest: closest reference lengths.
        orders: orders to score (each <= max_n).

    Returns:
        dict n -> float64 per-hypothesis scores.
    """
    max_n = max(orders)
    log_p = _log_precisions(matches[:, :max_n], ngram_totals(lengths, max_n))
    penalty = _brevity_penalty(closest, lengths)
    return {n: _combine(log_p, matches[:, 0], penalty, n) for n in orders}


def _mean(values: np.ndarray) -> float:
    return math.fsum(values.tolist()) / values.shape[0]


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


class BleuScorer:
    """BLEU against a fixed reference set; the n-gram table is built once.

    Args:
        references: tokenised reference sentences (list of token lists).
        max_n: highest order that will be asked for.

    Raises:
        ValueError: no references, or max_n < 1.
    """

    def __init__(self, references: Sequence[Sequence[Hashable]], max_n: int = 5):
        _check_nonempty(references, "reference")
        if max_n < 1:
            raise ValueError(f"max_n must be >= 1, got {max_n}")
        self.max_n = int(max_n)
        self.num_references = len(references)
        tables, corpus = build_reference_tables(references, self.max_n)
        self._tables: ReferenceTables = tables
        self._ref_lengths = np.unique(corpus.lengths)

    def sentence_scores_all(self, hypotheses, orders=DEFAULT_ORDERS) -> dict:
        """Per-hypothesis BLEU for several orders in one pass.

        Args:
            hypotheses: tokenised hypotheses.
            orders: BLEU orders, each <= max_n.

        Returns:
            dict n -> float64 array of per-hypothesis BLEU-n.
        """
        _check_nonempty(hypotheses, "hypothesis")
        orders = _check_orders(orders, self.max_n)
        matches, lengths = clipped_matches(hypotheses, self._tables, max(orders))
        closest = closest_reference_lengths(lengths, self._ref_lengths)
        return _sentence_scores(matches, lengths, closest, orders)

    def sentence_scores(self, hypotheses, n: int) -> np.ndarray:
        """Per-hypothesis BLEU-n, each hypothesis against all references.

        Args:
            hypotheses: tokenised hypotheses.
            n: the order (<= max_n).

        Returns:
            float64 array, equal to nltk's sentence_bleu values.
        """
        return self.sentence_scores_all(hypotheses, (n,))[n]

    def score(self, hypotheses, orders=DEFAULT_ORDERS) -> dict:
        """Mean BLEU over hypotheses for several orders.

        Args:
            hypotheses: tokenised hypotheses.
            orders: BLEU orders, each <= max_n.

        Returns:
            dict n -> mean BLEU-n.
        """
        per_sentence = self.sentence_scores_all(hypotheses, orders)
        return {n: _mean(s) for n, s in per_sentence.items()}


def self_bleu_sentence_scores(samples, orders=DEFAULT_ORDERS) -> dict:
    """Per-sample Self-BLEU: each sample against all other samples.

    Args:
        samples: tokenised samples (at least two); duplicates of a sample
            stay references for it.
        orders: BLEU orders.

    Returns:
        dict n -> float64 array of per-sample BLEU-n.

    Raises:
        ValueError: fewer than two samples.
    """
    if len(samples) < 2:
        raise ValueError(
            f"Self-BLEU needs at least 2 samples (each is scored against the "
            f"others); got {len(samples)}"
        )
    orders = _check_orders(orders)
    tables, corpus = build_reference_tables(samples, max(orders), leave_one_out=True)
    closest = leave_one_out_closest_lengths(corpus.lengths)
    return _sentence_scores(tables.self_matches, corpus.lengths, closest, orders)


def bleu(hypotheses, references, orders=DEFAULT_ORDERS, tokenization="word") -> BleuResult:
    """Texygen/RelGAN BLEU: each hypothesis against the whole reference set.

    Args:
        hypotheses: token lists, or raw strings (tokenised per
            ``tokenization``).
        references: token lists, or raw strings.
        orders: BLEU orders to report.
        tokenization: "word", "char" or "none" for raw strings (see
            :func:`tokenize`); a free label for pre-tokenised input.

    Returns:
        BleuResult with metric "bleu".

    Raises:
        ValueError: empty hypotheses or references, bad orders.
    """
    _check_nonempty(hypotheses, "hypothesis")
    _check_nonempty(references, "reference")
    orders = _check_orders(orders)
    hyps = tokenize(hypotheses, tokenization)
    refs = tokenize(references, tokenization)
    scores = BleuScorer(refs, max_n=max(orders)).score(hyps, orders)
    return BleuResult(
        metric="bleu",
        scores=scores,
        num_samples=len(hyps),
        num_references=len(refs),
        tokenization=tokenization,
    )


def self_bleu(samples, orders=DEFAULT_ORDERS, tokenization="word") -> BleuResult:
    """Texygen/RelGAN Self-BLEU: each sample against all the other samples.

    Args:
        samples: token lists, or raw strings (tokenised per ``tokenization``).
        orders: BLEU orders to report.
        tokenization: "word", "char" or "none" for raw strings (see
            :func:`tokenize`); a free label for pre-tokenised input.

    Returns:
        BleuResult with metric "self_bleu" and num_references = samples - 1.

    Raises:
        ValueError: fewer than two samples, bad orders.
    """
    tokens = tokenize(samples, tokenization)
    per_sample = self_bleu_sentence_scores(tokens, orders)
    return BleuResult(
        metric="self_bleu",
        scores={n: _mean(s) for n, s in per_sample.items()},
        num_samples=len(tokens),
        num_references=len(tokens) - 1,
        tokenization=tokenization,
    )
