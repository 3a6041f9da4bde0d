"""Checking a run's inputs and encoding its corpora, without TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqgan_gumbel.config import Config
from seqgan_gumbel.corpus import CorpusStats, encode_sentences, load_corpus, read_lines
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.grammar import GrammarChecker, load_grammar
from seqgan_gumbel.rundir import RunDirectory
from seqgan_gumbel.tokenizer import Tokenizer


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
    grammar_checker: GrammarChecker | None = None


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
    tokenizer = Tokenizer.fit(sentences, data.level, data.lowercase, data.min_frequency, data.max_vocab_size or None)
    train_ids, train_stats = encode_sentences(sentences, tokenizer, data.max_length, data.long_sentences)
    if train_stats.kept == 0:
        raise UserInputError(
            f"{data.corpus}: every sentence is longer than the maximum length {data.max_length} "
            f"(raise --max-length or set data.long_sentences=truncate)"
        )
    if train_stats.kept < t.batch_size:
        raise UserInputError(
            f"{data.corpus}: only {train_stats.kept} usable sentences, fewer than one batch "
            f"({t.batch_size}); lower --batch-size or add sentences"
        )
    prepared = PreparedRun(config, run, overwrite, tokenizer, sentences, train_ids, train_stats)
    if data.grammar:
        prepared.grammar_checker = _grammar_checker(data.grammar)
    if data.test:
        prepared.test_sentences = read_lines(data.test, "test corpus")
        prepared.test_ids, prepared.test_stats = load_corpus(
            data.test, tokenizer, data.max_length, data.long_sentences, "test corpus"
        )
    return prepared


def _grammar_checker(path: str) -> GrammarChecker:
    try:
        return GrammarChecker(load_grammar(path))
    except FileNotFoundError:
        raise UserInputError(f"{path}: grammar file not found") from None
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
