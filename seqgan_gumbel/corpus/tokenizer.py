"""Word- and character-level tokenization and the vocabulary.

Word tokens come from nltk's NLTKWordTokenizer, which (unlike ``word_tokenize``)
needs no downloaded data; decoding joins them back with TreebankWordDetokenizer.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Iterable, Sequence

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.fileio import atomic_write_text, read_format_json

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)
LEVELS = ("word", "char")
METRIC_TOKENIZATIONS = ("word", "char", "none")
_FORMAT = "seqgan_gumbel.tokenizer"
_FORMAT_VERSION = 1

_word_tokenizer = None
_detokenizer = None


def _nltk_word_tokenizer():
    # Built lazily: importing nltk's tokenizers costs ~0.3 s and evaluate-only
    # runs with --tokenize none never need them.
    global _word_tokenizer
    if _word_tokenizer is None:
        from nltk.tokenize import NLTKWordTokenizer

        _word_tokenizer = NLTKWordTokenizer()
    return _word_tokenizer


def _nltk_detokenizer():
    global _detokenizer
    if _detokenizer is None:
        from nltk.tokenize.treebank import TreebankWordDetokenizer

        _detokenizer = TreebankWordDetokenizer()
    return _detokenizer


def split_text(text: str, level: str = "word", lowercase: bool = False) -> list[str]:
    """Splits one sentence into tokens.

    Args:
        text: the sentence.
        level: "word" (nltk's NLTKWordTokenizer), "char" (every character,
            spaces included) or "none" (whitespace-separated tokens taken as
            they are, like sacrebleu's ``-tok none``).
        lowercase: lower-case the text first.

    Returns:
        The list of tokens.
    """
    if lowercase:
        text = text.lower()
    if level == "word":
        return _nltk_word_tokenizer().tokenize(text)
    if level == "char":
        return list(text)
    if level == "none":
        return text.split()
    raise ValueError(f"unknown tokenization {level!r}; valid: {', '.join(METRIC_TOKENIZATIONS)}")


def join_tokens(tokens: Sequence[str], level: str = "word") -> str:
    """Inverse of `split_text`: detokenized text from tokens.

    Args:
        tokens: the tokens of one sentence.
        level: "word" (TreebankWordDetokenizer), "char" (concatenation) or
            "none" (joined by single spaces).

    Returns:
        The sentence as a string.
    """
    if level == "word":
        return _nltk_detokenizer().detokenize(list(tokens))
    if level == "char":
        return "".join(tokens)
    if level == "none":
        return " ".join(tokens)
    raise ValueError(f"unknown tokenization {level!r}; valid: {', '.join(METRIC_TOKENIZATIONS)}")


class Vocabulary:
    """A bijection between tokens and integer ids; ids 0..3 are PAD, BOS, EOS, UNK.

    Args:
        tokens: every token in id order, starting with the four special tokens.
    """

    def __init__(self, tokens: Sequence[str]):
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a vocabulary must start with {SPECIAL_TOKENS}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary must not repeat a token")
        self._tokens = list(tokens)
        self._ids = {token: i for i, token in enumerate(self._tokens)}

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        min_frequency: int = 1,
        max_size: int | None = None,
    ) -> "Vocabulary":
        """Builds the vocabulary of a tokenized corpus.

        Args:
            token_lists: the tokenized sentences.
            min_frequency: tokens seen fewer times become UNK.
            max_size: the most ids, special tokens included; the rarest tokens
                are dropped first (ties broken alphabetically, so the result
                does not depend on the corpus order).

        Returns:
            The vocabulary.
        """
        counts = collections.Counter(token for tokens in token_lists for token in tokens)
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        kept = sorted(
            (token for token, count in counts.items() if count >= min_frequency),
            key=lambda token: (-counts[token], token),
        )
        if max_size is not None:
            kept = kept[: max(0, max_size - len(SPECIAL_TOKENS))]
        return cls(list(SPECIAL_TOKENS) + kept)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._ids

    @property
    def tokens(self) -> list[str]:
        """Every token in id order."""
        return list(self._tokens)

    def token_to_id(self, token: str) -> int:
        """The id of a token, UNK's id for an unknown one."""
        return self._ids.get(token, UNK_ID)

    def id_to_token(self, token_id: int) -> str:
        """The token of an id."""
        return self._tokens[token_id]


class Tokenizer:
    """Turns sentences into id sequences and back.

    Args:
        vocabulary: the token/id mapping.
        level: "word" or "char".
        lowercase: lower-case sentences before splitting them.
    """

    def __init__(self, vocabulary: Vocabulary, level: str = "word", lowercase: bool = False):
        if level not in LEVELS:
            raise ValueError(f"unknown tokenizer level {level!r}; valid: {', '.join(LEVELS)}")
        self.vocabulary = vocabulary
        self.level = level
        self.lowercase = lowercase

    @classmethod
    def fit(
        cls,
        sentences: Iterable[str],
        level: str = "word",
        lowercase: bool = False,
        min_frequency: int = 1,
        max_size: int | None = None,
    ) -> "Tokenizer":
        """Builds a tokenizer whose vocabulary covers a corpus.

        Args:
            sentences: the training sentences.
            level: "word" or "char".
            lowercase: lower-case sentences first.
            min_frequency: see `Vocabulary.build`.
            max_size: see `Vocabulary.build`.

        Returns:
            The tokenizer.
        """
        token_lists = (split_text(s, level, lowercase) for s in sentences)
        return cls(Vocabulary.build(token_lists, min_frequency, max_size), level, lowercase)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    def tokenize(self, sentence: str) -> list[str]:
        """The tokens of a sentence (before the vocabulary maps them)."""
        return split_text(sentence, self.level, self.lowercase)

    def encode(self, sentence: str) -> list[int]:
        """The ids of a sentence's tokens, without BOS or EOS."""
        return [self.vocabulary.token_to_id(t) for t in self.tokenize(sentence)]

    def ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        """Tokens of an id sequence up to the first EOS, without PAD and BOS."""
        tokens = []
        for token_id in ids:
            token_id = int(token_id)
            if token_id == EOS_ID:
                break
            if token_id in (PAD_ID, BOS_ID):
                continue
            tokens.append(self.vocabulary.id_to_token(token_id))
        return tokens

    def decode(self, ids: Iterable[int]) -> str:
        """The detokenized sentence of an id sequence (stops at the first EOS)."""
        return join_tokens(self.ids_to_tokens(ids), self.level)

    def to_dict(self) -> dict:
        return {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "level": self.level,
            "lowercase": self.lowercase,
            "tokens": self.vocabulary.tokens,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Tokenizer":
        return cls(Vocabulary(data["tokens"]), data["level"], bool(data["lowercase"]))

    def save(self, path: str | Path) -> None:
        """Writes the tokenizer as JSON (atomically: a temporary file, then rename)."""
        atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Tokenizer":
        """Reads a tokenizer written by `save`.

        Raises:
            UserInputError: the file is missing or is not a tokenizer file.
        """
        data = read_format_json(path, "vocabulary", _FORMAT, _FORMAT_VERSION, "vocabulary", "vocabulary")
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise UserInputError(f"{path}: malformed vocabulary file ({exc})") from None
