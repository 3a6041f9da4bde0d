"""Reading a corpus (one sentence a line) and encoding it as padded id arrays.

Pure Python and numpy; `seqgan_gumbel.corpus.pipelines` turns the arrays into tf.data
pipelines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.corpus.tokenizer import EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, Tokenizer, Vocabulary

# A line this long is not a sentence: most likely a file without line breaks.
MAX_LINE_CHARACTERS = 100_000


def read_lines(path: str | Path, what: str = "corpus", keep_blank: bool = False) -> list[str]:
    """Reads the non-blank lines of a UTF-8 text file, stripped.

    A UTF-8 byte-order mark and CRLF line ends are accepted.

    Args:
        path: the file.
        what: names the file's role in error messages.
        keep_blank: keep blank lines as empty strings (a generator's empty
            sentence is a sample too); blank lines at the end of the file
            are still dropped.

    Returns:
        The lines, leading and trailing whitespace removed.

    Raises:
        UserInputError: the file is missing, a directory, unreadable, binary,
            not UTF-8 (with the line number), has a line of more than
            MAX_LINE_CHARACTERS characters, or has no non-blank line.
    """
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"{path}: {what} file not found")
    if path.is_dir():
        raise UserInputError(f"{path}: is a directory, expected a {what} text file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read {what} file ({exc.strerror})") from None
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise UserInputError(f"{path}: line {line} contains a NUL byte; expected a UTF-8 text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UserInputError(f"{path}: line {line} is not valid UTF-8 ({exc.reason})") from None
    # split("\n") rather than splitlines(): the latter also splits on the
    # Unicode line separators that may legitimately appear inside a sentence.
    lines = [line.strip() for line in text.split("\n")]
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARACTERS:
            raise UserInputError(
                f"{path}: line {number} is {len(line):,} characters long (limit {MAX_LINE_CHARACTERS:,}); "
                f"expected one sentence a line"
            )
    if not any(lines):
        raise UserInputError(f"{path}: {what} file is empty (no non-blank line)")
    if keep_blank:
        while not lines[-1]:
            lines.pop()
        return lines
    return [line for line in lines if line]


def read_vocabulary(path: str | Path, level: str = "word") -> Vocabulary:
    """Reads a fixed vocabulary: one token a line, in id order after the specials.

    Args:
        path: the file.
        level: "word" (tokens without whitespace) or "char" (one character each).

    Returns:
        The vocabulary: PAD, BOS, EOS, UNK, then the file's tokens.

    Raises:
        UserInputError: unreadable file, a repeated or special token, or a
            token that the tokenizer's level cannot produce.
    """
    seen: dict[str, int] = {}
    for number, token in enumerate(read_lines(path, "vocabulary", keep_blank=True), start=1):
        if not token:
            raise UserInputError(f"{path}: line {number} is blank; expected one token a line")
        if token in SPECIAL_TOKENS:
            raise UserInputError(f"{path}: line {number}: {token} is a special token, added by the tokenizer itself")
        if level == "word" and len(token.split()) > 1:
            raise UserInputError(f"{path}: line {number}: a word token cannot contain whitespace: {token!r}")
        if level == "char" and len(token) != 1:
            raise UserInputError(f"{path}: line {number}: a char-level token is one character, got {token!r}")
        if token in seen:
            raise UserInputError(f"{path}: line {number} repeats the token {token!r} of line {seen[token]}")
        seen[token] = number
    return Vocabulary(list(SPECIAL_TOKENS) + list(seen))


@dataclass
class CorpusStats:
    """What happened to a corpus's sentences on encoding."""

    sentences: int
    kept: int
    dropped_too_long: int
    truncated: int
    unknown_tokens: int
    tokens: int

    def summary(self, name: str) -> str:
        parts = [f"{name}: {self.sentences} sentences, {self.kept} kept"]
        if self.dropped_too_long:
            parts.append(f"{self.dropped_too_long} dropped as longer than the maximum length")
        if self.truncated:
            parts.append(f"{self.truncated} truncated to the maximum length")
        if self.unknown_tokens:
            parts.append(f"{self.unknown_tokens} of {self.tokens} tokens unknown")
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


