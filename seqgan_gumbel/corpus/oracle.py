"""The SeqGAN synthetic-data oracle and its NLL_oracle metric.

The oracle is a fixed, randomly initialised LSTM (vocabulary 5,000, hidden 32,
sequences of exactly 20 tokens, no end token). Its samples are the "real" data
of the synthetic benchmark; a generator is judged by NLL_oracle, the oracle's
mean per-token negative log-likelihood (nats) of the generator's samples.
The equations are those of ../shared/datasets/README.md:

    i = sigmoid(x Wi + h Ui + bi)      f = sigmoid(x Wf + h Uf + bf)
    o = sigmoid(x Wog + h Uog + bog)   c = f * c + i * tanh(x Wc + h Uc + bc)
    h = o * tanh(c)                    logits = h Wo + bo

with x the embedding of the previous token (token 0 before the first), h and c
zero at the start. With the published weights, the oracle's own samples score
about 5.75 and uniformly random sequences about 11.42.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import tensorflow as tf

from seqgan_gumbel.corpus.loading import read_lines
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.fileio import atomic_write_text
from seqgan_gumbel.signature import signature

SEQUENCE_LENGTH = 20
VOCAB_SIZE = 5000
HIDDEN_SIZE = 32
START_TOKEN = 0

# The four gates in the order their weights are concatenated for one matmul.
_GATES = ("i", "f", "og", "c")
WEIGHT_NAMES = (
    "embedding",
    *(f"W{g}" for g in _GATES),
    *(f"U{g}" for g in _GATES),
    *(f"b{g}" for g in _GATES),
    "Wo",
    "bo",
)

# ASCII digits only: int() would also take "+5", "1_000" and non-ASCII digits,
# which no generator should write. A leading "-" is let through so that a
# negative id is reported as out of range rather than as "not an integer".
_INTEGER_TOKEN = re.compile(r"-?[0-9]+")


def _expected_shapes(vocab_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """The shape of every oracle array for the given sizes."""
    shapes: dict[str, tuple[int, ...]] = {"embedding": (vocab_size, hidden_size)}
    for gate in _GATES:
        shapes[f"W{gate}"] = (hidden_size, hidden_size)
        shapes[f"U{gate}"] = (hidden_size, hidden_size)
        shapes[f"b{gate}"] = (hidden_size,)
    shapes["Wo"] = (hidden_size, vocab_size)
    shapes["bo"] = (vocab_size,)
    return shapes


def check_weights(
    weights: Mapping[str, np.ndarray],
    vocab_size: int | None = None,
    hidden_size: int | None = None,
) -> dict[str, np.ndarray]:
    """Checks the oracle's arrays and returns them as float32 numpy arrays.

    Args:
        weights: the arrays by name (see `WEIGHT_NAMES`); extra names are ignored.
        vocab_size: the required vocabulary size, or None to take it from
            `embedding` (a small oracle for tests).
        hidden_size: the required hidden size, or None to take it from `embedding`.

    Returns:
        A new dict holding exactly the arrays of `WEIGHT_NAMES`, as float32.

    Raises:
        ValueError: an array is missing, misshaped, not floating point or not
            finite; the message is one line without the file name.
    """
    missing = [name for name in WEIGHT_NAMES if name not in weights]
    if missing:
        raise ValueError(f"missing array(s) {', '.join(missing)}; an oracle needs {', '.join(WEIGHT_NAMES)}")
    embedding_shape = np.shape(weights["embedding"])
    if len(embedding_shape) != 2:
        raise ValueError(f"array 'embedding' has shape {embedding_shape}, expected (vocabulary, hidden)")
    vocab_size = embedding_shape[0] if vocab_size is None else vocab_size
    hidden_size = embedding_shape[1] if hidden_size is None else hidden_size
    checked = {}
    for name, shape in _expected_shapes(vocab_size, hidden_size).items():
        array = np.asarray(weights[name])
        if array.shape != shape:
            raise ValueError(f"array '{name}' has shape {array.shape}, expected {shape}")
        # Any real float is accepted (a user may have re-saved the weights as
        # float64); integers or objects mean the wrong file.
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"array '{name}' has dtype {array.dtype}, expected float32")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"array '{name}' contains NaN or infinite values")
        checked[name] = array.astype(np.float32)
    return checked


def load_oracle_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Reads the SeqGAN oracle's weights from an .npz archive, without pickle.

    Args:
        path: the archive, e.g. ../shared/datasets/oracle/seqgan_oracle_params.npz.

    Returns:
        The arrays of `WEIGHT_NAMES` as float32, with the benchmark's shapes
        (vocabulary 5,000, hidden 32).

    Raises:
        UserInputError: "<path>: ..." in one line for a missing file, a file that
            is not an npz archive, or a missing, misshaped or non-float array.
    """
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"{path}: oracle weights file not found")
    if path.is_dir():
        raise UserInputError(f"{path}: is a directory, expected the oracle weights .npz file")
    if not zipfile.is_zipfile(path):
        # np.load would otherwise try .npy or, worse, mention pickle.
        raise UserInputError(f"{path}: not an .npz archive (expected the oracle weights, e.g. seqgan_oracle_params.npz)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in WEIGHT_NAMES if name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        # A corrupt member or an object array (needs pickle) lands here.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserInputError(f"{path}: cannot read the .npz archive ({message})") from None
    try:
        return check_weights(arrays, VOCAB_SIZE, HIDDEN_SIZE)
    except ValueError as exc:
        raise UserInputError(f"{path}: {exc}") from None


class Oracle:
    """The oracle LSTM: samples sequences and scores them (NLL_oracle).

    Attributes:
        sequence_length: tokens per sequence (20 for the benchmark).
        vocab_size: ids are in [0, vocab_size).
        hidden_size: the LSTM's width.
    """

    def __init__(self, weights: Mapping[str, np.ndarray], sequence_length: int = SEQUENCE_LENGTH):
        """Builds the oracle from its arrays.

        Args:
            weights: the arrays of `WEIGHT_NAMES`, e.g. from `load_oracle_weights`;
                any consistent sizes are accepted so that tests can use a tiny oracle.
            sequence_length: tokens per sequence.

        Raises:
            ValueError: inconsistent or missing arrays, or a length below 1.
        """
        if sequence_length < 1:
            raise ValueError(f"sequence_length must be at least 1, got {sequence_length}")
        arrays = check_weights(weights)
        self.sequence_length = int(sequence_length)
        self.vocab_size, self.hidden_size = arrays["embedding"].shape
        self._embedding = tf.constant(arrays["embedding"])
        # One (hidden, 4 hidden) matmul per step instead of eight small ones.
        self._w = tf.constant(np.concatenate([arrays[f"W{g}"] for g in _GATES], axis=1))
        self._u = tf.constant(np.concatenate([arrays[f"U{g}"] for g in _GATES], axis=1))
        self._b = tf.constant(np.concatenate([arrays[f"b{g}"] for g in _GATES]))
        self._wo = tf.constant(arrays["Wo"])
        # Row y is Wo's column y: the target's logit without the full softmax layer.
        self._wo_rows = tf.constant(np.ascontiguousarray(arrays["Wo"].T))
        self._bo = tf.constant(arrays["bo"])
        # Fixed signatures: one trace each, whatever the batch size.
        self._sample_batch = tf.function(
            self._sample_batch_eager,
            input_signature=[tf.TensorSpec([2], tf.int64), tf.TensorSpec([], tf.int32)],
        )
        self._score_batch = tf.function(
            self._score_batch_eager,
            input_signature=[tf.TensorSpec([None, self.sequence_length], tf.int32)],
        )

    def _step(self, x_proj: tf.Tensor, h: tf.Tensor, c: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One LSTM step; x_proj is x W + b, already computed for the input."""
        gates = x_proj + tf.matmul(h, self._u)
        i, f, o, g = tf.split(gates, 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        return h, c

    def _project(self, tokens: tf.Tensor) -> tf.Tensor:
        """x W + b for the embeddings of `tokens` (any leading shape)."""
        x = tf.gather(self._embedding, tokens)
        return tf.tensordot(x, self._w, axes=1) + self._b

    def _sample_batch_eager(self, seed: tf.Tensor, batch: tf.Tensor) -> tf.Tensor:
        """Draws `batch` sequences; the seed of step t is fold_in(seed, t)."""
        h = tf.zeros([batch, self.hidden_size])
        c = tf.zeros([batch, self.hidden_size])
        tokens = tf.fill([batch], tf.constant(START_TOKEN, tf.int32))
        drawn = []
        # A Python loop: the 20 steps are unrolled into one graph, which on CPU
        # is faster than a tf.while_loop and keeps step seeds static.
        for t in range(self.sequence_length):
            h, c = self._step(self._project(tokens), h, c)
            logits = tf.matmul(h, self._wo) + self._bo
            step_seed = tf.random.experimental.stateless_fold_in(seed, t)
            tokens = tf.random.stateless_categorical(logits, 1, seed=step_seed, dtype=tf.int32)[:, 0]
            drawn.append(tokens)
        return tf.stack(drawn, axis=1)

    def _score_batch_eager(self, sequences: tf.Tensor) -> tf.Tensor:
        """Per-sequence mean of -log p(y_t | y_<t), teacher-forced."""
        batch = tf.shape(sequences)[0]
        start = tf.fill([batch, 1], tf.constant(START_TOKEN, tf.int32))
        inputs = tf.concat([start, sequences[:, :-1]], axis=1)
        # All input projections at once; only h U remains inside the loop.
        x_proj = self._project(inputs)
        h = tf.zeros([batch, self.hidden_size])
        c = tf.zeros([batch, self.hidden_size])
        losses = []
        for t in range(self.sequence_length):
            h, c = self._step(x_proj[:, t], h, c)
            logits = tf.matmul(h, self._wo) + self._bo
            target = sequences[:, t]
            target_logit = tf.reduce_sum(h * tf.gather(self._wo_rows, target), axis=1) + tf.gather(self._bo, target)
            losses.append(tf.reduce_logsumexp(logits, axis=1) - target_logit)
        return tf.reduce_mean(tf.stack(losses, axis=1), axis=1)

    def sample(self, num: int, seed: int, batch_size: int = 1000) -> np.ndarray:
        """Draws sequences from the oracle, deterministically for a seed.

        Batch k uses the stateless seed fold_in([seed, 0], k) and every batch is
        drawn full size, so the first rows of a larger draw equal a smaller draw
        with the same seed and batch size. Different batch sizes give different
        samples.

        Args:
            num: how many sequences (at least 1).
            seed: any integer that fits in int64.
            batch_size: sequences per compiled call.

        Returns:
            An int32 array of shape (num, sequence_length).

        Raises:
            ValueError: num or batch_size below 1, or a seed that is not an integer.
        """
        _check_positive("num", num)
        _check_positive("batch_size", batch_size)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        base = tf.constant([int(seed), 0], tf.int64)
        batches = []
        for k in range(-(-num // batch_size)):
            batch_seed = tf.random.experimental.stateless_fold_in(base, tf.constant(k, tf.int64))
            batches.append(self._sample_batch(batch_seed, tf.constant(batch_size, tf.int32)).numpy())
        return np.concatenate(batches)[:num].astype(np.int32)

    def token_nll(self, sequences: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Each sequence's mean per-token NLL under the oracle, in nats.

        Args:
            sequences: integer array (N, sequence_length), ids in [0, vocab_size).
            batch_size: sequences per compiled call.

        Returns:
            A float64 array of shape (N,).

        Raises:
            ValueError: a wrong shape or dtype, no sequence, or an id out of range.
        """
        sequences = self._check_sequences(sequences)
        _check_positive("batch_size", batch_size)
        parts = [
            self._score_batch(tf.constant(sequences[start : start + batch_size])).numpy()
            for start in range(0, len(sequences), batch_size)
        ]
        return np.concatenate(parts).astype(np.float64)

    def nll(self, sequences: np.ndarray, batch_size: int = 1000) -> float:
        """NLL_oracle: the mean over sequences and positions of -log p(y_t | y_<t).

        Args:
            sequences: integer array (N, sequence_length), ids in [0, vocab_size).
            batch_size: sequences per compiled call.

        Returns:
            The mean per-token negative log-likelihood in nats.

        Raises:
            ValueError: a wrong shape or dtype, no sequence, or an id out of range.
        """
        # Every sequence has the same length, so the mean of the per-sequence
        # means is the mean over all tokens.
        return float(np.mean(self.token_nll(sequences, batch_size)))

    def nll_of_tokens(self, samples: Sequence[Sequence[str]]) -> tuple[float | None, int]:
        """NLL_oracle of a generator's token samples, for a run whose tokens are the oracle's ids.

        Only samples of exactly `sequence_length` tokens, each the decimal id
        of an oracle token, can be scored; the others (ended early, or holding
        UNK) are left out, and the count says how many were scored.

        Args:
            samples: token lists, e.g. `Tokenizer.ids_to_tokens` of sampled ids.

        Returns:
            (NLL_oracle of the scorable samples, or None when none is; their number).
        """
        scorable = [
            [int(token) for token in sample] for sample in samples
            if len(sample) == self.sequence_length
            and all(token.isascii() and token.isdecimal() and int(token) < self.vocab_size for token in sample)
        ]
        return (self.nll(np.array(scorable, dtype=np.int32)) if scorable else None), len(scorable)

    def _check_sequences(self, sequences: np.ndarray) -> np.ndarray:
        """Validates sequences to score and returns them as int32."""
        array = np.asarray(sequences)
        if array.ndim != 2 or array.shape[1] != self.sequence_length:
            raise ValueError(f"sequences must have shape (N, {self.sequence_length}), got {array.shape}")
        if len(array) == 0:
            raise ValueError("no sequence to score")
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"sequences must hold integer ids, got dtype {array.dtype}")
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= self.vocab_size:
            bad = low if low < 0 else high
            raise ValueError(f"id {bad} is outside the oracle's vocabulary [0, {self.vocab_size})")
        return array.astype(np.int32)


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def write_sequences(path: str | Path, sequences: np.ndarray) -> None:
    """Writes sequences one a line, ids in decimal separated by single spaces.

    The file is UTF-8 with a trailing newline and is replaced atomically.

    Args:
        path: the file to write.
        sequences: a non-empty 2-D integer array.

    Raises:
        ValueError: not a non-empty 2-D integer array.
    """
    array = np.asarray(sequences)
    if array.ndim != 2 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"expected a non-empty 2-D integer array, got shape {array.shape} dtype {array.dtype}")
    text = "".join(" ".join(map(str, row)) + "\n" for row in array.tolist())
    atomic_write_text(path, text)


