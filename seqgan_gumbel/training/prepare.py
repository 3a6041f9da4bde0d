"""Checking a run's inputs and encoding its corpora, without TensorFlow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_gumbel.config import Config
from seqgan_gumbel.corpus.loading import CorpusStats, encode_sentences, load_corpus, read_lines, read_vocabulary
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.corpus.grammar import GrammarChecker, load_grammar
from seqgan_gumbel.rundir import CORPUS_STATS_FILE, RunDirectory
from seqgan_gumbel.corpus.tokenizer import EOS_ID, UNK_ID, Tokenizer


@dataclass
class PreparedRun:
    """A run whose inputs have been read, checked and encoded."""

    config: Config
    run: RunDirectory
    overwrite: bool
    tokenizer: Tokenizer
    sentences: list[str]
    train_ids: np.ndarray
    train_stats: CorpusStats
    test_sentences: list[str] | None = None
    test_ids: np.ndarray | None = None
    test_stats: CorpusStats | None = None
    validation_ids: np.ndarray | None = None
    validation_stats: CorpusStats | None = None
    grammar_checker: GrammarChecker | None = None
    resume: bool = False
    held_out: int = 0  # training sentences held out as the validation corpus (data.validation_split)

    def corpus_record(self) -> dict:
        """What corpus_stats.json records: the counts and each file's SHA-256."""
        data = self.config.data
        return {
            "train": self.train_stats.to_dict(),
            "test": self.test_stats and self.test_stats.to_dict(),
            "validation": self.validation_stats and self.validation_stats.to_dict(),
            "validation_held_out_from_train": self.held_out,
            "sha256": {"train": file_sha256(data.corpus), "test": data.test and file_sha256(data.test),
                       "validation": data.validation and file_sha256(data.validation)},
        }

    @property
    def mle_validation_ids(self) -> np.ndarray | None:
        """The sentences scored after each MLE epoch: the validation corpus, else the test corpus."""
        return self.validation_ids if self.validation_ids is not None else self.test_ids


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (identifies a corpus across resumes)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# Settings that name files: equal when they name the same file, however written.
_PATH_SETTINGS = frozenset({"data.corpus", "data.test", "data.validation", "data.grammar", "data.vocabulary",
                            "training.pretrained_generator"})


def prepare_resume(run_dir: str | Path, settings: dict[str, tuple[Any, str]] | None = None) -> PreparedRun:
    """Reads a killed run's settings, vocabulary and corpora for `--resume`.

    The corpora must be the files the run started with (same path, same
    bytes): a resumed run that trained on different data would not be the
    same run.

    Args:
        run_dir: the run directory to continue.
        settings: the settings the resuming command names, as dotted key ->
            (value, the option that named it). Each must equal the run's own,
            so that the command that started the run, re-run with `--resume`,
            is accepted; settings it does not name are the run's.

    Raises:
        UserInputError: not a run directory, damaged files, changed corpora,
            or a setting that differs from the run's (named, with both values).
    """
    run = RunDirectory(run_dir)
    run.require_run()
    config = run.load_config()
    _check_same_settings(config, settings or {}, run.path)
    tokenizer = run.load_tokenizer()
    record = run.read_json(CORPUS_STATS_FILE)
    expected = record.get("sha256", {}) if isinstance(record, dict) else {}
    data = config.data
    for role, path in (("train", data.corpus), ("test", data.test), ("validation", data.validation)):
        if path and expected.get(role) and Path(path).is_file() and file_sha256(path) != expected[role]:
            raise UserInputError(f"{path}: the corpus changed since the run started; resume needs the same file")
    sentences = read_lines(data.corpus, "corpus")
    train_ids, train_stats = encode_sentences(sentences, tokenizer, data.max_length, data.long_sentences)
    prepared = PreparedRun(config, run, False, tokenizer, sentences, train_ids, train_stats, resume=True)
    _add_test_and_grammar(prepared)
    return prepared


def _check_same_settings(config: Config, settings: dict[str, tuple[Any, str]], run_path: Path) -> None:
    run_settings = config.to_dict()
    for key, (value, origin) in settings.items():
        section, _, name = key.partition(".")
        own = run_settings[section][name]
        same = (own == value if key not in _PATH_SETTINGS or not (own and value)
                else Path(own).resolve() == Path(value).resolve())
        if not same:
            raise UserInputError(
                f"--resume continues {run_path} with its own settings: {origin} sets {key} = {value!r}, "
                f"the run has {own!r} (drop it, or start a new run)"
            )


