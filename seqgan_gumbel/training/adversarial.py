"""Adversarial training with Gumbel-softmax relaxed samples, as a keras.Model."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.evaluation.likelihood import token_nll
from seqgan_gumbel.training.losses import get_gan_loss
from seqgan_gumbel.training.distribution import global_mean, global_sum, reduce_and_clip, replica_id, step_logs


class GumbelGAN(keras.Model):
    """A generator and a discriminator trained against each other.

    One `train_step` is one adversarial iteration: `discriminator_steps`
    discriminator updates on fresh real batches and detached generator samples,
    and one generator update (before them with `generator_first`, as RelGAN
    orders them, else after) whose gradient flows from the discriminator
    through the relaxed one-hots into the generator; the generator step gets
    a fresh real batch of its own too (RSGAN's generator loss reads real
    logits). The inverse temperature
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
        self.mle_loss_tracker = keras.metrics.Mean(name="mle_loss")
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
        pad_after_eos: bool = True,
        per_representation: bool = False,
        generator_first: bool = False,
        mle_weight: float = 0.0,
        adversarial_weight: float = 1.0,
        **kwargs,
    ):
        """Configures the adversarial game.

        Args:
            generator_optimizer: updates the generator.
            discriminator_optimizer: updates the discriminator.
            loss: a name from `seqgan_gumbel.training.losses.GAN_LOSSES`.
            discriminator_steps: discriminator updates per generator update;
                each data element must hold that many real batches.
            straight_through: hard one-hots forward, soft gradients back.
            gradient_penalty: weight of the WGAN-GP penalty (Gulrajani et al.
                2017) on the discriminator's gradient norm at random
                interpolates of real one-hots and relaxed samples; 0: none.
                Applied with the loss "wgan-gp" only: a run's config holds a
                weight (the paper's 10) whatever its loss.
            grad_clip: global-norm gradient clip for both networks (0: none),
                applied to the global gradient also on several replicas.
            pad_after_eos: relaxed samples hold exact PAD after their first
                EOS (see `AutoregressiveGenerator.sample_relaxed`); False:
                relaxed vectors to the maximum length.
            per_representation: the loss is computed on each representation's
                logits and averaged (RelGAN's recipe), through the
                discriminator's `representation_logits`; False: on the
                discriminator's single (mean) logit.
            generator_first: the generator step comes before the
                discriminator steps (RelGAN's order).
            mle_weight: weight of the teacher-forced NLL of the generator's
                real batch (per target) added to its adversarial loss; 0:
                none. An anchor to the data distribution, as SeqGAN and
                LeakGAN interleave MLE epochs with adversarial ones.
            adversarial_weight: weight of the adversarial loss in the
                generator's loss; 0 trains the generator on the NLL term
                alone (with the same optimizer, batches and steps), the
                control that tells what the adversarial signal adds to the
                extra MLE steps `mle_weight` brings. The discriminator trains
                either way, and "g_loss" is logged either way.
        """
        super().compile(**kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.loss_name = loss
        self.gan_loss = get_gan_loss(loss)
        self.discriminator_steps = discriminator_steps
        self.straight_through = straight_through
        self.gradient_penalty = gradient_penalty if loss == "wgan-gp" else 0.0
        self.grad_clip = grad_clip
        self.pad_after_eos = pad_after_eos
        self.per_representation = per_representation
        self.generator_first = generator_first
        self.mle_weight = mle_weight
        self.adversarial_weight = adversarial_weight
        # Built here, on the built networks' variables: an optimizer built
        # lazily creates its slots inside the first traced train_step, and
        # tf.function then traces the step a second time (seconds for the
        # unrolled sampling loop).
        for optimizer, network in ((generator_optimizer, self.generator), (discriminator_optimizer, self.discriminator)):
            if not optimizer.built and network.built:
                optimizer.build(network.trainable_variables)

    @property
    def real_batches_per_step(self) -> int:
        """Real batches each data element must hold: one per discriminator step and one for the generator."""
        return self.discriminator_steps + 1

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.mle_loss_tracker]

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

    def _scores(self, inputs):
        """The discriminator's logits that the loss reads: (batch,) or, per representation, (batch, S)."""
        if self.per_representation:
            return self.discriminator.representation_logits(inputs, training=True)
        return self.discriminator(inputs, training=True)

    def _sample(self, batch_size, temperature, substream):
        return self.generator.sample_relaxed(batch_size, temperature, seed=self._seed(substream),
                                             hard=self.straight_through, pad_after_eos=self.pad_after_eos)[0]

    def _discriminator_step(self, real_ids, temperature, k):
        # Detached samples: the discriminator's update needs no gradient
        # through the generator, so sampling is recorded on no tape.
        fake = self._sample(real_ids.shape[0], temperature, k)
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            d_loss, _ = self.gan_loss(self._scores(real_ids), self._scores(fake))
            if self.gradient_penalty:
                d_loss += self.gradient_penalty * self._penalty(real_ids, fake, self._seed(100 + k))
            scaled = global_mean(d_loss)
        gradients = reduce_and_clip(tape.gradient(scaled, d_vars), self.grad_clip)
        self.discriminator_optimizer.apply_gradients(zip(gradients, d_vars))
        return d_loss

    def _generator_step(self, real_ids, temperature):
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self._sample(real_ids.shape[0], temperature, self.discriminator_steps)
            _, g_loss = self.gan_loss(self._scores(real_ids), self._scores(fake))
            # Left out, not multiplied by 0, at weight 0: no NaN of the adversarial gradient can reach the update.
            scaled = self.adversarial_weight * global_mean(g_loss) if self.adversarial_weight else tf.constant(0.0)
            mle_loss = tf.constant(0.0)
            if self.mle_weight:
                nll_sum, count = token_nll(self.generator, real_ids, training=True, padding=not self.pad_after_eos)
                # Per target over the global batch, so replicas' gradients sum to it.
                mle_loss = nll_sum / tf.maximum(global_sum(count), 1.0)
                scaled += self.mle_weight * mle_loss
        gradients = reduce_and_clip(tape.gradient(scaled, g_vars), self.grad_clip)
        self.generator_optimizer.apply_gradients(zip(gradients, g_vars))
        self.mle_loss_tracker.update_state(global_sum(mle_loss))
        return g_loss

    def train_step(self, real_batches):
        # real_batches: (batch, real_batches_per_step, time) int ids, one
        # batch per discriminator step, then the generator's; the batch axis
        # comes first so that tf.distribute splits it between replicas.
        real_batches = tf.transpose(real_batches, [1, 0, 2])
        temperature = 1.0 / self.inverse_temperature
        if self.generator_first:
            g_loss = self._generator_step(real_batches[-1], temperature)
        for k in range(self.discriminator_steps):
            d_loss = self._discriminator_step(real_batches[k], temperature, k)
        if not self.generator_first:
            g_loss = self._generator_step(real_batches[-1], temperature)
        self.step_counter.assign_add(1)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        logs = {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result(),
                "beta": tf.identity(self.inverse_temperature.value)}
        if self.mle_weight:
            logs["mle_loss"] = self.mle_loss_tracker.result()
        return step_logs(logs)