def read_sequences(
    path: str | Path, sequence_length: int = SEQUENCE_LENGTH, vocab_size: int = VOCAB_SIZE
) -> np.ndarray:
    """Reads sequences of ids, one a line, e.g. a generator's samples to score.

    Tokens may be separated by any whitespace. A blank line is an empty sample
    and so an error (skipping it would drop a generator's worst samples from the
    score); blank lines at the end of the file are ignored.

    Args:
        path: the file.
        sequence_length: the exact number of tokens each line must have.
        vocab_size: ids must be in [0, vocab_size).

    Returns:
        An int32 array of shape (lines, sequence_length).

    Raises:
        UserInputError: "<path>: ..." for an unreadable or empty file, and
            "<path>: line N: ..." for a token that is not an integer, an id out
            of range or a line (blank included) without exactly
            `sequence_length` tokens.
    """
    lines = read_lines(path, "samples", keep_blank=True)
    rows = []
    for index, line in enumerate(lines):
        tokens = line.split()
        if len(tokens) != sequence_length:
            raise _line_error(
                path,
                index,
                f"expected exactly {sequence_length} tokens, found {len(tokens)} "
                f"(oracle sequences have no end token; samples that stopped early cannot be scored)",
            )
        for token in tokens:
            if not _INTEGER_TOKEN.fullmatch(token):
                raise _line_error(path, index, f"token {token[:40]!r} is not an integer id")
        ids = [int(token) for token in tokens]
        for token_id in ids:
            if not 0 <= token_id < vocab_size:
                raise _line_error(path, index, f"id {token_id} is outside the vocabulary [0, {vocab_size})")
        rows.append(ids)
    return np.asarray(rows, dtype=np.int32)


