"""What the adversarial phase optimises: the relaxed samples the discriminator
sees, the loss it reads, the order and data of the steps (issue 13's fixes)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.training.losses import rsgan_loss
from seqgan_gumbel.models import CNNDiscriminator, LSTMGenerator
from seqgan_gumbel.models.layers import Highway
from seqgan_gumbel.models.multi_representation import MultiRepresentationDiscriminator
from seqgan_gumbel.corpus.tokenizer import EOS_ID, PAD_ID
from seqgan_gumbel.training.adversarial import GumbelGAN
from seqgan_gumbel.training.mle import MLETrainer

from conftest import tiny_generators

VOCAB, LENGTH = 12, 10
GENERATORS = tiny_generators()


def _generator(name, eos_bias=0.0, **kwargs):
    """A generator whose EOS logit is raised by `eos_bias`, so that sentences end early."""
    keras.utils.set_random_seed(0)
    cls, defaults = GENERATORS[name]
    generator = cls(vocab_size=VOCAB, sequence_length=LENGTH, **{**defaults, **kwargs})
    generator.generate(2)  # builds every layer
    bias = generator.output_projection.bias
    bias.assign(bias + tf.one_hot(EOS_ID, VOCAB) * eos_bias)
    return generator


def _nonzero(gradient) -> bool:
    return gradient is not None and bool(np.any(tf.convert_to_tensor(gradient).numpy()))


def _after_eos(ids):
    """(batch, time) bool: positions after each sentence's first EOS."""
    return tf.math.cumsum(tf.cast(ids == EOS_ID, tf.int32), axis=1, exclusive=True) > 0


@pytest.mark.parametrize("name", GENERATORS)
def test_after_eos_relaxed_samples_pass_gradient_or_are_exact_pad(name):
    generator = _generator(name, eos_bias=3.0)
    seed = tf.constant([5, 6])
    weights = tf.random.stateless_normal((LENGTH, VOCAB), seed=(1, 1))
    gradients = {}
    for pad_after_eos in (True, False):
        with tf.GradientTape() as tape:
            y, ids = generator.sample_relaxed(16, 1.0, seed=seed, pad_after_eos=pad_after_eos)
            after = _after_eos(ids)
            # A discriminator-like score of the positions after EOS only.
            score = tf.reduce_sum(tf.where(after[..., None], y * weights, 0.0))
        gradients[pad_after_eos] = tape.gradient(score, generator.trainable_variables)
        assert 0.2 < float(tf.reduce_mean(tf.cast(after, tf.float32))) < 0.95  # enough ended early to matter
        if pad_after_eos:
            # Exactly what the real data holds there: PAD one-hots.
            pad = tf.one_hot(PAD_ID, VOCAB)
            np.testing.assert_array_equal(tf.boolean_mask(y, after).numpy(),
                                          np.broadcast_to(pad.numpy(), (int(tf.reduce_sum(tf.cast(after, tf.int32))),
                                                                        VOCAB)))
        else:
            # Relaxed vectors there, like every other position.
            assert float(tf.reduce_max(tf.boolean_mask(y, after)[:, PAD_ID])) < 1.0
        # The ids follow the PAD-after-EOS rule either way.
        assert np.all(tf.boolean_mask(ids, after).numpy() == PAD_ID)
    assert not any(_nonzero(g) for g in gradients[True])
    assert any(_nonzero(g) for g in gradients[False])


@pytest.mark.parametrize("name", GENERATORS)
def test_soft_feedback_samples_exactly_what_hard_feedback_samples(name):
    """The generator trained with soft feedback is the one sampled: same forward
    pass as hard feedback, with extra gradient through the recurrence."""
    seed = tf.constant([2, 3])
    outputs, gradients = {}, {}
    for soft in (False, True):
        generator = _generator(name, soft_feedback=soft)
        with tf.GradientTape() as tape:
            y, ids = generator.sample_relaxed(8, 0.7, seed=seed)
            score = tf.reduce_sum(y[:, -3:] * tf.random.stateless_normal((VOCAB,), seed=(4, 4)))
        outputs[soft] = (y.numpy(), ids.numpy())
        gradients[soft] = tape.gradient(score, generator.embedding.embeddings)
    np.testing.assert_array_equal(outputs[True][1], outputs[False][1])
    np.testing.assert_allclose(outputs[True][0], outputs[False][0], atol=1e-6)
    # The gradient flows through y @ E into the embedding on the soft path only.
    assert not np.allclose(tf.convert_to_tensor(gradients[True]).numpy(),
                           tf.convert_to_tensor(gradients[False]).numpy())


