"""One scorer for a set of generated sentences, and the one record of its scores.

Every figure the project reports for a generator's samples (BLEU and
Self-BLEU, the mean length and the distinct fraction beside them, grammar
validity, NLL_oracle, and the model's NLL_test and NLL_train) comes from
`SampleScorer.score` as a `SampleScores`, serialised one way (`to_dict`):
the final report (metrics.json), the temperature sweep, the benchmarks'
records and ``seqgan-gumbel evaluate --json`` all write that shape. The
references are tokenized and their n-gram tables built once, when the scorer
is made, however many sample sets it scores.

No TensorFlow here: an oracle (which needs it) is passed in already built.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from seqgan_gumbel.metrics.bleu import DEFAULT_ORDERS, BleuResult, BleuScorer, self_bleu

__all__ = ["SampleScorer", "SampleScores", "format_scores", "bleu_signature"]

# The model-dependent figures a `SampleScores` can carry beside the sample scores (see `with_figure`).
LIKELIHOOD_FIGURES = ("nll_test", "nll_train")


@dataclass(frozen=True)
class SampleScores:
    """Every score of one set of samples, each with its signature.

    Attributes:
        num_samples: the scored sentences.
        mean_length: their mean length in tokens (always beside BLEU and
            Self-BLEU: shorter sentences move both).
        distinct: the fraction of them that are distinct.
        bleu: BLEU-n against the references (None: no references).
        self_bleu: Self-BLEU-n of the samples (None: not asked for).
        grammar_validity: the fraction the corpus's grammar derives.
        nll_oracle: NLL_oracle of the samples the oracle can score (None:
            no oracle, or none scorable).
        nll_oracle_scored: how many samples the oracle scored.
        nll_test: the model's NLL of the test sentences (nats per token).
        nll_train: the model's NLL of the training sentences.
        signatures: the signature of each figure above other than BLEU's
            and Self-BLEU's (which carry their own), by figure name.
    """

    num_samples: int
    mean_length: float
    distinct: float
    bleu: BleuResult | None = None
    self_bleu: BleuResult | None = None
    grammar_validity: float | None = None
    nll_oracle: float | None = None
    nll_oracle_scored: int | None = None
    nll_test: float | None = None
    nll_train: float | None = None
    signatures: Mapping[str, str] = field(default_factory=dict)

    def with_figure(self, name: str, value: float, signature: str) -> "SampleScores":
        """These scores plus a model's figure ("nll_test" or "nll_train") and its signature.

        Args:
            name: one of `LIKELIHOOD_FIGURES`.
            value: the figure.
            signature: its signature (`evaluation.likelihood.nll_test_signature`).

        Returns:
            A new `SampleScores`.
        """
        if name not in LIKELIHOOD_FIGURES:
            raise ValueError(f"not a model figure: {name!r} (expected one of {LIKELIHOOD_FIGURES})")
        return dataclasses.replace(self, **{name: value}, signatures={**self.signatures, name: signature})

    @property
    def all_signatures(self) -> dict[str, str]:
        """The signature of every figure present, BLEU's and Self-BLEU's first."""
        found = {name: result.signature for name, result in (("bleu", self.bleu), ("self_bleu", self.self_bleu))
                 if result is not None}
        return {**found, **self.signatures}

    def to_dict(self) -> dict:
        """The one serialised form (JSON-ready; order keys become strings).

        Returns:
            {"bleu": {"2": ...}, "self_bleu": {...}, "num_samples", "num_references",
            "mean_length", "distinct", then "nll_test", "nll_train",
            "grammar_validity", "nll_oracle", "nll_oracle_scored_samples" where
            computed, and "signature": {figure: signature}}.
        """
        out: dict = {}
        for name, result in (("bleu", self.bleu), ("self_bleu", self.self_bleu)):
            if result is not None:
                out[name] = {str(n): float(score) for n, score in result.scores.items()}
        out["num_samples"] = self.num_samples
        if self.bleu is not None:
            out["num_references"] = self.bleu.num_references
        out["mean_length"] = self.mean_length
        out["distinct"] = self.distinct
        for name in ("nll_test", "nll_train", "grammar_validity"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.nll_oracle_scored is not None:
            out["nll_oracle"] = self.nll_oracle
            out["nll_oracle_scored_samples"] = self.nll_oracle_scored
        out["signature"] = self.all_signatures
        return out


class SampleScorer:
    """Scores sets of samples against one set of references.

    Args:
        references: the BLEU references as token lists, or a `BleuScorer`
            already built from them (shared with other evaluations), or None
            for no BLEU.
        tokenization: the tokenization label the signatures record ("word",
            "char", "none").
        orders: the n of BLEU-n and Self-BLEU-n.
        with_self_bleu: also Self-BLEU-n (leave-one-out).
        grammar_checker: a `corpus.grammar.GrammarChecker`, for grammar validity.
        grammar_name: the grammar file's name, for the validity signature.
        oracle: a `corpus.oracle.Oracle` whose ids are the samples' tokens,
            for NLL_oracle.
        oracle_name: the oracle weights' file name, for its signature.
    """

    def __init__(self, references: Sequence[Sequence[str]] | BleuScorer | None, tokenization: str = "word",
                 orders: Sequence[int] = DEFAULT_ORDERS, *, with_self_bleu: bool = True, grammar_checker=None,
                 grammar_name: str = "", oracle=None, oracle_name: str = ""):
        self.orders = tuple(orders)
        if isinstance(references, BleuScorer):
            if references.max_n < max(self.orders):
                raise ValueError(f"the BLEU scorer goes up to order {references.max_n}, not {max(self.orders)}")
            self.bleu_scorer = references
        else:
            self.bleu_scorer = BleuScorer(references, max_n=max(self.orders)) if references is not None else None
        self.tokenization = tokenization
        self.with_self_bleu = with_self_bleu
        self.grammar_checker = grammar_checker
        self.grammar_name = grammar_name
        self.oracle = oracle
        self.oracle_name = oracle_name

    @property
    def num_references(self) -> int:
        """References per hypothesis (0: no BLEU)."""
        return self.bleu_scorer.num_references if self.bleu_scorer is not None else 0

    def score(self, hypotheses: Sequence[Sequence[str]]) -> SampleScores:
        """Every score this scorer computes, of one set of samples.

        Args:
            hypotheses: the samples' tokens (EOS and padding removed); at least
                one, at least two for Self-BLEU.

        Returns:
            The scores.
        """
        num = len(hypotheses)
        bleu_result = None
        if self.bleu_scorer is not None:
            bleu_result = BleuResult("bleu", self.bleu_scorer.score(hypotheses, self.orders), num,
                                     self.bleu_scorer.num_references, self.tokenization)
        # Always beside BLEU where asked for: a model can buy BLEU with diversity.
        diversity = self_bleu(hypotheses, orders=self.orders, tokenization=self.tokenization) \
            if self.with_self_bleu else None
        signatures, extra = {}, {}
        if self.grammar_checker is not None:
            from seqgan_gumbel.corpus.grammar import validity_signature

            extra["grammar_validity"] = self.grammar_checker.validity(hypotheses)
            signatures["grammar_validity"] = validity_signature(self.grammar_name, num, self.tokenization)
        if self.oracle is not None:
            from seqgan_gumbel.corpus.oracle import nll_oracle_signature

            extra["nll_oracle"], extra["nll_oracle_scored"] = self.oracle.nll_of_tokens(hypotheses)
            signatures["nll_oracle"] = nll_oracle_signature(self.oracle_name, self.oracle.sequence_length,
                                                            extra["nll_oracle_scored"])
        return SampleScores(
            num_samples=num,
            mean_length=float(np.mean([len(h) for h in hypotheses])),
            distinct=len({tuple(h) for h in hypotheses}) / num,
            bleu=bleu_result,
            self_bleu=diversity,
            signatures=signatures,
            **extra,
        )


def format_scores(scores: Mapping) -> str:
    """A `SampleScores.to_dict` (or an older run's metrics.json) on one line: BLEU-n, Self-BLEU-5, length, NLL."""
    text = "  ".join(f"BLEU-{n}: {v:.3f}" for n, v in scores["bleu"].items())
    if "self_bleu" in scores:
        text += f"  Self-BLEU-5: {scores['self_bleu']['5']:.3f}"
    if "mean_length" in scores:
        text += f"  length: {scores['mean_length']:.2f}"
    if "nll_test" in scores:
        text += f"  NLL_test: {scores['nll_test']:.3f}"
    if "nll_train" in scores:
        text += f"  NLL_train: {scores['nll_train']:.3f}"
    if "grammar_validity" in scores:
        text += f"  grammar-valid: {scores['grammar_validity']:.1%}"
    return text


def bleu_signature(scores: Mapping) -> str | None:
    """The BLEU signature of a `SampleScores.to_dict`, or of a run written before it ("bleu_signature")."""
    return (scores.get("signature") or {}).get("bleu") or scores.get("bleu_signature")
