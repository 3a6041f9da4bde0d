"""Sampling sentences from a trained generator."""

from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.models.precision import with_precision
from seqgan_gumbel.rundir import GENERATOR_FILE, RunDirectory
from seqgan_gumbel.corpus.tokenizer import EOS_ID, UNK_ID, Tokenizer

_SAMPLERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _compiled_sampler(generator):
    # One traced graph per generator: tracing the unrolled sampling loop costs
    # seconds, and training samples the same generator many times. The batch
    # size is passed as a tensor, so that every number of sentences (20 shown
    # after pretraining, the monitor's, the report's) reuses that one graph.
    # The graph reaches the generator through a weak reference: a bound method
    # in the value would keep its key alive, and no generator sampled in a
    # long process (a sweep over many runs) would ever be freed.
    if generator not in _SAMPLERS:
        generator_ref = weakref.ref(generator)

        def generate_with_log_probs(*args, **kwargs):
            return generator_ref().generate_with_log_probs(*args, **kwargs)

        _SAMPLERS[generator] = tf.function(generate_with_log_probs, reduce_retracing=True)
    return _SAMPLERS[generator]


def sample_with_log_probs(
    generator,
    num: int,
    temperature: float = 1.0,
    seed: int | None = None,
    batch_size: int = 1000,
    top_k: int = 0,
    top_p: float = 1.0,
    prefix_ids: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Samples `num` id sequences in batches with one compiled sampling graph.

    Args:
        generator: an `LSTMGenerator`.
        num: how many sentences.
        temperature: softmax temperature (> 0).
        seed: makes the samples reproducible; None draws fresh randomness.
        batch_size: sentences per graph call.
        top_k: sample among the k most likely tokens (0: all).
        top_p: nucleus sampling threshold (1.0: off).
        prefix_ids: token ids every sentence starts with.

    Returns:
        ((num, sequence_length) int32 ids with PAD after the first EOS,
        (num,) log-probabilities of the sentences under the model).
    """
    if num < 1:
        raise UserInputError(f"the number of sentences must be positive, got {num}")
    if not temperature > 0:
        raise UserInputError(f"the temperature must be > 0, got {temperature}")
    if top_k < 0 or top_k > generator.vocab_size:
        raise UserInputError(f"top-k must be between 0 (off) and the vocabulary size {generator.vocab_size}, got {top_k}")
    if not 0 < top_p <= 1:
        raise UserInputError(f"top-p must be in (0, 1], got {top_p}")
    forced = None
    if prefix_ids:
        if len(prefix_ids) >= generator.sequence_length:
            raise UserInputError(
                f"the prefix has {len(prefix_ids)} tokens; the model writes at most {generator.sequence_length - 1}"
            )
        forced = np.full(generator.sequence_length, -1, np.int32)
        forced[: len(prefix_ids)] = prefix_ids
        forced = tf.constant(forced)
    batch_size = min(batch_size, num)
    sampler = _compiled_sampler(generator)
    batch = tf.constant(batch_size, tf.int32)
    base = np.random.SeedSequence(seed).generate_state(2).astype(np.int64) % (2**31 - 1)
    ids, log_probs = [], []
    for index in range(-(-num // batch_size)):
        step_seed = tf.constant([int(base[0]), int(base[1]) + index], tf.int32)
        batch_ids, batch_log_probs = sampler(
            batch, tf.constant(temperature, tf.float32), seed=step_seed, top_k=top_k, top_p=top_p,
            forced_tokens=forced,
        )
        ids.append(batch_ids.numpy())
        log_probs.append(batch_log_probs.numpy())
    return np.concatenate(ids)[:num], np.concatenate(log_probs)[:num]


def sample_ids(generator, num: int, temperature: float = 1.0, seed: int | None = None, batch_size: int = 1000) -> np.ndarray:
    """Samples `num` id sequences; see `sample_with_log_probs`.

    Returns:
        (num, sequence_length) int32 array, PAD after the first EOS.
    """
    return sample_with_log_probs(generator, num, temperature, seed, batch_size)[0]


def decode_all(tokenizer: Tokenizer, ids: np.ndarray) -> list[str]:
    """Detokenized sentences of id rows."""
    return [tokenizer.decode(row) for row in ids]


@dataclass
class GeneratedSentence:
    """One sampled sentence with its log-probability (nats) under the model."""

    text: str
    log_prob: float
    num_tokens: int

    def to_dict(self) -> dict:
        return asdict(self)


def prefix_to_ids(tokenizer: Tokenizer, prefix: str) -> list[int]:
    """The ids of a prefix's tokens; every token must be in the vocabulary.

    Raises:
        UserInputError: an unknown token (generation could not continue it faithfully).
    """
    tokens = tokenizer.tokenize(prefix)
    ids = [tokenizer.vocabulary.token_to_id(token) for token in tokens]
    unknown = [token for token, i in zip(tokens, ids) if i == UNK_ID]
    if unknown:
        raise UserInputError(f"--prefix: {', '.join(repr(t) for t in unknown)} not in the run's vocabulary")
    return ids


def generate_sentences(
    run_dir: str | Path,
    num: int,
    temperature: float = 1.0,
    seed: int | None = None,
    model: str = GENERATOR_FILE,
    top_k: int = 0,
    top_p: float = 1.0,
    prefix: str | None = None,
    unique: bool = False,
    max_rounds: int = 20,
    precision: str | None = None,
) -> list[GeneratedSentence]:
    """Samples sentences from a trained run, with their log-probabilities.

    Args:
        run_dir: the run directory written by `train`.
        num: how many sentences.
        temperature: softmax temperature (> 0); lower is more conservative.
        seed: makes the samples reproducible.
        model: which generator file of the run (the adversarial one by
            default; "generator_mle.keras" for the MLE-pretrained one).
        top_k: sample among the k most likely tokens (0: all).
        top_p: nucleus sampling threshold (1.0: off).
        prefix: text every sentence continues (conditional generation).
        unique: drop duplicate sentences, sampling more (up to `max_rounds`
            rounds) to reach `num`; fewer may come back from a collapsed model.
        max_rounds: sampling rounds allowed for `unique`.
        precision: compute under this dtype policy ("float32" or
            "mixed_bfloat16") instead of the one the model was trained with.

    Returns:
        The sentences (detokenized) with log-probabilities and token counts.

    Raises:
        UserInputError: not a run directory, damaged model, a vocabulary that
            does not match the model, or bad sampling settings.
    """
    run = RunDirectory(run_dir)
    run.load_config()  # refuses a run written by an unknown version
    tokenizer = run.load_tokenizer()
    generator = run.load_generator(model, tokenizer)
    if precision:
        generator = with_precision(generator, precision)
    prefix_ids = prefix_to_ids(tokenizer, prefix) if prefix else None
    results: list[GeneratedSentence] = []
    seen: set[str] = set()
    for round_index in range(max_rounds if unique else 1):
        round_seed = None if seed is None else seed + round_index
        ids, log_probs = sample_with_log_probs(generator, num, temperature, round_seed, top_k=top_k, top_p=top_p,
                                               prefix_ids=prefix_ids)
        for row, log_prob in zip(ids, log_probs):
            tokens = tokenizer.ids_to_tokens(row)
            text = tokenizer.decode(row)
            if unique and text in seen:
                continue
            seen.add(text)
            ended = EOS_ID in row
            results.append(GeneratedSentence(text, float(log_prob), len(tokens) + int(ended)))
            if len(results) == num:
                return results
    return results


def generate(run_dir: str | Path, num: int, temperature: float = 1.0, seed: int | None = None,
             model: str = GENERATOR_FILE, **options) -> list[str]:
    """Samples sentences from a trained run; see `generate_sentences` for every option.

    Returns:
        The sentences, detokenized.
    """
    return [s.text for s in generate_sentences(run_dir, num, temperature, seed, model, **options)]