def _representation_gan(per_representation: bool):
    keras.utils.set_random_seed(3)
    generator = LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16)
    discriminator = MultiRepresentationDiscriminator(VOCAB, LENGTH, embedding_dim=2, num_representations=4,
                                                     num_filters=6, hidden_dim=5, dropout=0.0)
    # Logits far from 0, where softplus is far from linear and the two losses differ.
    discriminator.logit.kernel.assign(discriminator.logit.kernel * 40.0)
    gan = GumbelGAN(generator, discriminator, seed=7)
    # Learning rates 0: the logged losses are those of the initial networks.
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), loss="rsgan", discriminator_steps=1,
                per_representation=per_representation)
    return gan


def _real_batches(batches: int, batch: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, VOCAB, size=(batch, batches, LENGTH)).astype(np.int32)
    ids[:, :, 6] = EOS_ID
    ids[:, :, 7:] = PAD_ID
    return tf.constant(ids)


def test_per_representation_loss_is_the_mean_of_each_representations_rsgan_loss():
    gan = _representation_gan(per_representation=True)
    real = _real_batches(gan.real_batches_per_step)
    fake = gan._sample(6, 1.0, 0)  # what the first discriminator step samples at step 0
    real_logits = gan.discriminator.representation_logits(real[:, 0]).numpy()
    fake_logits = gan.discriminator.representation_logits(fake).numpy()
    assert real_logits.shape == (6, 4)
    # By hand: RSGAN's discriminator loss on each representation s, then the mean over s.
    per_representation = [np.mean(np.log1p(np.exp(-(real_logits[:, s] - fake_logits[:, s])))) for s in range(4)]
    logs = gan.train_step(real)
    assert float(logs["d_loss"]) == pytest.approx(np.mean(per_representation), rel=1e-5)
    # ... which is not the loss of the mean logit (what per_representation=False trains).
    mean_logit_loss = float(rsgan_loss(real_logits.mean(1), fake_logits.mean(1))[0])
    assert abs(mean_logit_loss - np.mean(per_representation)) > 0.02
    single = _representation_gan(per_representation=False)
    assert float(single.train_step(real)["d_loss"]) == pytest.approx(mean_logit_loss, rel=1e-5)


@pytest.mark.parametrize("generator_first", [False, True])
def test_step_order_and_a_fresh_real_batch_for_every_step(generator_first):
    keras.utils.set_random_seed(0)
    gan = GumbelGAN(LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16),
                    CNNDiscriminator(VOCAB, LENGTH, embedding_dim=8, num_filters=8), seed=1)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), discriminator_steps=2,
                generator_first=generator_first)
    assert gan.real_batches_per_step == 3
    calls = []
    d_step, g_step = gan._discriminator_step, gan._generator_step
    gan._discriminator_step = lambda real, t, k: calls.append(("D", real)) or d_step(real, t, k)
    gan._generator_step = lambda real, t: calls.append(("G", real)) or g_step(real, t)
    real = _real_batches(3)
    gan.train_step(real)
    assert [name for name, _ in calls] == (["G", "D", "D"] if generator_first else ["D", "D", "G"])
    # Each step reads its own real batch; the generator's is the last one.
    used = {name + str(i): batch.numpy() for i, (name, batch) in enumerate(calls)}
    g_batch = next(b for n, b in used.items() if n.startswith("G"))
    np.testing.assert_array_equal(g_batch, real[:, 2].numpy())
    d_batches = [b for n, b in used.items() if n.startswith("D")]
    np.testing.assert_array_equal(d_batches[0], real[:, 0].numpy())
    np.testing.assert_array_equal(d_batches[1], real[:, 1].numpy())