def prepare_run(config: Config, run_dir: str | Path, overwrite: bool = False) -> PreparedRun:
    """Reads and checks everything a run needs before anything is written.

    Args:
        config: the run's settings (`config.data.corpus` is required).
        run_dir: the new run directory.
        overwrite: an existing run directory may be replaced.

    Returns:
        The encoded corpora, the tokenizer fitted on the training corpus, and the run directory.

    Raises:
        UserInputError: bad settings, corpus or run directory.
    """
    config.validate()
    data, t = config.data, config.training
    if not data.corpus:
        raise UserInputError("no training corpus given (--corpus FILE)")
    run = RunDirectory(run_dir)
    run.check_creatable(overwrite)
    sentences = read_lines(data.corpus, "corpus")
    if data.vocabulary:
        tokenizer = Tokenizer(read_vocabulary(data.vocabulary, data.level), data.level, data.lowercase)
    else:
        tokenizer = Tokenizer.fit(sentences, data.level, data.lowercase, data.min_frequency,
                                  data.max_vocab_size or None)
    train_ids, train_stats = encode_sentences(sentences, tokenizer, data.max_length, data.long_sentences)
    if train_stats.kept == 0:
        raise UserInputError(
            f"{data.corpus}: every sentence is longer than the maximum length {data.max_length} "
            f"(raise --max-length or set data.long_sentences=truncate)"
        )
    if data.fixed_length:
        lengths = (train_ids != 0).sum(axis=1) - 1  # tokens before EOS
        if (lengths != data.max_length).any():
            raise UserInputError(
                f"{data.corpus}: data.fixed_length needs every sentence to have exactly {data.max_length} tokens; "
                f"{int((lengths != data.max_length).sum())} do not"
            )
    if train_stats.kept < t.batch_size:
        raise UserInputError(
            f"{data.corpus}: only {train_stats.kept} usable sentences, fewer than one batch "
            f"({t.batch_size}); lower --batch-size or add sentences"
        )
    prepared = PreparedRun(config, run, overwrite, tokenizer, sentences, train_ids, train_stats)
    _add_test_and_grammar(prepared)
    return prepared


def _add_test_and_grammar(prepared: PreparedRun) -> None:
    data = prepared.config.data
    if data.grammar:
        prepared.grammar_checker = _grammar_checker(data.grammar)
    if data.test:
        prepared.test_sentences = read_lines(data.test, "test corpus")
        prepared.test_ids, prepared.test_stats = load_corpus(
            data.test, prepared.tokenizer, data.max_length, data.long_sentences, "test corpus"
        )
    if data.validation:
        prepared.validation_ids, prepared.validation_stats = load_corpus(
            data.validation, prepared.tokenizer, data.max_length, data.long_sentences, "validation corpus"
        )
    elif data.validation_split:
        _hold_out_validation(prepared)


# The held-out sentences do not depend on training.seed: runs that differ only
# in their seed train and select on the same sentences.
_SPLIT_SEED = 20161104


def _hold_out_validation(prepared: PreparedRun) -> None:
    """Moves `data.validation_split` of the encoded training sentences into the validation corpus.

    Raises:
        UserInputError: the corpus is too small to hold any out and keep a batch.
    """
    data, batch_size = prepared.config.data, prepared.config.training.batch_size
    kept = len(prepared.train_ids)
    count = max(1, int(round(data.validation_split * kept)))
    if kept - count < batch_size:
        raise UserInputError(
            f"{data.corpus}: {kept} usable sentences are too few to hold out {data.validation_split:g} of them for "
            f"validation and keep a batch of {batch_size}; give --validation FILE, or --validation-split 0 "
            f"--no-keep-best-mle"
        )
    order = np.random.default_rng(_SPLIT_SEED).permutation(kept)
    held, rest = np.sort(order[:count]), np.sort(order[count:])
    validation = prepared.train_ids[held]
    prepared.validation_ids, prepared.train_ids, prepared.held_out = validation, prepared.train_ids[rest], count
    tokens = int((validation > EOS_ID).sum())  # after BOS, PAD and EOS come the real tokens, UNK first
    prepared.validation_stats = CorpusStats(sentences=count, kept=count, dropped_too_long=0, truncated=0,
                                            unknown_tokens=int((validation == UNK_ID).sum()), tokens=tokens)


def _grammar_checker(path: str) -> GrammarChecker:
    try:
        return GrammarChecker(load_grammar(path))
    except FileNotFoundError:
        raise UserInputError(f"{path}: grammar file not found") from None
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
