import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.files import evaluate_files


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_file_bleu_matches_nltk_with_word_tokens(tmp_path):
    samples = _write(tmp_path / "s.txt", ["a dog runs in the park.", "the cat sleeps, quietly."])
    refs = _write(tmp_path / "r.txt", ["a dog runs in a park.", "the cat sleeps.", "two birds sing."])
    result = evaluate_files(samples, refs, orders=(2, 3))["bleu"]
    from seqgan_gumbel.corpus.tokenizer import split_text

    hyps = [split_text(s) for s in ["a dog runs in the park.", "the cat sleeps, quietly."]]
    ref_tokens = [split_text(r) for r in ["a dog runs in a park.", "the cat sleeps.", "two birds sing."]]
    for n in (2, 3):
        expected = sum(
            sentence_bleu(ref_tokens, h, weights=(1 / n,) * n, smoothing_function=SmoothingFunction().method1)
            for h in hyps
        ) / 2
        assert result.scores[n] == pytest.approx(expected, abs=1e-12)


def test_self_bleu_alone_needs_no_references(tmp_path):
    samples = _write(tmp_path / "s.txt", ["a b c d", "a b c e", "x y z w"])
    results = evaluate_files(samples, None, orders=(2,), tokenization="none", with_self_bleu=True)
    assert set(results) == {"self_bleu"}
    assert results["self_bleu"].num_references == 2


def test_errors(tmp_path):
    samples = _write(tmp_path / "s.txt", ["a b"])
    with pytest.raises(UserInputError, match="--references"):
        evaluate_files(samples, None)
    with pytest.raises(UserInputError, match="at least two samples"):
        evaluate_files(samples, None, with_self_bleu=True)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(UserInputError, match="empty.txt: references file is empty"):
        evaluate_files(samples, tmp_path / "empty.txt")