def test_mle_padding_targets_train_pad_after_eos_but_nll_counts_tokens_only():
    keras.utils.set_random_seed(0)
    ids = _real_batches(1, batch=32)[:, 0]
    results = {}
    for padding in (False, True):
        keras.utils.set_random_seed(0)
        generator = LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16)
        trainer = MLETrainer(generator)
        trainer.compile(optimizer=keras.optimizers.Adam(1e-2), padding_targets=padding)
        step = tf.function(trainer.train_step)  # 61 eager steps of the unrolled LSTM cost seconds
        first = step(ids)
        for _ in range(60):
            step(ids)
        # P(PAD) right after EOS, teacher-forced.
        inputs = tf.concat([tf.fill((32, 1), 1), ids[:, :-1]], axis=1)
        probs = tf.nn.softmax(generator(inputs))
        results[padding] = (float(first["nll"]), float(tf.reduce_mean(probs[:, 7, PAD_ID])))
    # The reported NLL is that of tokens and EOS in both (same initial weights, same figure).
    assert results[True][0] == pytest.approx(results[False][0], rel=1e-6)
    # Only the padding targets teach the generator to emit PAD after EOS.
    assert results[True][1] > 0.6 and results[False][1] < 0.3, results


def test_relgan_highway_has_no_biases_and_an_even_gate():
    layer = Highway(transform_bias=0.0, use_bias=False)
    layer.build((None, 6))
    assert [w.name for w in layer.trainable_weights] == ["kernel", "kernel"]
    # Zero input: the gate is sigmoid(0) = 1/2 and the transform relu(0) = 0.
    np.testing.assert_allclose(layer(tf.zeros((2, 6))).numpy(), 0.0)
    x = tf.random.stateless_normal((3, 6), seed=(1, 2))
    gate = tf.sigmoid(x @ layer.gate.kernel)
    expected = gate * tf.nn.relu(x @ layer.transform.kernel) + (1 - gate) * x
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    discriminator = MultiRepresentationDiscriminator(VOCAB, LENGTH, embedding_dim=2, num_representations=4,
                                                     num_filters=6, hidden_dim=5)
    assert not discriminator.highway.use_bias and discriminator.highway.transform_bias == 0.0


def test_mle_weight_adds_the_generators_nll_of_its_real_batch():
    from seqgan_gumbel.evaluation.likelihood import token_nll

    real = _real_batches(2, batch=8)
    results = {}
    for weight in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        gan = GumbelGAN(LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16),
                        CNNDiscriminator(VOCAB, LENGTH, embedding_dim=8, num_filters=8), seed=1)
        gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.0), discriminator_steps=1, mle_weight=weight)
        nll_sum, count = token_nll(gan.generator, real[:, 1])  # the generator step's batch, before the update
        logs = gan.train_step(real)
        results[weight] = [w.numpy() for w in gan.generator.trainable_weights]
        if weight:
            assert float(logs["mle_loss"]) == pytest.approx(float(nll_sum / count), rel=1e-5)
        else:
            assert "mle_loss" not in logs
    # The NLL term changes the generator's update.
    assert any(not np.allclose(a, b) for a, b in zip(results[0.0], results[1.0]))


