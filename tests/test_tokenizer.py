import json

import pytest

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.corpus.tokenizer import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    Tokenizer,
    Vocabulary,
    join_tokens,
    split_text,
)


def test_word_split_separates_punctuation_without_downloaded_data():
    assert split_text("A man rides a horse, doesn't he?") == ["A", "man", "rides", "a", "horse", ",", "does", "n't", "he", "?"]


def test_lowercase_and_char_level():
    assert split_text("Hi Bob", "word", lowercase=True) == ["hi", "bob"]
    assert split_text("ab c", "char") == ["a", "b", " ", "c"]
    assert split_text("a  b\tc.", "none") == ["a", "b", "c."]


def test_unknown_tokenization_is_rejected():
    with pytest.raises(ValueError, match="valid: word, char, none"):
        split_text("x", "bpe")


def test_vocabulary_orders_by_frequency_then_alphabet_after_specials():
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]])
    assert vocab.tokens == list(SPECIAL_TOKENS) + ["b", "a", "c"]
    assert (PAD_ID, BOS_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)


def test_vocabulary_min_frequency_and_max_size():
    lists = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]]
    assert Vocabulary.build(lists, min_frequency=2).tokens[4:] == ["a", "b", "c"]
    assert Vocabulary.build(lists, max_size=6).tokens[4:] == ["a", "b"]


def test_unknown_tokens_map_to_unk():
    tok = Tokenizer.fit(["the dog runs ."])
    assert tok.encode("the cat runs .")[1] == UNK_ID


@pytest.mark.parametrize(
    "sentence",
    ["a man is riding a horse.", "two dogs play in the park, happily!", "she said it's fine."],
)
def test_word_round_trip(sentence):
    tok = Tokenizer.fit([sentence])
    assert tok.decode(tok.encode(sentence)) == sentence


def test_char_round_trip_keeps_spaces():
    tok = Tokenizer.fit(["hello world"], level="char")
    assert tok.decode(tok.encode("hello world")) == "hello world"


def test_decode_stops_at_eos_and_skips_pad_and_bos():
    tok = Tokenizer.fit(["a b c"])
    ids = [BOS_ID] + tok.encode("a b") + [EOS_ID] + tok.encode("c") + [PAD_ID]
    assert tok.decode(ids) == "a b"


def test_save_load_round_trip(tmp_path):
    tok = Tokenizer.fit(["Über café naïve .", "x y"], lowercase=True, min_frequency=1)
    tok.save(tmp_path / "vocab.json")
    loaded = Tokenizer.load(tmp_path / "vocab.json")
    assert loaded.vocabulary.tokens == tok.vocabulary.tokens
    assert (loaded.level, loaded.lowercase) == ("word", True)
    assert loaded.encode("über x") == tok.encode("über x")


def test_load_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        Tokenizer.load(tmp_path / "none.json")
    (tmp_path / "other.json").write_text(json.dumps({"tokens": []}))
    with pytest.raises(UserInputError, match="not a seqgan_gumbel vocabulary"):
        Tokenizer.load(tmp_path / "other.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UserInputError, match="bad.json"):
        Tokenizer.load(tmp_path / "bad.json")


def test_join_tokens_detokenizes():
    assert join_tokens(["a", "dog", ",", "a", "cat", "."]) == "a dog, a cat."
