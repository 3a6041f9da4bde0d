"""Integer n-gram tables for exact, vectorised BLEU clipping.

Tokens are interned to integer ids and every n-gram gets an exact integer id
built order by order: the id of an n-gram is the rank of the key
``id(its (n-1)-gram prefix) * vocab_size + last token`` among the distinct keys
of the reference corpus.  Keys therefore never collide (no hashing), stay far
below 2**63 and can be looked up for unseen text with ``np.searchsorted``.

BLEU clips a hypothesis n-gram count by the n-gram's *maximum* count over the
references, so per n-gram we only keep that maximum, and for leave-one-out use
also the maximum left once one occurrence of it is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from typing import Hashable, Iterable, Sequence

import numpy as np

__all__ = [
    "TokenizedCorpus",
    "OrderTable",
    "ReferenceTables",
    "build_vocab",
    "encode",
    "build_reference_tables",
    "clipped_matches",
    "ngram_totals",
]

# Largest value that a composite sort key may reach; module-level so that the
# tests can lower it and exercise the overflow-safe fallback on small data.
INT64_KEY_LIMIT = np.iinfo(np.int64).max


@dataclass(frozen=True)
class TokenizedCorpus:
    """Sentences as one flat array of token ids.

    Attributes:
        ids: int64 token ids of all sentences concatenated.
        lengths: int64 number of tokens of each sentence.
    """

    ids: np.ndarray
    lengths: np.ndarray

    @property
    def num_sentences(self) -> int:
        """Number of sentences."""
        return int(self.lengths.shape[0])

    def sentence_index(self) -> np.ndarray:
        """Returns the sentence number of every token position."""
        return np.repeat(np.arange(self.num_sentences, dtype=np.int64), self.lengths)

    def sentence_end(self) -> np.ndarray:
        """Returns, for every token position, the end offset of its sentence."""
        return np.repeat(np.cumsum(self.lengths), self.lengths)


@dataclass(frozen=True)
class OrderTable:
    """Reference statistics of the n-grams of one order.

    Attributes:
        keys: sorted distinct n-gram keys; an n-gram's id is its index here.
        max_count: per n-gram, its largest count within one reference.
        second_count: per n-gram, the largest count left after removing one
            reference that holds ``max_count`` (equals ``max_count`` when
            several references tie for it, 0 when only one reference has it).
    """

    keys: np.ndarray
    max_count: np.ndarray
    second_count: np.ndarray


@dataclass(frozen=True)
class ReferenceTables:
    """N-gram tables of a reference corpus for orders 1..max_n.

    Attributes:
        vocab: token -> id; ids are 0..len(vocab)-1.
        orders: ``orders[n - 1]`` is the table of n-grams.
        self_matches: (num_references, max_n) int64 leave-one-out clipped
            matches of each reference against all the others (what Self-BLEU
            needs), or None when not requested.
    """

    vocab: dict
    orders: list
    self_matches: np.ndarray | None


def build_vocab(sentences: Sequence[Sequence[Hashable]]) -> dict:
    """Interns the tokens of a corpus.

    Args:
        sentences: tokenised sentences.

    Returns:
        dict mapping each distinct token to an id in 0..V-1 (first-seen order).
    """
    # dict.fromkeys runs in C and keeps first-seen order, which makes ids
    # deterministic without a Python-level loop over every token.
    distinct = dict.fromkeys(chain.from_iterable(sentences))
    return {token: i for i, token in enumerate(distinct)}


def encode(sentences: Sequence[Sequence[Hashable]], vocab: dict) -> TokenizedCorpus:
    """Maps tokenised sentences to ids.

    Args:
        sentences: tokenised sentences.
        vocab: token -> id, as made by :func:`build_vocab`.

    Returns:
        The corpus; tokens missing from ``vocab`` get id ``len(vocab)``, which
        no reference n-gram contains.
    """
    lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
    total = int(lengths.sum())
    flat = chain.from_iterable(sentences)
    # map(dict.get, tokens, repeat(default)) stays in C, unlike a generator.
    ids = np.fromiter(
        map(vocab.get, flat, repeat(len(vocab))), dtype=np.int64, count=total
    )
    return TokenizedCorpus(ids=ids, lengths=lengths)


def ngram_totals(lengths: np.ndarray, max_n: int) -> np.ndarray:
    """Number of n-grams in each sentence.

    Args:
        lengths: sentence lengths.
        max_n: highest order.

    Returns:
        (num_sentences, max_n) int64 array; column n-1 holds max(0, len-n+1).
    """
    orders = np.arange(1, max_n + 1, dtype=np.int64)
    return np.maximum(lengths[:, None] - orders[None, :] + 1, 0)


def _iter_positions(corpus: TokenizedCorpus, max_n: int) -> Iterable[tuple]:
    """Yields, per order n, the start positions of the n-grams that fit.

    Args:
        corpus: the sentences.
        max_n: highest order.

    Yields:
        (n, keep, positions): ``keep`` selects, among the previous order's
        positions, those whose n-gram stays inside its sentence (None for
        n = 1); ``positions`` are those start offsets.
    """
    ends = corpus.sentence_end()
    positions = np.arange(corpus.ids.shape[0], dtype=np.int64)
    yield 1, None, positions
    for n in range(2, max_n + 1):
        keep = positions + (n - 1) < ends[positions]
        positions = positions[keep]
        yield n, keep, positions


def _extend_keys(prefix_ids, last_tokens, vocab_size: int) -> np.ndarray:
    """Keys of n-grams from the ids of their prefixes and their last tokens.

    Args:
        prefix_ids: ids of the (n-1)-gram prefixes.
        last_tokens: ids of the n-th tokens.
        vocab_size: number of reference token ids.

    Returns:
        int64 keys ``prefix_id * vocab_size + last_token``.
    """
    return prefix_ids * vocab_size + last_tokens


def _sort_by_gram_then_sentence(keys, sentences, num_sentences: int):
    """Orders occurrences by (n-gram key, sentence).

    Args:
        keys: n-gram key of each occurrence.
        sentences: sentence of each occurrence, nondecreasing (text order).
        num_sentences: bound on the sentence numbers.

    Returns:
        (order, sorted_keys, sorted_sentences).
    """
    max_key = int(keys.max()) if keys.size else 0
    if (max_key + 1) * num_sentences <= INT64_KEY_LIMIT:
        # One unstable SIMD sort of a composite key is ~5x faster than a
        # stable sort, and it still groups a sentence's repeats together.
        order = np.argsort(keys * num_sentences + sentences)
    else:
        # Stable sort keeps the text order (hence sentence order) within a
        # key, giving the same grouping without the overflowing composite.
        order = np.argsort(keys, kind="stable")
    return order, keys[order], sentences[order]


def _boundaries(values: np.ndarray) -> np.ndarray:
    """Marks where a new value starts in a sorted array.

    Args:
        values: sorted array.

    Returns:
        bool array, True at index 0 and wherever the value changes.
    """
    flags = np.ones(values.shape[0], dtype=bool)
    np.not_equal(values[1:], values[:-1], out=flags[1:])
    return flags


def _occurrence_runs(sorted_keys, sorted_sentences):
    """Collapses sorted occurrences into per-(n-gram, sentence) counts.

    Args:
        sorted_keys: keys sorted by (key, sentence).
        sorted_sentences: the matching sentences.

    Returns:
        (new_gram, starts, counts): ``new_gram`` flags each occurrence that
        opens a new n-gram; ``starts`` are the first occurrences of each
        (n-gram, sentence) run and ``counts`` their sizes.
    """
    new_gram = _boundaries(sorted_keys)
    new_run = new_gram | _boundaries(sorted_sentences)
    starts = np.flatnonzero(new_run)
    counts = np.diff(starts, append=sorted_keys.shape[0])
    return new_gram, starts, counts


def _max_counts(run_gram, run_counts, first_run):
    """Largest and leave-one-out largest count of each n-gram.

    Args:
        run_gram: n-gram id of each (n-gram, sentence) run, sorted.
        run_counts: count of each run.
        first_run: index of the first run of every n-gram.

    Returns:
        (max_count, second_count) per n-gram, see :class:`OrderTable`.
    """
    top = np.maximum.reduceat(run_counts, first_run)
    is_top = run_counts == top[run_gram]
    ties = np.add.reduceat(is_top.astype(np.int64), first_run)
    below = np.maximum.reduceat(np.where(is_top, 0, run_counts), first_run)
    second = np.where(ties >= 2, top, below)
    return top, second


def _leave_one_out_clip(run_gram, run_sent, run_counts, table, num_sentences):
    """Clipped matches of each sentence against all other sentences.

    Args:
        run_gram: n-gram id of each (n-gram, sentence) run.
        run_sent: sentence of each run.
        run_counts: count of the n-gram in that sentence.
        table: the order's table over all sentences.
        num_sentences: number of sentences.

    Returns:
        int64 clipped match count per sentence.
    """
    top = table.max_count[run_gram]
    # Without this sentence the maximum over the others drops to the second
    # count only if this sentence held the maximum.
    others = np.where(run_counts == top, table.second_count[run_gram], top)
    clipped = np.minimum(run_counts, others)
    return np.bincount(run_sent, weights=clipped, minlength=num_sentences).astype(
        np.int64
    )


def _empty_table() -> OrderTable:
    empty = np.zeros(0, dtype=np.int64)
    return OrderTable(keys=empty, max_count=empty, second_count=empty)


def build_reference_tables(
    references: Sequence[Sequence[Hashable]], max_n: int, leave_one_out: bool = False
) -> tuple[ReferenceTables, TokenizedCorpus]:
    """Builds the clipping tables of a reference corpus.

    Args:
        references: tokenised reference sentences.
        max_n: highest n-gram order.
        leave_one_out: also compute each reference's clipped matches against
            all other references (Self-BLEU).

    Returns:
        (tables, corpus): the tables and the encoded references.
    """
    vocab = build_vocab(references)
    corpus = encode(references, vocab)
    vocab_size = max(len(vocab), 1)
    # n-gram keys stay below (#positions) * vocab_size; refuse rather than wrap.
    if (corpus.ids.shape[0] + 1) * (vocab_size + 1) > np.iinfo(np.int64).max:
        raise ValueError("reference corpus too large for int64 n-gram keys")
    num_sentences = corpus.num_sentences
    sentence_of = corpus.sentence_index()
    self_matches = np.zeros((num_sentences, max_n), dtype=np.int64) if leave_one_out else None
    orders: list[OrderTable] = []
    gram_ids = corpus.ids
    for n, keep, positions in _iter_positions(corpus, max_n):
        if positions.size == 0:
            orders.append(_empty_table())
            continue
        if n == 1:
            keys = corpus.ids
        else:
            keys = _extend_keys(gram_ids[keep], corpus.ids[positions + n - 1], vocab_size)
        order, sorted_keys, sorted_sents = _sort_by_gram_then_sentence(
            keys, sentence_of[positions], num_sentences
        )
        new_gram, starts, counts = _occurrence_runs(sorted_keys, sorted_sents)
        sorted_ids = np.cumsum(new_gram) - 1
        gram_ids = np.empty_like(sorted_ids)
        gram_ids[order] = sorted_ids
        run_gram = sorted_ids[starts]
        first_run = np.flatnonzero(new_gram[starts])
        top, second = _max_counts(run_gram, counts, first_run)
        table = OrderTable(keys=sorted_keys[new_gram], max_count=top, second_count=second)
        orders.append(table)
        if leave_one_out:
            self_matches[:, n - 1] = _leave_one_out_clip(
                run_gram, sorted_sents[starts], counts, table, num_sentences
            )
    return ReferenceTables(vocab=vocab, orders=orders, self_matches=self_matches), corpus


def _lookup(table: OrderTable, keys: np.ndarray) -> np.ndarray:
    """Finds n-gram ids of keys in a reference table.

    Args:
        table: the order's reference table.
        keys: keys to look up.

    Returns:
        int64 ids, -1 where the n-gram does not occur in the references.
    """
    if table.keys.size == 0:
        return np.full(keys.shape[0], -1, dtype=np.int64)
    index = np.searchsorted(table.keys, keys)
    found = table.keys[np.minimum(index, table.keys.size - 1)] == keys
    return np.where(found, index, -1)


def _hypothesis_gram_ids(hyp: TokenizedCorpus, tables: ReferenceTables, max_n: int):
    """Yields per order the reference n-gram id of every hypothesis n-gram.

    Args:
        hyp: encoded hypotheses (unknown tokens have id len(vocab)).
        tables: reference tables.
        max_n: highest order.

    Yields:
        (n, positions, ids): start offsets of the n-grams that fit and their
        reference ids (-1 when absent from every reference).
    """
    vocab_size = max(len(tables.vocab), 1)
    gram_ids = np.zeros(0, dtype=np.int64)
    for n, keep, positions in _iter_positions(hyp, max_n):
        last = hyp.ids[positions + n - 1]
        prefix = np.zeros_like(positions) if n == 1 else gram_ids[keep]
        # An n-gram can only be in the references if its prefix is and its
        # last token is known; checking first also keeps keys non-negative.
        candidate = (prefix >= 0) & (last < len(tables.vocab))
        gram_ids = np.full(positions.shape[0], -1, dtype=np.int64)
        if n == 1:
            keys = last[candidate]
        else:
            keys = _extend_keys(prefix[candidate], last[candidate], vocab_size)
        gram_ids[candidate] = _lookup(tables.orders[n - 1], keys)
        yield n, positions, gram_ids


def clipped_matches(
    hypotheses: Sequence[Sequence[Hashable]], tables: ReferenceTables, max_n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Clipped n-gram matches of hypotheses against a whole reference set.

    Args:
        hypotheses: tokenised hypotheses.
        tables: reference tables built with at least ``max_n`` orders.
        max_n: highest order.

    Returns:
        (matches, lengths): (num_hypotheses, max_n) int64 numerators of the
        modified precisions, and the hypothesis lengths.
    """
    hyp = encode(hypotheses, tables.vocab)
    num = hyp.num_sentences
    sentence_of = hyp.sentence_index()
    matches = np.zeros((num, max_n), dtype=np.int64)
    for n, positions, gram_ids in _hypothesis_gram_ids(hyp, tables, max_n):
        hit = gram_ids >= 0
        if not hit.any():
            continue
        _, sorted_ids, sorted_sents = _sort_by_gram_then_sentence(
            gram_ids[hit], sentence_of[positions[hit]], num
        )
        _, starts, counts = _occurrence_runs(sorted_ids, sorted_sents)
        clipped = np.minimum(counts, tables.orders[n - 1].max_count[sorted_ids[starts]])
        matches[:, n - 1] = np.bincount(
            sorted_sents[starts], weights=clipped, minlength=num
        ).astype(np.int64)
    return matches, hyp.lengths
