"""BLEU / Self-BLEU must equal nltk's Texygen-protocol values (to 1e-12)."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

import seqgan_gumbel
from seqgan_gumbel.metrics import ngrams
from seqgan_gumbel.metrics.bleu import (
    BleuResult,
    BleuScorer,
    bleu,
    self_bleu,
    self_bleu_sentence_scores,
)

from conftest import shared_dataset

TOL = 1e-12
SMOOTH = SmoothingFunction().method1


def nltk_bleu(references, hypothesis, n):
    """The Texygen/RelGAN reference implementation of one BLEU-n value."""
    return sentence_bleu(references, hypothesis, weights=(1 / n,) * n, smoothing_function=SMOOTH)


def nltk_self_bleu_scores(samples, n):
    return [nltk_bleu(samples[:i] + samples[i + 1 :], s, n) for i, s in enumerate(samples)]


def random_corpus(rng, count, vocab, max_len=15):
    return [[f"w{rng.randrange(vocab)}" for _ in range(rng.randint(0, max_len))] for _ in range(count)]


def with_duplicates(rng, sentences):
    """Appends copies of a few sentences so that duplicates are exercised."""
    extra = [list(rng.choice(sentences)) for _ in range(rng.randint(0, 3))]
    return sentences + extra


# ---------------------------------------------------------------- random vs nltk


@pytest.mark.parametrize("seed", range(12))
def test_bleu_equals_nltk_on_random_data(seed):
    rng = random.Random(seed)
    vocab = rng.choice([1, 2, 3, 5, 8, 20])
    refs = with_duplicates(rng, random_corpus(rng, rng.randint(1, 40), vocab))
    # A slightly larger hypothesis vocabulary yields tokens unseen in references.
    hyps = with_duplicates(rng, random_corpus(rng, rng.randint(1, 25), vocab + 2))
    scorer = BleuScorer(refs, max_n=5)
    for n in range(1, 6):
        expected = [nltk_bleu(refs, h, n) for h in hyps]
        np.testing.assert_allclose(scorer.sentence_scores(hyps, n), expected, rtol=0, atol=TOL)
        assert scorer.score(hyps, (n,))[n] == pytest.approx(np.mean(expected), abs=TOL)


@pytest.mark.parametrize("seed", range(12))
def test_self_bleu_equals_nltk_on_random_data(seed):
    rng = random.Random(100 + seed)
    vocab = rng.choice([1, 2, 3, 5, 8, 20])
    samples = with_duplicates(rng, random_corpus(rng, rng.randint(2, 30), vocab))
    per_sample = self_bleu_sentence_scores(samples, orders=range(1, 6))
    result = self_bleu(samples, orders=range(1, 6))
    for n in range(1, 6):
        expected = nltk_self_bleu_scores(samples, n)
        np.testing.assert_allclose(per_sample[n], expected, rtol=0, atol=TOL)
        assert result.scores[n] == pytest.approx(np.mean(expected), abs=TOL)


def test_bit_identical_to_nltk():
    rng = random.Random(7)
    refs = random_corpus(rng, 30, 6)
    hyps = random_corpus(rng, 30, 7)
    ours = BleuScorer(refs, max_n=4).sentence_scores(hyps, 4).tolist()
    assert ours == [float(nltk_bleu(refs, h, 4)) for h in hyps]


def test_overflow_safe_sort_gives_same_scores(monkeypatch):
    rng = random.Random(3)
    refs = with_duplicates(rng, random_corpus(rng, 25, 4))
    hyps = random_corpus(rng, 15, 5)
    fast = BleuScorer(refs).score(hyps)
    fast_self = self_bleu(refs).scores
    # Forces the stable-sort path that large corpora take.
    monkeypatch.setattr(ngrams, "INT64_KEY_LIMIT", 0)
    assert BleuScorer(refs).score(hyps) == fast
    assert self_bleu(refs).scores == fast_self


# ---------------------------------------------------------------- hand-worked


def s(text):
    return text.split()


# (hypothesis, references, n, expected BLEU-n) worked out by hand from nltk's
# definition: p_i = clipped matches / max(1, #i-grams), 0.1 / max(1, #i-grams)
# when no match, 0 when no unigram matches; bp = exp(1 - r/c) when c <= r.
HAND_CASES = [
    ("identical", "the cat sat on the mat", ["the cat sat on the mat"], 4, 1.0),
    ("empty hypothesis", "", ["a b c"], 2, 0.0),
    ("no unigram overlap", "x y z", ["a b c"], 2, 0.0),
    ("unigram only", "a x", ["a b"], 2, math.sqrt(0.5 * 0.1)),
    ("clipping", "the the the the", ["the cat"], 1, 0.25),
    ("clipping bigram epsilon", "the the the the", ["the cat"], 2, math.sqrt(0.25 * 0.1 / 3)),
    (
        "shorter than n",
        "a b",
        ["a b c"],
        4,
        math.exp(1 - 3 / 2) * (1.0 * 1.0 * 0.1 * 0.1) ** 0.25,
    ),
    ("single token, n=3", "a", ["a"], 3, (1.0 * 0.1 * 0.1) ** (1 / 3)),
    ("brevity penalty", "a b", ["a b c d"], 2, math.exp(1 - 4 / 2)),
    ("length tie goes to shorter (longer hyp)", "a b c d", ["a b c", "a b c d e"], 1, 1.0),
    ("length tie order-independent", "a b c d", ["a b c d e", "a b c"], 1, 1.0),
    ("length tie goes to shorter (shorter hyp)", "a b", ["a b c", "a"], 1, 1.0),
    ("closest length wins over best match", "a b c", ["a b c d e f", "x y"], 1, 1.0),
    ("max over references, not sum", "a a a", ["a", "a"], 1, 1 / 3),
    ("max count from one reference", "a a a", ["a a", "a"], 1, 2 / 3),
    ("duplicate references", "a b c d", ["a b c d", "a b c d"], 4, 1.0),
    (
        "partial",
        "the cat is on the mat",
        ["the cat sat on the mat"],
        2,
        math.sqrt(5 / 6 * 3 / 5),
    ),
    ("unknown tokens only", "q q", ["a"], 1, 0.0),
]


@pytest.mark.parametrize(
    "hypothesis,references,n,expected", [c[1:] for c in HAND_CASES], ids=[c[0] for c in HAND_CASES]
)
def test_hand_worked_values(hypothesis, references, n, expected):
    refs = [s(r) for r in references]
    got = BleuScorer(refs, max_n=5).sentence_scores([s(hypothesis)], n)[0]
    assert got == pytest.approx(expected, abs=TOL)
    assert got == pytest.approx(nltk_bleu(refs, s(hypothesis), n), abs=TOL)


@pytest.mark.parametrize(
    "samples,n,expected",
    [
        # each "a b" keeps its twin as a reference; "c d" matches nothing
        (["a b", "a b", "c d"], 2, 2 / 3),
        (["a b", "c d"], 2, 0.0),
        # "a a" vs ["a"]: 1/2; "a" vs ["a a"]: p=1, bp=exp(1-2)
        (["a a", "a"], 1, (0.5 + math.exp(-1)) / 2),
        # a duplicated maximum survives leaving one copy out
        (["a a", "a a", "a"], 1, (1 + 1 + math.exp(-1)) / 3),
        # own length removed: "a b c" sees lengths 2 and 4, the tie goes to 2
        # (bp 1); "a b" sees 3 and 4 -> bp exp(1 - 3/2); "d" matches nothing
        (["a b c", "a b", "a b c d"], 1, (1.0 + math.exp(1 - 3 / 2) + 0.75) / 3),
    ],
)
def test_self_bleu_hand_worked(samples, n, expected):
    tokens = [s(x) for x in samples]
    assert self_bleu(tokens, orders=(n,)).scores[n] == pytest.approx(expected, abs=TOL)
    assert np.mean(nltk_self_bleu_scores(tokens, n)) == pytest.approx(expected, abs=TOL)


def test_several_orders_in_one_call_match_single_orders():
    rng = random.Random(11)
    refs, hyps = random_corpus(rng, 20, 5), random_corpus(rng, 20, 5)
    scorer = BleuScorer(refs, max_n=5)
    together = scorer.score(hyps, (2, 3, 4, 5))
    assert together == {n: scorer.score(hyps, (n,))[n] for n in (2, 3, 4, 5)}


# ---------------------------------------------------------------- API


def test_bleu_result_signature_and_dict():
    result = bleu([s("a b c")], [s("a b c"), s("a b d")], orders=(2, 3))
    version = seqgan_gumbel.__version__
    assert isinstance(result, BleuResult)
    assert result.scores == {2: 1.0, 3: 1.0}
    assert result.signature == (
        f"bleu|n:2,3|samples:1|refs:2|tok:word|smooth:method1|refs_per_hyp:all|version:{version}"
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data == {
        "metric": "bleu",
        "scores": {"2": 1.0, "3": 1.0},
        "num_samples": 1,
        "num_references": 2,
        "signature": result.signature,
    }
    with pytest.raises(AttributeError):
        result.metric = "other"


def test_self_bleu_result_fields():
    result = self_bleu([s("a b"), s("a b"), s("c")], orders=(2,), tokenization="none")
    assert (result.metric, result.num_samples, result.num_references) == ("self_bleu", 3, 2)
    assert "|refs_per_hyp:leave-one-out|" in result.signature
    assert result.signature.startswith("self_bleu|n:2|samples:3|refs:2|tok:none|")


def test_raw_strings_are_tokenized():
    by_tokens = bleu([s("a b c")], [s("a b x")], tokenization="none").scores
    assert bleu(["a b c"], ["a b x"], tokenization="none").scores == by_tokens
    chars = bleu(["abc"], ["abx"], orders=(2,), tokenization="char").scores
    assert chars == bleu([list("abc")], [list("abx")], orders=(2,)).scores
    with pytest.raises(ValueError, match="tokenization"):
        bleu(["a"], ["a"], tokenization="bpe")


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: bleu([], [s("a")]), "hypothes"),
        (lambda: bleu([s("a")], []), "reference"),
        (lambda: BleuScorer([]), "reference"),
        (lambda: BleuScorer([s("a")]).score([]), "hypothes"),
        (lambda: BleuScorer([s("a")], max_n=3).score([s("a")], (4,)), "max_n"),
        (lambda: bleu([s("a")], [s("a")], orders=(0, 2)), "positive"),
        (lambda: self_bleu([s("a")]), "at least 2"),
        (lambda: self_bleu([]), "at least 2"),
    ],
)
def test_invalid_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_references_all_empty():
    refs = [[], []]
    hyps = [s("a b"), []]
    for n in (1, 2):
        expected = [nltk_bleu(refs, h, n) for h in hyps]
        assert BleuScorer(refs).sentence_scores(hyps, n).tolist() == expected


def test_module_does_not_import_tensorflow():
    code = (
        "import sys; from seqgan_gumbel.metrics import bleu as b;"
        "b.bleu([['a']], [['a']]); b.self_bleu([['a'], ['a']]);"
        "sys.exit('tensorflow' in sys.modules)"
    )
    repo = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=repo).returncode == 0


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def coco():
    read = lambda name: [line.split() for line in shared_dataset("coco", name).read_text(encoding="utf-8").splitlines()]
    return read("train.txt"), read("test.txt")


def test_coco_subset_equals_nltk(coco):
    train, test = coco
    hyps, refs = train[:30], test[:2000]
    ours = BleuScorer(refs, max_n=5).sentence_scores_all(hyps, (2, 3, 4, 5))
    weights = [(1 / n,) * n for n in (2, 3, 4, 5)]
    for i, hyp in enumerate(hyps):
        # One call with several weight tuples shares nltk's precision work and
        # gives the same values as one call per order.
        expected = sentence_bleu(refs, hyp, weights=weights, smoothing_function=SMOOTH)
        for n, value in zip((2, 3, 4, 5), expected):
            assert ours[n][i] == pytest.approx(value, abs=TOL)


def test_coco_self_bleu_subset_equals_nltk(coco):
    samples = coco[0][:300]
    ours = self_bleu_sentence_scores(samples, (2, 5))
    for i in range(0, 300, 20):
        others = samples[:i] + samples[i + 1 :]
        for n in (2, 5):
            assert ours[n][i] == pytest.approx(nltk_bleu(others, samples[i], n), abs=TOL)