def vocabulary_summary(vocab_size: int, level: str, train_ids: np.ndarray, test_stats: CorpusStats | None,
                       built_from_corpus: bool) -> list[str]:
    """What a run says about its vocabulary: its size, the test corpus's unknown
    tokens, and a warning when most of a vocabulary built from the corpus
    occurs only once in it (training time grows with the vocabulary).

    Args:
        vocab_size: ids, special tokens included.
        level: "word" or "char".
        train_ids: the encoded training sentences (`encode_sentences`).
        test_stats: the test corpus's encoding counts, if there is one.
        built_from_corpus: the vocabulary was fitted on the training corpus
            (not read from a file).

    Returns:
        One line, or two with the warning.
    """
    line = f"vocabulary: {vocab_size} tokens ({level} level)"
    if test_stats and test_stats.tokens:
        line += f", {test_stats.unknown_tokens / test_stats.tokens:.1%} of the test corpus's tokens unknown"
    lines = [line]
    counts = np.bincount(np.asarray(train_ids).ravel(), minlength=vocab_size)[len(SPECIAL_TOKENS):]
    once = int((counts == 1).sum())
    if built_from_corpus and counts.size and once > counts.size / 2:
        lines.append(f"warning: {once} of the vocabulary's {counts.size} {level}s occur only once in the corpus; "
                     "--min-frequency 2 (or --max-vocab N) makes the model smaller and training faster, the rare "
                     "ones becoming <unk>")
    return lines


def encode_sentences(
    sentences: Sequence[str],
    tokenizer: Tokenizer,
    max_length: int,
    long_sentences: str = "drop",
) -> tuple[np.ndarray, CorpusStats]:
    """Encodes sentences as rows of ids: the tokens, EOS, then PAD.

    Args:
        sentences: one sentence per item.
        tokenizer: maps a sentence to ids.
        max_length: the most tokens a sentence keeps (EOS not counted).
        long_sentences: "drop" or "truncate" longer sentences.

    Returns:
        An int32 array of shape (kept sentences, max_length + 1) and the counts.
    """
    if long_sentences not in ("drop", "truncate"):
        raise ValueError(f"unknown long-sentence policy {long_sentences!r}")
    rows, dropped, truncated, unknown, total = [], 0, 0, 0, 0
    for sentence in sentences:
        ids = tokenizer.encode(sentence)
        if len(ids) > max_length:
            if long_sentences == "drop":
                dropped += 1
                continue
            ids = ids[:max_length]
            truncated += 1
        total += len(ids)
        unknown += sum(1 for i in ids if i == UNK_ID)
        rows.append(ids)
    array = np.full((len(rows), max_length + 1), PAD_ID, dtype=np.int32)
    for r, ids in enumerate(rows):
        array[r, : len(ids)] = ids
        array[r, len(ids)] = EOS_ID
    stats = CorpusStats(len(sentences), len(rows), dropped, truncated, unknown, total)
    return array, stats


def load_corpus(
    path: str | Path,
    tokenizer: Tokenizer,
    max_length: int,
    long_sentences: str = "drop",
    what: str = "corpus",
) -> tuple[np.ndarray, CorpusStats]:
    """Reads and encodes a corpus file; see `read_lines` and `encode_sentences`.

    Raises:
        UserInputError: unreadable file, or no sentence fits the maximum length.
    """
    array, stats = encode_sentences(read_lines(path, what), tokenizer, max_length, long_sentences)
    if stats.kept == 0:
        raise UserInputError(
            f"{path}: every sentence is longer than the maximum length {max_length} "
            f"(raise --max-length or use long_sentences=truncate)"
        )
    return array, stats
