"""Sampling sentences from a trained generator."""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.rundir import GENERATOR_FILE, RunDirectory
from seqgan_gumbel.tokenizer import Tokenizer


def sample_ids(generator, num: int, temperature: float = 1.0, seed: int | None = None, batch_size: int = 1000) -> np.ndarray:
    """Samples `num` id sequences in batches with one compiled sampling graph.

    Args:
        generator: an `LSTMGenerator`.
        num: how many sentences.
        temperature: softmax temperature (> 0).
        seed: makes the samples reproducible; None draws fresh randomness.
        batch_size: sentences per graph call.

    Returns:
        (num, sequence_length) int32 array, PAD after the first EOS.
    """
    if num < 1:
        raise UserInputError(f"the number of sentences must be positive, got {num}")
    if not temperature > 0:
        raise UserInputError(f"the temperature must be > 0, got {temperature}")
    batch_size = min(batch_size, num)
    sampler = _compiled_sampler(generator)
    base = np.random.SeedSequence(seed).generate_state(2).astype(np.int64) % (2**31 - 1)
    batches = []
    for index in range(-(-num // batch_size)):
        step_seed = tf.constant([int(base[0]), int(base[1]) + index], tf.int32)
        batches.append(sampler(batch_size, tf.constant(temperature, tf.float32), seed=step_seed).numpy())
    return np.concatenate(batches)[:num]


_SAMPLERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _compiled_sampler(generator):
    # One traced graph per generator: tracing the unrolled sampling loop costs
    # seconds, and training samples the same generator many times.
    if generator not in _SAMPLERS:
        _SAMPLERS[generator] = tf.function(generator.generate, reduce_retracing=True)
    return _SAMPLERS[generator]


def decode_all(tokenizer: Tokenizer, ids: np.ndarray) -> list[str]:
    """Detokenized sentences of id rows."""
    return [tokenizer.decode(row) for row in ids]


def generate(
    run_dir: str | Path,
    num: int,
    temperature: float = 1.0,
    seed: int | None = None,
    model: str = GENERATOR_FILE,
) -> list[str]:
    """Samples sentences from a trained run.

    Args:
        run_dir: the run directory written by `train`.
        num: how many sentences.
        temperature: softmax temperature (> 0); lower is more conservative.
        seed: makes the samples reproducible.
        model: which generator file of the run (the adversarial one by
            default; "generator_mle.keras" for the MLE-pretrained one).

    Returns:
        The sentences, detokenized.

    Raises:
        UserInputError: not a run directory, damaged model, or a vocabulary
            that does not match the model.
    """
    run = RunDirectory(run_dir)
    run.load_config()  # refuses a run written by an unknown version
    tokenizer = run.load_tokenizer()
    generator = run.load_model(model)
    if getattr(generator, "vocab_size", None) != tokenizer.vocab_size:
        raise UserInputError(
            f"{run.file(model)}: the model has {getattr(generator, 'vocab_size', '?')} token ids but "
            f"{run.file('vocab.json')} has {tokenizer.vocab_size}: vocabulary and model do not match"
        )
    return decode_all(tokenizer, sample_ids(generator, num, temperature, seed))
