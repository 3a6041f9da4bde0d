"""Maximum-likelihood (teacher-forced) training and evaluation of a generator."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.tokenizer import BOS_ID, PAD_ID


def token_nll(generator: keras.Model, ids: tf.Tensor, training: bool = False):
    """Summed negative log-likelihood of real sentences and their token count.

    Args:
        generator: maps BOS-prefixed inputs to next-token logits.
        ids: (batch, time) targets: tokens, EOS, then PAD (not scored).
        training: passed to the generator.

    Returns:
        (nll_sum, token_count) scalars: nats over every token and EOS.
    """
    inputs = tf.concat([tf.fill((tf.shape(ids)[0], 1), BOS_ID), ids[:, :-1]], axis=1)
    logits = generator(inputs, training=training)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)
    mask = tf.cast(ids != PAD_ID, losses.dtype)
    return tf.reduce_sum(losses * mask), tf.reduce_sum(mask)


class MLETrainer(keras.Model):
    """Wraps a generator for teacher-forced training with `fit` and NLL with `evaluate`.

    The reported "nll" is the mean per-token negative log-likelihood in nats,
    weighted by token count so that an epoch's figure is exact, not a mean of
    batch means.

    Args:
        generator: the generator to train (its weights are shared, not copied).
    """

    def __init__(self, generator: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.nll_tracker = keras.metrics.Mean(name="nll")

    @property
    def metrics(self):
        return [self.nll_tracker]

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, ids):
        with tf.GradientTape() as tape:
            nll_sum, count = token_nll(self.generator, ids, training=True)
            loss = nll_sum / tf.maximum(count, 1.0)
        variables = self.generator.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.nll_tracker.update_state(loss, sample_weight=count)
        return {"nll": self.nll_tracker.result()}

    def test_step(self, ids):
        nll_sum, count = token_nll(self.generator, ids)
        self.nll_tracker.update_state(nll_sum / tf.maximum(count, 1.0), sample_weight=count)
        return {"nll": self.nll_tracker.result()}
