"""Adversarial training with Gumbel-softmax relaxed samples, as a keras.Model."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.losses import get_gan_loss
from seqgan_gumbel.training.distribution import global_mean, reduce_and_clip, replica_id, step_logs


class GumbelGAN(keras.Model):
    """A generator and a discriminator trained against each other.

    One `train_step` is one adversarial iteration: `discriminator_steps`
    discriminator updates on fresh real batches and detached generator samples,
    then one generator update whose gradient flows from the discriminator
    through the relaxed one-hots into the generator. The inverse temperature
    beta = 1/tau lives in a variable that a `TemperatureSchedule` callback sets
    before each step; the step counter is a variable too, so checkpoints
    carry both.

    Args:
        generator: an `LSTMGenerator` (or any model with `sample_relaxed`).
        discriminator: maps ids or (relaxed) one-hots to logits.
        seed: base of the per-step stateless noise seeds, so that a run is
            reproducible and a resumed run draws the same noise.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.seed = seed
        self.inverse_temperature = keras.Variable(1.0, trainable=False, name="inverse_temperature")
        self.step_counter = keras.Variable(
            0, dtype="int64", trainable=False, name="adversarial_step", aggregation="only_first_replica"
        )
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        # Both networks arrive built; without this, Keras would try to build
        # the GAN by calling it on a batch of real data (shaped for train_step).
        self.built = True

    def compile(
        self,
        generator_optimizer: keras.optimizers.Optimizer,
        discriminator_optimizer: keras.optimizers.Optimizer,
        loss: str = "rsgan",
        discriminator_steps: int = 5,
        straight_through: bool = False,
        gradient_penalty: float = 0.0,
        grad_clip: float = 0.0,
        **kwargs,
    ):
        """Configures the adversarial game.

        Args:
            generator_optimizer: updates the generator.
            discriminator_optimizer: updates the discriminator.
            loss: a name from `seqgan_gumbel.losses.GAN_LOSSES`.
            discriminator_steps: discriminator updates per generator update;
                each data element must hold that many real batches.
            straight_through: hard one-hots forward, soft gradients back.
            gradient_penalty: weight of the WGAN-GP penalty (Gulrajani et al.
                2017) on the discriminator's gradient norm at random
                interpolates of real one-hots and relaxed samples; 0: none.
            grad_clip: global-norm gradient clip for both networks (0: none),
                applied to the global gradient also on several replicas.
        """
        super().compile(**kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.loss_name = loss
        self.gan_loss = get_gan_loss(loss)
        self.discriminator_steps = discriminator_steps
        self.straight_through = straight_through
        self.gradient_penalty = gradient_penalty
        self.grad_clip = grad_clip

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def call(self, inputs, training=False):
        return self.discriminator(inputs, training=training)

    def _seed(self, substream: int):
        # Seeds derive from the step counter, so a resumed run draws the same
        # noise; each replica draws its own.
        step_seed = tf.stack([tf.constant(self.seed % 2**31, tf.int32), tf.cast(self.step_counter.value, tf.int32)])
        seed = tf.random.experimental.stateless_fold_in(step_seed, substream)
        return tf.random.experimental.stateless_fold_in(seed, replica_id())

    def _penalty(self, real_ids, fake, seed):
        """WGAN-GP: mean of (||grad_x D(x)|| - 1)^2 at x between real one-hots and fakes."""
        real = tf.one_hot(real_ids, tf.shape(fake)[-1], dtype=fake.dtype)
        mix = tf.random.stateless_uniform((tf.shape(fake)[0], 1, 1), seed=seed)
        interpolates = mix * real + (1.0 - mix) * fake
        with tf.GradientTape() as tape:
            tape.watch(interpolates)
            scores = self.discriminator(interpolates, training=True)
        gradients = tape.gradient(scores, interpolates)
        norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1, 2]) + 1e-12)
        return tf.reduce_mean(tf.square(norms - 1.0))

    def train_step(self, real_batches):
        # real_batches: (batch, discriminator_steps, time) int ids; the batch
        # axis comes first so that tf.distribute splits it between replicas.
        real_batches = tf.transpose(real_batches, [1, 0, 2])
        batch_size = real_batches.shape[1]
        temperature = 1.0 / self.inverse_temperature
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        for k in range(self.discriminator_steps):
            # Detached samples: the discriminator's update needs no gradient
            # through the generator, so sampling is recorded on no tape.
            fake, _ = self.generator.sample_relaxed(
                batch_size, temperature, seed=self._seed(k), hard=self.straight_through
            )
            with tf.GradientTape() as tape:
                real_logits = self.discriminator(real_batches[k], training=True)
                fake_logits = self.discriminator(fake, training=True)
                d_loss, _ = self.gan_loss(real_logits, fake_logits)
                if self.gradient_penalty:
                    d_loss += self.gradient_penalty * self._penalty(real_batches[k], fake, self._seed(100 + k))
                scaled = global_mean(d_loss)
            gradients = reduce_and_clip(tape.gradient(scaled, d_vars), self.grad_clip)
            self.discriminator_optimizer.apply_gradients(zip(gradients, d_vars))
        with tf.GradientTape() as tape:
            fake, _ = self.generator.sample_relaxed(
                batch_size, temperature, seed=self._seed(self.discriminator_steps), hard=self.straight_through
            )
            real_logits = self.discriminator(real_batches[-1], training=True)
            fake_logits = self.discriminator(fake, training=True)
            _, g_loss = self.gan_loss(real_logits, fake_logits)
            scaled = global_mean(g_loss)
        gradients = reduce_and_clip(tape.gradient(scaled, g_vars), self.grad_clip)
        self.generator_optimizer.apply_gradients(zip(gradients, g_vars))
        self.step_counter.assign_add(1)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return step_logs({"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result(),
                          "beta": tf.identity(self.inverse_temperature.value)})
