"""Maximum-likelihood (teacher-forced) training and evaluation of a generator."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.evaluation.likelihood import token_losses, token_nll
from seqgan_gumbel.training.distribution import global_sum, reduce_and_clip, step_logs


class MLETrainer(keras.Model):
    """Wraps a generator for teacher-forced training with `fit` and NLL with `evaluate`.

    The reported "nll" is the mean per-token negative log-likelihood in nats
    of the sentences' tokens and EOS (never PAD), weighted by token count so
    that an epoch's figure is exact, not a mean of batch means.

    Args:
        generator: the generator to train (its weights are shared, not copied).
    """

    def __init__(self, generator: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.nll_tracker = keras.metrics.Mean(name="nll")
        self.grad_clip = 0.0
        self.padding_targets = False

    def compile(self, optimizer=None, grad_clip: float = 0.0, padding_targets: bool = False, **kwargs):
        """Configures training.

        Args:
            optimizer: updates the generator.
            grad_clip: global-norm gradient clip (0: none), applied to the
                global gradient also when training on several replicas.
            padding_targets: the training loss also scores the PAD targets
                after EOS (a generator whose relaxed samples run to the
                maximum length must learn to emit PAD there); the reported
                "nll" never does.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.grad_clip = grad_clip
        self.padding_targets = padding_targets
        # Built here: fit does not build the optimizer of a built model, and
        # one built lazily inside the first traced step makes tf.function
        # trace the step twice.
        if self.optimizer is not None and not self.optimizer.built and self.generator.built:
            self.optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return [self.nll_tracker]

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, ids):
        with tf.GradientTape() as tape:
            # One forward pass for both: the loss (with PAD targets if asked)
            # and the reported NLL (tokens and EOS only).
            losses, real = token_losses(self.generator, ids, training=True)
            trained = tf.ones_like(losses) if self.padding_targets else real
            # Divided by the target count of the whole global batch, so the
            # replicas' gradients sum to the global mean's gradient.
            loss = tf.reduce_sum(losses * trained) / tf.maximum(global_sum(tf.reduce_sum(trained)), 1.0)
        variables = self.generator.trainable_variables
        gradients = reduce_and_clip(tape.gradient(loss, variables), self.grad_clip)
        self.optimizer.apply_gradients(zip(gradients, variables))
        nll_sum, count = tf.reduce_sum(losses * real), tf.reduce_sum(real)
        self.nll_tracker.update_state(nll_sum / tf.maximum(count, 1.0), sample_weight=count)
        return step_logs({"nll": self.nll_tracker.result()})

    def test_step(self, ids):
        nll_sum, count = token_nll(self.generator, ids)
        self.nll_tracker.update_state(nll_sum / tf.maximum(count, 1.0), sample_weight=count)
        return step_logs({"nll": self.nll_tracker.result()})