def _line_error(path: str | Path, index: int, problem: str) -> UserInputError:
    """An error naming line index + 1 of the file (blank lines are kept, so they match)."""
    return UserInputError(f"{path}: line {index + 1}: {problem}")


def make_oracle_corpus(
    weights_path: str | Path,
    out_dir: str | Path,
    num_train: int = 10000,
    num_test: int = 10000,
    train_seed: int = 0,
    test_seed: int = 1,
    sequence_length: int = SEQUENCE_LENGTH,
) -> dict:
    """Writes the synthetic benchmark's data: oracle samples as id files.

    Args:
        weights_path: the oracle's .npz weights.
        out_dir: the folder for train.txt and test.txt (created if missing).
        num_train: training sequences.
        num_test: test sequences.
        train_seed: sampling seed of train.txt.
        test_seed: sampling seed of test.txt; must differ from train_seed,
            or the two files would be identical.
        sequence_length: tokens per sequence (20 or 40 in RelGAN's tables).

    Returns:
        {"train": path, "test": path, "nll_train": float, "nll_test": float},
        paths as strings, NLLs being the oracle's own NLL of each file.

    Raises:
        UserInputError: unreadable weights.
        ValueError: equal seeds or non-positive counts.
    """
    if train_seed == test_seed:
        raise ValueError(f"train_seed and test_seed must differ, both are {train_seed}")
    oracle = Oracle(load_oracle_weights(weights_path), sequence_length=sequence_length)
    out_dir = Path(out_dir)
    result: dict = {}
    for split, num, seed in (("train", num_train, train_seed), ("test", num_test, test_seed)):
        sequences = oracle.sample(num, seed)
        path = out_dir / f"{split}.txt"
        write_sequences(path, sequences)
        result[split] = str(path)
        result[f"nll_{split}"] = oracle.nll(sequences)
    return result


def nll_oracle_signature(weights_name: str, length: int, num_samples: int) -> str:
    """The signature of an NLL_oracle figure.

    Args:
        weights_name: the oracle's weights file name.
        length: tokens per sequence.
        num_samples: the sequences scored.
    """
    return signature("nll_oracle", oracle="seqgan", weights=weights_name, length=length, samples=num_samples,
                     units="nats/token")
