"""The generator's negative log-likelihood of real sentences (NLL_test, NLL_train)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqgan_gumbel.corpus import CorpusStats, encode_sentences, read_lines
from seqgan_gumbel.datasets import mle_batches
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.rundir import GENERATOR_FILE, RunDirectory
from seqgan_gumbel.training.mle import MLETrainer


class LikelihoodEvaluator:
    """Teacher-forced NLL of encoded sentences under one generator, with one traced evaluation graph.

    A run scores NLL_test and NLL_train of its MLE and of its final generator
    (the same model, other weights): one evaluator traces the evaluation step
    once for all four, where a fresh one per figure traces it four times
    (seconds each for the larger generators).

    Args:
        generator: the generator to score; the graph reads its current weights.
    """

    def __init__(self, generator):
        self._trainer = MLETrainer(generator)
        self._trainer.compile()

    def __call__(self, ids: np.ndarray, batch_size: int = 64) -> float:
        """Mean per-token NLL (nats) of `ids`' sentences, EOS included (see `negative_log_likelihood`).

        Args:
            ids: (sentences, length) rows of tokens, EOS, PAD.
            batch_size: sentences per evaluation batch.

        Returns:
            The token-weighted mean NLL over all sentences.
        """
        batches = mle_batches(ids, batch_size, seed=0, shuffle=False)
        return float(self._trainer.evaluate(batches, verbose=0, return_dict=True)["nll"])


def negative_log_likelihood(generator, ids: np.ndarray, batch_size: int = 64) -> float:
    """Mean per-token NLL (nats) of encoded sentences, teacher-forced, EOS included.

    Args:
        generator: an `LSTMGenerator`.
        ids: (sentences, length) rows of tokens, EOS, PAD.
        batch_size: sentences per evaluation batch.

    Returns:
        The token-weighted mean NLL over all sentences.
    """
    return LikelihoodEvaluator(generator)(ids, batch_size)


def run_nll(run_dir: str | Path, sentences_path: str | Path, model: str = GENERATOR_FILE) -> tuple[float, CorpusStats]:
    """NLL of a file's sentences under a trained run's generator.

    Sentences are tokenized with the run's tokenizer; those longer than the
    run's maximum length follow its long-sentence policy (the returned counts
    say how many were dropped or truncated).

    Args:
        run_dir: a run directory written by `train`.
        sentences_path: real sentences, one a line (e.g. the test split).
        model: which generator of the run.

    Returns:
        (mean per-token NLL in nats, what encoding did to the sentences).

    Raises:
        UserInputError: bad run directory or file, or no sentence fits.
    """
    run = RunDirectory(run_dir)
    config = run.load_config()
    tokenizer = run.load_tokenizer()
    ids, stats = encode_sentences(
        read_lines(sentences_path, "references"), tokenizer, config.data.max_length, config.data.long_sentences
    )
    if stats.kept == 0:
        raise UserInputError(f"{sentences_path}: no sentence fits the run's maximum length {config.data.max_length}")
    generator = run.load_model(model)
    return negative_log_likelihood(generator, ids, config.training.batch_size), stats
