"""Tests of seqgan_gumbel.corpus.grammar, the grammar files and the committed corpora."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from seqgan_gumbel.corpus.grammar import (
    GrammarChecker,
    load_grammar,
    sample_corpus,
    sample_sentence,
)

DATA = Path(__file__).resolve().parents[1] / "data"
GRAMMAR_FILES = {
    "simple_english": DATA / "simple_english.pcfg",
    "arithmetic": DATA / "arithmetic.pcfg",
}
CORPUS_FILES = [
    ("simple_english", "train.txt", 10_000),
    ("simple_english", "test.txt", 2_000),
    ("arithmetic", "train.txt", 5_000),
    ("arithmetic", "test.txt", 1_000),
]
OPERATORS = {"+", "-", "*", "/"}


@pytest.fixture(scope="module")
def grammars():
    return {name: load_grammar(path) for name, path in GRAMMAR_FILES.items()}


@pytest.fixture(scope="module")
def checkers(grammars):
    return {name: GrammarChecker(grammar) for name, grammar in grammars.items()}


@pytest.fixture(scope="module")
def make_corpus():
    """data/make_corpus.py is a script, not a package module: load it by path."""
    name = "_make_corpus_under_test"
    spec = importlib.util.spec_from_file_location(name, DATA / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_grammar(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "g.pcfg"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------- grammar files


@pytest.mark.parametrize("name", sorted(GRAMMAR_FILES))
def test_rule_probabilities_sum_to_one_per_lhs(grammars, name):
    totals = defaultdict(float)
    for production in grammars[name].productions():
        totals[production.lhs()] += production.prob()
    assert totals
    for lhs, total in totals.items():
        assert total == pytest.approx(1.0, abs=1e-9), lhs


def test_arithmetic_grammar_is_the_papers():
    grammar = load_grammar(GRAMMAR_FILES["arithmetic"])
    rules = {" ".join(map(str, p.rhs())) for p in grammar.productions()}
    assert rules == {"S + x", "S - x", "S * x", "S / x", "x"}


# ------------------------------------------------------------- load_grammar


def test_load_grammar_skips_comment_lines(tmp_path):
    path = write_grammar(tmp_path, "# a comment\n  # indented comment\nS -> 'a' [0.5] | 'b' [0.5]\n")
    assert len(load_grammar(path).productions()) == 2


@pytest.mark.parametrize(
    "text",
    [
        "S 'a' [1.0]\n",  # no arrow
        "S -> 'a' [x]\n",  # bad probability
        "S -> 'a' [0.5] | 'b' [0.6]\n",  # sums to 1.1
        "S -> 'a' [0.5] | 'b' [0.495]\n",  # within nltk's 0.01 but not ours
        "S -> A [1.0]\n",  # A has no productions
        "# only a comment\n",  # no productions at all
    ],
)
def test_malformed_grammar_raises_value_error_naming_the_file(tmp_path, text):
    path = write_grammar(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_grammar(path)


def test_non_utf8_grammar_raises_value_error_naming_the_file(tmp_path):
    path = tmp_path / "latin1.pcfg"
    path.write_bytes("S -> 'caf\u00e9' [1.0]\n".encode("latin-1"))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_grammar(path)


def test_error_line_numbers_count_comment_lines(tmp_path):
    path = write_grammar(tmp_path, "# comment\n\nS -> 'a' [1.0]\nS 'b'\n")
    with pytest.raises(ValueError, match="line 4"):
        load_grammar(path)


# ------------------------------------------------------------- sampling


@pytest.mark.parametrize("name", sorted(GRAMMAR_FILES))
def test_same_seed_same_corpus_different_seed_different(grammars, name):
    first = sample_corpus(grammars[name], 200, seed=7)
    assert sample_corpus(grammars[name], 200, seed=7) == first
    assert sample_corpus(grammars[name], 200, seed=8) != first


def test_sample_corpus_leaves_global_random_state_alone(grammars):
    random.seed(123)
    state = random.getstate()
    sample_corpus(grammars["simple_english"], 50, seed=1)
    assert random.getstate() == state


def test_sample_sentence_uses_only_the_given_rng(grammars):
    grammar = grammars["simple_english"]
    first = [sample_sentence(grammar, random.Random(5)) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    rng = random.Random(5)
    assert [sample_sentence(grammar, rng) for _ in range(3)][0] == first[0]


@pytest.mark.parametrize("name", sorted(GRAMMAR_FILES))
def test_sampled_sentences_are_valid(grammars, checkers, name):
    sentences = [s.split() for s in sample_corpus(grammars[name], 200, seed=11, max_length=20)]
    rng = random.Random(3)
    sentences += [sample_sentence(grammars[name], rng) for _ in range(50)]
    assert checkers[name].validity(sentences) == 1.0


@pytest.mark.parametrize("max_length", [1, 4, 8])
def test_max_length_is_respected(grammars, max_length):
    corpus = sample_corpus(grammars["arithmetic"], 300, seed=2, max_length=max_length)
    lengths = {len(sentence.split()) for sentence in corpus}
    assert max(lengths) <= max_length
    # Rejection keeps every length that fits, not just the shortest.
    assert lengths == {n for n in (1, 3, 5, 7) if n <= max_length}


def test_max_length_on_english(grammars):
    corpus = sample_corpus(grammars["simple_english"], 300, seed=2, max_length=7)
    assert max(len(sentence.split()) for sentence in corpus) == 7


def test_max_depth_truncates_derivations(grammars):
    # In the arithmetic grammar a sentence with k operators has depth k + 1.
    rng = random.Random(0)
    lengths = {len(sample_sentence(grammars["arithmetic"], rng, max_depth=3)) for _ in range(300)}
    assert lengths == {1, 3, 5}


def test_invalid_bounds_raise(grammars):
    with pytest.raises(ValueError):
        sample_sentence(grammars["arithmetic"], random.Random(0), max_depth=0)
    with pytest.raises(ValueError):
        sample_corpus(grammars["arithmetic"], 5, seed=0, max_length=0)
    with pytest.raises(ValueError):
        sample_corpus(grammars["arithmetic"], -1, seed=0)


def test_unsatisfiable_length_raises_instead_of_looping(tmp_path):
    grammar = load_grammar(write_grammar(tmp_path, "S -> 'a' 'b' [1.0]\n"))
    with pytest.raises(RuntimeError, match="length <= 1"):
        sample_corpus(grammar, 1, seed=0, max_length=1)


def test_sampling_follows_rule_probabilities(tmp_path):
    grammar = load_grammar(write_grammar(tmp_path, "S -> 'a' [0.8] | 'b' [0.2]\n"))
    corpus = sample_corpus(grammar, 5000, seed=4)
    assert corpus.count("a") / len(corpus) == pytest.approx(0.8, abs=0.02)


# ------------------------------------------------------------- GrammarChecker


def test_unknown_word_is_invalid_without_raising(checkers):
    english = checkers["simple_english"]
    assert english.is_valid("a dog sleeps .".split())
    assert not english.is_valid("a unicorn sleeps .".split())
    assert not english.is_valid("a dog sleeps".split())  # no final '.'
    assert not checkers["arithmetic"].is_valid("x + y".split())
    assert not english.is_valid([])


def test_shuffled_word_order_is_invalid(grammars, checkers):
    english = checkers["simple_english"]
    assert english.is_valid("the woman holds an umbrella .".split())
    assert not english.is_valid("woman the holds an umbrella .".split())
    assert not english.is_valid("the woman holds a umbrella .".split())  # a/an
    assert not english.is_valid("the women holds an umbrella .".split())  # agreement
    rng = random.Random(9)
    shuffled = []
    for sentence in sample_corpus(grammars["simple_english"], 200, seed=5):
        tokens = sentence.split()
        while tokens == sentence.split():
            rng.shuffle(tokens)
        shuffled.append(tokens)
    # '.' can only end a sentence, so any shuffle that moves it is invalid;
    # shuffles that keep it may still, very rarely, swap two like phrases.
    assert not any(english.is_valid(t) for t in shuffled if t[-1] != ".")
    assert english.validity(shuffled) < 0.03

    arithmetic = checkers["arithmetic"]
    for bad in ["x x + +", "+ x x", "x + x +", "x x", "+"]:
        assert not arithmetic.is_valid(bad.split()), bad


def test_validity_is_a_fraction_and_needs_sentences(checkers):
    arithmetic = checkers["arithmetic"]
    assert arithmetic.validity([["x"], ["x", "+"], ["x", "*", "x"], ["y"]]) == 0.5
    with pytest.raises(ValueError):
        arithmetic.validity([])


def test_is_valid_refuses_an_unsplit_string(checkers):
    with pytest.raises(TypeError):
        checkers["arithmetic"].is_valid("x + x")


def test_results_are_cached():
    checker = GrammarChecker(load_grammar(GRAMMAR_FILES["arithmetic"]))
    assert checker.validity([["x", "+", "x"]] * 100) == 1.0
    assert len(checker._cache) == 1


def test_checker_handles_empty_productions(tmp_path):
    grammar = load_grammar(write_grammar(tmp_path, "S -> A 'b' [1.0]\nA -> 'a' A [0.5] | [0.5]\n"))
    checker = GrammarChecker(grammar)
    assert checker.is_valid(["b"]) and checker.is_valid(["a", "a", "b"])
    assert not checker.is_valid(["a", "b", "a"])


# ------------------------------------------------------------- committed corpora


def test_committed_corpora_are_what_make_corpus_writes(make_corpus, tmp_path, capsys):
    assert make_corpus.main(["--out-dir", str(tmp_path)]) == 0
    for name, filename, _ in CORPUS_FILES:
        regenerated = (tmp_path / name / filename).read_bytes()
        assert regenerated == (DATA / name / filename).read_bytes(), f"{name}/{filename}"


@pytest.mark.parametrize("name,filename,size", CORPUS_FILES)
def test_committed_corpus_format(name, filename, size):
    raw = (DATA / name / filename).read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == size
    assert all(line and line == " ".join(line.split()) for line in lines)


def test_committed_corpora_are_valid_samples(checkers):
    english = [line.split() for line in read_lines(DATA / "simple_english" / "test.txt")[:300]]
    assert checkers["simple_english"].validity(english) == 1.0
    arithmetic = [line.split() for line in read_lines(DATA / "arithmetic" / "test.txt")]
    assert checkers["arithmetic"].validity(arithmetic) == 1.0


def test_arithmetic_sentences_alternate_x_and_operators():
    for split in ("train.txt", "test.txt"):
        for line in read_lines(DATA / "arithmetic" / split):
            tokens = line.split()
            assert len(tokens) % 2 == 1 and len(tokens) <= 15, line
            assert set(tokens[0::2]) == {"x"}, line
            assert set(tokens[1::2]) <= OPERATORS, line


def test_simple_english_shape():
    lines = read_lines(DATA / "simple_english" / "train.txt")
    lengths = [len(line.split()) for line in lines]
    vocab = {token for line in lines for token in line.split()}
    assert min(lengths) >= 4 and max(lengths) <= 20
    assert 9 <= sum(lengths) / len(lengths) <= 11
    assert 150 <= len(vocab) <= 250
    assert all(line.endswith(" .") and line.count(".") == 1 for line in lines)
    assert all(line == line.lower() for line in lines)
    text = " " + " ".join(lines) + " "
    # 'a' before a vowel sound or 'an' before a consonant would read badly.
    assert not re.search(r" a [aeio]", text)
    assert not re.search(r" an [^aeiou]", text)


# ------------------------------------------------------------- make_corpus CLI


def test_make_corpus_for_one_grammar(make_corpus, grammars, tmp_path, capsys):
    args = ["--grammar", str(GRAMMAR_FILES["arithmetic"]), "--out-dir", str(tmp_path),
            "--train", "30", "--test", "10", "--seed", "5", "--max-length", "7"]
    assert make_corpus.main(args) == 0
    train = read_lines(tmp_path / "train.txt")
    test = read_lines(tmp_path / "test.txt")
    assert train == sample_corpus(grammars["arithmetic"], 30, seed=5, max_length=7)
    assert test == sample_corpus(grammars["arithmetic"], 10, seed=6, max_length=7)


def test_make_corpus_refuses_per_corpus_options_without_grammar(make_corpus, capsys):
    with pytest.raises(SystemExit) as excinfo:
        make_corpus.main(["--train", "5"])
    assert excinfo.value.code == 2


def test_make_corpus_help_lists_defaults(make_corpus, capsys):
    with pytest.raises(SystemExit):
        make_corpus.main(["--help"])
    out = capsys.readouterr().out
    assert "train 10000, test 2000" in out and "train 5000, test 1000" in out