def test_adversarial_weight_zero_is_a_plain_mle_step_on_the_same_batch():
    """The ablation's control: with the adversarial loss weighted 0 the generator's update is exactly an MLE step
    on the generator step's real batch (here plain SGD), whatever the discriminator says."""
    from seqgan_gumbel.evaluation.likelihood import token_nll

    real = _real_batches(2, batch=8)
    keras.utils.set_random_seed(0)
    gan = GumbelGAN(LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16),
                    CNNDiscriminator(VOCAB, LENGTH, embedding_dim=8, num_filters=8), seed=1)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), discriminator_steps=1, mle_weight=1.0,
                adversarial_weight=0.0)
    variables = gan.generator.trainable_variables
    with tf.GradientTape() as tape:
        nll_sum, count = token_nll(gan.generator, real[:, 1], training=True)
        loss = nll_sum / count
    expected = [v.numpy() - 0.1 * tf.convert_to_tensor(g).numpy() for v, g in zip(variables, tape.gradient(loss, variables))]
    logs = gan.train_step(real)
    assert np.isfinite(float(logs["g_loss"]))  # still logged: what the discriminator thinks of the samples
    for value, want in zip(variables, expected):
        np.testing.assert_allclose(value.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", GENERATORS)
def test_the_temperature_reaches_the_relaxed_samples(name):
    """Rows summing to 1 and argmax(y) = ids hold at any temperature; these do not."""
    generator = _generator(name)
    seed = tf.constant([8, 1])
    samples = {tau: generator.sample_relaxed(16, tau, seed=seed) for tau in (1e-3, 0.3, 1.0, 3.0)}
    ids = samples[1.0][1].numpy()
    for y, sampled in samples.values():
        np.testing.assert_array_equal(sampled.numpy(), ids)  # same noise, same tokens, whatever tau
    # One-hot to 1e-3 at tau = 1e-3, but where two perturbed logits lie within ~0.01 of each other.
    distance = np.abs(samples[1e-3][0].numpy() - tf.one_hot(ids, VOCAB).numpy()).max(-1)
    assert np.mean(distance < 1e-3) > 0.98
    before_eos = ~_after_eos(ids).numpy()
    peak = [float(y.numpy().max(-1)[before_eos].mean()) for y, _ in samples.values()]
    assert all(a > b for a, b in zip(peak, peak[1:])), peak  # flatter as tau grows
    assert peak[-1] < 0.6


def _linear_discriminator(weights):
    """D(x) = <x, W>: its input gradient is W everywhere, so the WGAN-GP penalty is (||W|| - 1)^2 exactly."""

    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.w = self.add_weight(shape=weights.shape, initializer=keras.initializers.Constant(weights))

        def call(self, inputs, training=False):
            if inputs.dtype.is_integer:
                inputs = tf.one_hot(inputs, VOCAB)
            return tf.reduce_sum(inputs * self.w, axis=[1, 2])

    discriminator = Linear()
    discriminator(tf.zeros((1, LENGTH), tf.int32))
    return discriminator


@pytest.mark.parametrize("loss", ["wgan-gp", "rsgan", "standard"])
def test_the_gradient_penalty_is_exactly_lambda_times_the_penalty_and_only_for_wgan_gp(loss):
    weights = tf.random.stateless_normal((LENGTH, VOCAB), seed=(3, 1)).numpy() * 0.05
    penalty = (np.sqrt(np.sum(weights.astype(np.float64) ** 2)) - 1.0) ** 2
    assert penalty > 0.1
    real = _real_batches(2)
    losses = {}
    for weight in (0.0, 10.0):
        keras.utils.set_random_seed(0)
        gan = GumbelGAN(LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16), _linear_discriminator(weights))
        gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), loss=loss, discriminator_steps=1,
                    gradient_penalty=weight)
        losses[weight] = float(gan.train_step(real)["d_loss"])
    # A run's config holds the weight 10 whatever its loss: the other losses must ignore it.
    expected = 10.0 * penalty if loss == "wgan-gp" else 0.0
    assert losses[10.0] - losses[0.0] == pytest.approx(expected, rel=1e-4, abs=1e-6)


def _score_of_samples(discriminator, generator, seed=(6, 6)):
    fake, _ = generator.sample_relaxed(64, 1.0, seed=tf.constant(seed))
    return float(tf.reduce_mean(discriminator(fake, training=False)))


@pytest.mark.parametrize("loss, variant", [
    *[(loss, "cnn") for loss in ("standard", "rsgan", "hinge", "lsgan", "wgan-gp")],
    ("rsgan", "straight_through"), ("rsgan", "soft_feedback"), ("rsgan", "multi_representation"),
])
def test_the_generator_step_raises_a_frozen_discriminators_score(loss, variant):
    """A generator trained on the wrong loss, or by gradient ascent, would lower it."""
    keras.utils.set_random_seed(4)
    generator = LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16, soft_feedback=variant == "soft_feedback")
    if variant == "multi_representation":
        discriminator = MultiRepresentationDiscriminator(VOCAB, LENGTH, embedding_dim=4, num_representations=4,
                                                         num_filters=16, hidden_dim=16, dropout=0.0)
    else:
        discriminator = CNNDiscriminator(VOCAB, LENGTH, embedding_dim=8, num_filters=8, dropout=0.0)
    # Logits of a few units, so that a generator step has room to move them.
    discriminator.logit.kernel.assign(discriminator.logit.kernel * 30.0)
    before = _score_of_samples(discriminator, generator)
    gan = GumbelGAN(generator, discriminator, seed=2)
    # Discriminator learning rate 0: only the generator moves.
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.SGD(0.0), loss=loss, discriminator_steps=1,
                straight_through=variant == "straight_through", per_representation=variant == "multi_representation")
    train_step = tf.function(gan.train_step)
    for step in range(20):
        train_step(_real_batches(gan.real_batches_per_step, batch=16, seed=step))
    after = _score_of_samples(discriminator, generator)
    assert after > before + 0.05 * (1 + abs(before)), (before, after)
