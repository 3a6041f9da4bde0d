import numpy as np
import pytest

from seqgan_gumbel.corpus.loading import CorpusStats, encode_sentences, load_corpus, read_lines, vocabulary_summary
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.corpus.tokenizer import EOS_ID, PAD_ID, Tokenizer


def test_blank_lines_skipped_bom_and_crlf_accepted(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes("\ufeffa b\r\n\r\n   \nc d\r\n".encode("utf-8"))
    assert read_lines(path) == ["a b", "c d"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\n  \n\n", "empty"),
        (b"good line\n\xff\xfe bad\n", "line 2 is not valid UTF-8"),
        (b"ok\nnul \x00 here\n", "line 2 contains a NUL byte"),
    ],
)
def test_bad_files_name_the_file_and_problem(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UserInputError, match=message) as info:
        read_lines(path)
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        read_lines(tmp_path / "nope.txt")
    with pytest.raises(UserInputError, match="is a directory"):
        read_lines(tmp_path)


def test_encoding_pads_after_eos_and_drops_or_truncates_long_sentences():
    sentences = ["a b", "a b c d e", "c"]
    tok = Tokenizer.fit(sentences)
    ids, stats = encode_sentences(sentences, tok, max_length=3, long_sentences="drop")
    assert ids.shape == (2, 4) and ids.dtype == np.int32
    assert list(ids[0]) == tok.encode("a b") + [EOS_ID, PAD_ID]
    assert (stats.kept, stats.dropped_too_long, stats.truncated) == (2, 1, 0)
    ids, stats = encode_sentences(sentences, tok, max_length=3, long_sentences="truncate")
    assert list(ids[1]) == tok.encode("a b c") + [EOS_ID]
    assert (stats.kept, stats.dropped_too_long, stats.truncated) == (3, 0, 1)
    assert "1 truncated" in stats.summary("corpus")


def test_every_sentence_too_long_is_an_error(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("a b c d e f\n")
    with pytest.raises(UserInputError, match="every sentence is longer than the maximum length 3"):
        load_corpus(path, Tokenizer.fit(["a b c d e f"]), max_length=3)


def test_unknown_tokens_are_counted():
    tok = Tokenizer.fit(["a b"])
    _, stats = encode_sentences(["a z z"], tok, max_length=5)
    assert (stats.unknown_tokens, stats.tokens) == (2, 3)


def test_keep_blank_keeps_interior_empty_samples_but_not_trailing_ones(tmp_path):
    path = tmp_path / "samples.txt"
    path.write_text("a b\n\nc\n\n")
    assert read_lines(path, keep_blank=True) == ["a b", "", "c"]
    assert read_lines(path) == ["a b", "c"]


def test_a_vocabulary_file_fixes_the_ids_in_its_order(tmp_path):
    from seqgan_gumbel.corpus.loading import read_vocabulary
    from seqgan_gumbel.corpus.tokenizer import SPECIAL_TOKENS

    path = tmp_path / "vocab.txt"
    path.write_text("\ufeffzebra\r\napple\nunused\n", encoding="utf-8")
    vocabulary = read_vocabulary(path)
    assert vocabulary.tokens == [*SPECIAL_TOKENS, "zebra", "apple", "unused"]
    tokenizer = Tokenizer(vocabulary)
    assert tokenizer.encode("apple zebra pear") == [5, 4, 3]  # pear: UNK


@pytest.mark.parametrize(
    "content, level, message",
    [
        ("a\nb\na\n", "word", "line 3 repeats the token 'a' of line 1"),
        ("a\n<eos>\n", "word", "line 2: <eos> is a special token"),
        ("a\n\nb\n", "word", "line 2 is blank"),
        ("a b\n", "word", "cannot contain whitespace"),
        ("ab\n", "char", "a char-level token is one character"),
    ],
)
def test_bad_vocabulary_files(tmp_path, content, level, message):
    from seqgan_gumbel.corpus.loading import read_vocabulary

    path = tmp_path / "vocab.txt"
    path.write_text(content)
    with pytest.raises(UserInputError, match=message):
        read_vocabulary(path, level)


@pytest.mark.parametrize("sentences, built, warned", [
    (["a b c d", "a b"], True, False),  # c, d once: half the vocabulary is not most of it
    (["a b c d e f g", "a b"], True, True),  # c-g once: 5 of 7
    (["a b c d e f g", "a b"], False, False),  # a vocabulary file: nothing to advise
    (["a b c", "a b c", "d"], True, False),  # 1 of 4 once
])
def test_the_vocabulary_summary_warns_when_most_of_the_vocabulary_occurs_once(sentences, built, warned):
    tokenizer = Tokenizer.fit(sentences)
    ids, _ = encode_sentences(sentences, tokenizer, 10)
    lines = vocabulary_summary(tokenizer.vocab_size, "word", ids, None, built)
    assert lines[0] == f"vocabulary: {tokenizer.vocab_size} tokens (word level)"
    assert (len(lines) == 2) == warned, lines
    if warned:
        assert lines[1].startswith("warning: 5 of the vocabulary's 7 words occur only once")
        assert "--min-frequency 2" in lines[1]


def test_the_vocabulary_summary_gives_the_test_corpus_unknown_fraction():
    stats = CorpusStats(sentences=4, kept=4, dropped_too_long=0, truncated=0, unknown_tokens=3, tokens=40)
    line = vocabulary_summary(9, "char", np.zeros((1, 3), np.int32), stats, True)[0]
    assert line == "vocabulary: 9 tokens (char level), 7.5% of the test corpus's tokens unknown"
