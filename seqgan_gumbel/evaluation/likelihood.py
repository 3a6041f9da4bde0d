"""The generator's negative log-likelihood of real sentences (NLL_test, NLL_train)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqgan_gumbel.corpus.loading import CorpusStats, encode_sentences, read_lines
from seqgan_gumbel.corpus.pipelines import mle_batches
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.signature import signature
from seqgan_gumbel.rundir import GENERATOR_FILE, RunDirectory
from seqgan_gumbel.corpus.tokenizer import BOS_ID, PAD_ID


def token_losses(generator: keras.Model, ids: tf.Tensor, training: bool = False):
    """Per-position cross-entropy of teacher-forced targets, and the mask of real targets (tokens and EOS).

    Args:
        generator: maps BOS-prefixed inputs to next-token logits.
        ids: (batch, time) targets: tokens, EOS, then PAD.
        training: passed to the generator.

    Returns:
        (losses, real): (batch, time) nats per position, and 1.0 where the
        target is a token or EOS, 0.0 where it is PAD.
    """
    inputs = tf.concat([tf.fill((tf.shape(ids)[0], 1), BOS_ID), ids[:, :-1]], axis=1)
    logits = generator(inputs, training=training)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)
    return losses, tf.cast(ids != PAD_ID, losses.dtype)


def token_nll(generator: keras.Model, ids: tf.Tensor, training: bool = False, padding: bool = False):
    """Summed negative log-likelihood of real sentences and their token count.

    Args:
        generator: maps BOS-prefixed inputs to next-token logits.
        ids: (batch, time) targets: tokens, EOS, then PAD.
        training: passed to the generator.
        padding: also score the PAD targets after EOS (a generator whose
            relaxed samples run to the maximum length must learn to emit
            PAD there); NLL figures never do.

    Returns:
        (nll_sum, target_count) scalars: nats over every token and EOS (and
        PAD with `padding`).
    """
    losses, real = token_losses(generator, ids, training)
    mask = tf.ones_like(losses) if padding else real
    return tf.reduce_sum(losses * mask), tf.reduce_sum(mask)


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
        self._nll = keras.metrics.Mean(name="nll")

        # Any number of sentences and any length: one trace.
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
        def add_batch(ids):
            nll_sum, count = token_nll(generator, ids)
            self._nll.update_state(nll_sum / tf.maximum(count, 1.0), sample_weight=count)

        self._add_batch = add_batch

    def __call__(self, ids: np.ndarray, batch_size: int = 64) -> float:
        """Mean per-token NLL (nats) of `ids`' sentences, EOS included (see `negative_log_likelihood`).

        Args:
            ids: (sentences, length) rows of tokens, EOS, PAD.
            batch_size: sentences per evaluation batch.

        Returns:
            The token-weighted mean NLL over all sentences.
        """
        self._nll.reset_state()
        for batch in mle_batches(ids, batch_size, seed=0, shuffle=False):
            self._add_batch(batch)
        return float(self._nll.result())


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


def nll_test_signature(stats: CorpusStats, level: str, model: str = GENERATOR_FILE, metric: str = "nll_test") -> str:
    """The signature of an NLL_test figure (`run_nll`), or of NLL_train with `metric` "nll_train".

    Args:
        stats: what encoding did to the scored sentences.
        level: the run's token level.
        model: which generator of the run was scored.
        metric: "nll_test" or "nll_train".
    """
    return signature(metric, model=model, sentences=stats.kept, dropped=stats.dropped_too_long,
                     truncated=stats.truncated, tok=level, eos="included", units="nats/token")
