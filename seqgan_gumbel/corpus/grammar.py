"""Probabilistic context-free grammars: loading, sampling, and validity checks.

The project's demo corpora (``data/*.pcfg``) are generated from PCFGs rather
than downloaded, so they can be rebuilt bit for bit from a seed and so a
generator's output can be scored by a criterion no n-gram metric offers:
the fraction of generated sentences the grammar can derive at all.

Only nltk's grammar and chart-parser classes are used; they need no nltk data
downloads, and nothing here imports TensorFlow.
"""

from __future__ import annotations

import bisect
import os
import random
from collections.abc import Sequence

import nltk
from nltk.grammar import CFG, PCFG, Nonterminal, Production

from seqgan_gumbel.signature import signature

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "GrammarChecker",
    "load_grammar",
    "sample_corpus",
    "sample_sentence",
]

#: Default bound on derivation depth. Sentences of the bundled grammars within
#: their corpora's length limits are at most about 12 levels deep, so the bound
#: only cuts off runaway recursion and leaves those distributions untouched.
DEFAULT_MAX_DEPTH = 60

# Each sentence may be resampled this many times before we give up; a grammar
# that needs more attempts is almost certainly unable to meet the constraints
# (e.g. max_length shorter than its shortest sentence), and failing loudly is
# better than looping forever.
_MAX_ATTEMPTS = 100_000

# nltk only checks rule probabilities to within 0.01; sampling would silently
# renormalise a sloppier grammar, so we hold grammar files to a tighter bound.
_PROB_TOLERANCE = 1e-6


