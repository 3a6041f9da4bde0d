"""tf.data pipelines over encoded corpora (arrays from `seqgan_gumbel.corpus.loading`)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def mle_batches(ids: np.ndarray, batch_size: int, seed: int, shuffle: bool = True) -> tf.data.Dataset:
    """Batches of whole sentences for teacher-forced training or evaluation.

    Args:
        ids: (sentences, length) int32 array.
        batch_size: sentences per batch; the last partial batch is kept only
            when not shuffling (evaluation must see every sentence).
        seed: shuffle seed; reshuffled every epoch.
        shuffle: shuffle (training) or keep order (evaluation).

    Returns:
        A dataset of (batch, length) int32 tensors.
    """
    dataset = tf.data.Dataset.from_tensor_slices(ids)
    if shuffle:
        dataset = dataset.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)


def mle_stream(ids: np.ndarray, batch_size: int, seed: int, skip: int = 0) -> tf.data.Dataset:
    """An endless, seeded stream of training batches, reshuffled every pass.

    The stream is a function of the seed alone, so a resumed run that skips
    the batches it already trained on sees exactly the batches an
    uninterrupted run would.

    Args:
        ids: (sentences, length) int32 array.
        batch_size: sentences per batch (the stream never yields a partial batch).
        seed: shuffle seed.
        skip: batches to skip from the start.

    Returns:
        A dataset of (batch, length) int32 tensors.
    """
    return (
        tf.data.Dataset.from_tensor_slices(ids)
        .shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .skip(skip)
        .prefetch(tf.data.AUTOTUNE)
    )


def adversarial_batches(
    ids: np.ndarray, batch_size: int, batches_per_step: int, seed: int, skip: int = 0
) -> tf.data.Dataset:
    """An endless stream of real batches for adversarial iterations.

    Each element holds `batches_per_step` fresh real batches (a `GumbelGAN`'s
    `real_batches_per_step`: one per discriminator step and one for the
    generator step, whose RSGAN loss needs real logits too), shape
    (batch_size, batches_per_step, length) (batch first, so that
    tf.distribute splits it between replicas).

    Args:
        ids: (sentences, length) int32 array.
        batch_size: sentences per batch.
        batches_per_step: real batches per element.
        seed: shuffle seed.
        skip: elements (adversarial iterations) to skip, for resuming.

    Returns:
        The dataset.
    """
    return (
        tf.data.Dataset.from_tensor_slices(ids)
        .shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .batch(batches_per_step, drop_remainder=True)
        .map(lambda batches: tf.transpose(batches, [1, 0, 2]))
        .skip(skip)
        .prefetch(tf.data.AUTOTUNE)
    )