def load_grammar(path: str | os.PathLike) -> PCFG:
    """Read a probabilistic context-free grammar in nltk's PCFG string format.

    Lines whose first non-blank character is ``#`` are comments. Every
    nonterminal used on a right-hand side must have productions, and the
    probabilities of each left-hand side's productions must sum to 1 (within
    1e-6). The first production's left-hand side is the start symbol unless a
    ``%start`` directive says otherwise.

    Args:
        path: Grammar file, UTF-8 encoded.

    Returns:
        The parsed ``nltk.grammar.PCFG``.

    Raises:
        ValueError: If the file is not a well-formed PCFG; the message names
            the file and, where nltk reports it, the offending line.
        OSError: If the file cannot be read.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        # Blank out comments rather than dropping them so nltk's error
        # messages keep pointing at the right line numbers of the file.
        text = "\n".join("" if line.lstrip().startswith("#") else line for line in lines)
        grammar = PCFG.fromstring(text)
        _check_well_formed(grammar)
    except ValueError as error:  # includes UnicodeDecodeError
        raise ValueError(f"malformed grammar file '{os.fspath(path)}': {error}") from error
    return grammar


def _check_well_formed(grammar: PCFG) -> None:
    """Raise ValueError for problems nltk accepts but sampling cannot handle."""
    totals: dict[Nonterminal, float] = {}
    for production in grammar.productions():
        totals[production.lhs()] = totals.get(production.lhs(), 0.0) + production.prob()
    for lhs, total in totals.items():
        if abs(total - 1.0) > _PROB_TOLERANCE:
            raise ValueError(f"probabilities of {lhs} sum to {total!r}, not 1")
    for production in grammar.productions():
        for symbol in production.rhs():
            if isinstance(symbol, Nonterminal) and symbol not in totals:
                raise ValueError(f"nonterminal {symbol} (used in '{production}') has no productions")


# A grammar's productions regrouped for sampling: for each nonterminal, its
# right-hand sides and the running sum of their probabilities.
_ExpansionTable = dict[Nonterminal, tuple[list[tuple], list[float]]]


def _expansion_table(grammar: PCFG) -> _ExpansionTable:
    """Group the productions by left-hand side with cumulative probabilities."""
    table: _ExpansionTable = {}
    for production in grammar.productions():
        rhs_list, cumulative = table.setdefault(production.lhs(), ([], []))
        running = cumulative[-1] if cumulative else 0.0
        rhs_list.append(production.rhs())
        cumulative.append(running + production.prob())
    return table


def _sample_once(
    table: _ExpansionTable,
    start: Nonterminal,
    rng: random.Random,
    max_depth: int,
    max_length: int | None,
) -> list[str] | None:
    """Draw one derivation; None if it grows past max_depth or max_length.

    Expansion is leftmost-first with an explicit stack, so a derivation that
    is going to be rejected is abandoned as soon as it crosses a bound instead
    of being completed first. Stopping early does not change the distribution
    of accepted sentences: each attempt is still an independent draw.
    """
    tokens: list[str] = []
    stack: list[tuple[object, int]] = [(start, 1)]
    while stack:
        symbol, depth = stack.pop()
        if not isinstance(symbol, Nonterminal):
            tokens.append(symbol)
            if max_length is not None and len(tokens) > max_length:
                return None
            continue
        if depth > max_depth:
            return None
        rhs_list, cumulative = table[symbol]
        # Same draw as rng.choices(..., cum_weights=...), written out so the
        # stream of random numbers consumed is explicit and stable.
        index = bisect.bisect(cumulative, rng.random() * cumulative[-1], 0, len(cumulative) - 1)
        stack.extend((child, depth + 1) for child in reversed(rhs_list[index]))
    return tokens


def _draw(
    table: _ExpansionTable,
    start: Nonterminal,
    rng: random.Random,
    max_depth: int,
    max_length: int | None,
) -> list[str]:
    """Rejection-sample until a derivation fits both bounds."""
    if max_depth < 1:
        raise ValueError(f"max_depth must be at least 1, got {max_depth}")
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    for _ in range(_MAX_ATTEMPTS):
        tokens = _sample_once(table, start, rng, max_depth, max_length)
        if tokens is not None:
            return tokens
    raise RuntimeError(
        f"no sentence with depth <= {max_depth} and length <= {max_length} "
        f"in {_MAX_ATTEMPTS} attempts; the bounds are too tight for this grammar"
    )


def sample_sentence(
    grammar: PCFG, rng: random.Random, max_depth: int = DEFAULT_MAX_DEPTH
) -> list[str]:
    """Sample one sentence by top-down random expansion of the grammar.

    Each nonterminal is rewritten by a production drawn with the grammar's
    rule probabilities. A derivation deeper than ``max_depth`` is rejected and
    drawn again, so the result follows the grammar's distribution conditioned
    on depth <= ``max_depth``.

    Args:
        grammar: The PCFG to sample from.
        rng: Source of randomness; the only state that is read or advanced.
        max_depth: Most nonterminal levels allowed on any root-to-leaf path
            of the derivation tree (the start symbol is level 1).

    Returns:
        The sentence's tokens (the grammar's terminals).

    Raises:
        ValueError: If ``max_depth`` < 1.
        RuntimeError: If no derivation within the bound is found after many
            attempts.
    """
    return _draw(_expansion_table(grammar), grammar.start(), rng, max_depth, None)


def sample_corpus(
    grammar: PCFG,
    num_sentences: int,
    seed: int,
    max_length: int | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[str]:
    """Sample a corpus of sentences, reproducibly for a given seed.

    Args:
        grammar: The PCFG to sample from.
        num_sentences: Number of sentences to return (duplicates are kept:
            the corpus is an i.i.d. sample).
        seed: Seed of the private ``random.Random`` used; global random state
            is neither used nor changed.
        max_length: If given, sentences with more tokens are rejected and
            drawn again, so the corpus follows the grammar's distribution
            conditioned on length <= ``max_length``.
        max_depth: Derivation depth bound, as in :func:`sample_sentence`.

    Returns:
        ``num_sentences`` sentences, each its tokens joined by single spaces.

    Raises:
        ValueError: If ``num_sentences`` < 0, ``max_length`` < 1 or
            ``max_depth`` < 1.
        RuntimeError: If the bounds reject (almost) every derivation.
    """
    if num_sentences < 0:
        raise ValueError(f"num_sentences must be >= 0, got {num_sentences}")
    rng = random.Random(seed)
    table = _expansion_table(grammar)  # built once, not per sentence
    start = grammar.start()
    return [
        " ".join(_draw(table, start, rng, max_depth, max_length))
        for _ in range(num_sentences)
    ]


class GrammarChecker:
    """Decide whether token sequences are sentences of a grammar.

    Parsing uses an nltk left-corner chart parser over the grammar's rules
    with probabilities dropped; a sentence is valid if the chart holds a
    complete edge for the start symbol spanning all tokens. Only that edge is
    looked for, never the parse trees, whose number can grow exponentially
    with ambiguity (e.g. prepositional-phrase attachment). Results are cached
    per distinct token sequence, since generated samples repeat a lot.

    Args:
        grammar: The grammar whose language is checked (a PCFG or plain CFG).
    """

    def __init__(self, grammar: CFG) -> None:
        productions = [Production(p.lhs(), p.rhs()) for p in grammar.productions()]
        self._cfg = CFG(grammar.start(), productions)
        # The left-corner-filtered parser is ~3x faster on the bundled
        # grammars, but nltk only implements it for grammars without empty
        # productions; the unfiltered one accepts any CFG.
        if self._cfg.is_nonempty():
            self._parser = nltk.parse.chart.LeftCornerChartParser(self._cfg)
        else:
            self._parser = nltk.parse.chart.BottomUpLeftCornerChartParser(self._cfg)
        self._terminals = frozenset(
            symbol
            for production in productions
            for symbol in production.rhs()
            if not isinstance(symbol, Nonterminal)
        )
        self._cache: dict[tuple[str, ...], bool] = {}

    @property
    def terminals(self) -> frozenset[str]:
        """The grammar's vocabulary (every terminal symbol)."""
        return self._terminals

    def is_valid(self, tokens: Sequence[str]) -> bool:
        """Whether the grammar derives exactly this token sequence.

        Args:
            tokens: The sentence's tokens. Words outside the grammar's
                vocabulary make the sentence invalid (no exception).

        Returns:
            True if the sentence parses.

        Raises:
            TypeError: If ``tokens`` is a string: a whole sentence passed
                unsplit would otherwise be checked character by character.
        """
        if isinstance(tokens, str):
            raise TypeError("is_valid() takes a list of tokens, not a string; use sentence.split()")
        key = tuple(tokens)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._parse(key)
        return cached

    def _parse(self, tokens: tuple[str, ...]) -> bool:
        # nltk raises on words the grammar lacks; for us they just mean "no".
        if not all(isinstance(t, str) and t in self._terminals for t in tokens):
            return False
        chart = self._parser.chart_parse(list(tokens))
        spans = chart.select(start=0, end=len(tokens), is_complete=True, lhs=self._cfg.start())
        return any(True for _ in spans)

    def validity(self, sentences: Sequence[Sequence[str]]) -> float:
        """Fraction of sentences the grammar derives.

        Args:
            sentences: Tokenised sentences (lists of tokens).

        Returns:
            The fraction, in [0, 1], of sentences that parse.

        Raises:
            ValueError: If ``sentences`` is empty (the fraction is undefined).
        """
        if len(sentences) == 0:
            raise ValueError("validity() needs at least one sentence")
        return sum(self.is_valid(tokens) for tokens in sentences) / len(sentences)


def validity_signature(grammar_name: str, num_samples: int, tokenization: str) -> str:
    """The signature of a grammar-validity figure.

    Args:
        grammar_name: the grammar file's name.
        num_samples: the sentences parsed.
        tokenization: how they were split into tokens.
    """
    return signature("grammar_validity", grammar=grammar_name, samples=num_samples, tok=tokenization,
                     parser="nltk-chart")
