"""What only RelGAN's multi-representation discriminator has (the contract every discriminator meets is in
test_discriminator_contract.py)."""

import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models.multi_representation import (
    Linear,
    MultiRepresentationDiscriminator,
    RepresentationConvolution,
    SpectralNorm,
)

V, T = 25, 8


def tiny(**kwargs):
    options = dict(embedding_dim=4, num_representations=3, filter_sizes=(2, 3), num_filters=5, hidden_dim=6)
    options.update(kwargs)
    return MultiRepresentationDiscriminator(V, T, **options)


def random_ids(batch, seed=(1, 2)):
    return tf.random.stateless_uniform((batch, T), seed=list(seed), maxval=V, dtype=tf.int32)


def test_one_logit_per_representation():
    d = tiny()
    assert d.representation_logits(random_ids(6)).shape == (6, 3)


def test_call_is_the_mean_of_the_representation_logits():
    d = tiny()
    y = tf.nn.softmax(tf.random.stateless_normal((4, T, V), seed=[7, 8]))
    np.testing.assert_allclose(
        d(y).numpy(), tf.reduce_mean(d.representation_logits(y), axis=1).numpy(), rtol=1e-5, atol=1e-6
    )


def test_matches_a_per_representation_reference():
    """Each representation: its own slice of E, the same Conv1D kernels, max-over-time, relu."""
    d = tiny()
    ids = random_ids(3)
    table = d.embedding.embeddings.numpy().reshape(V, 3, 4)
    conv = d.convolution
    for s in range(3):
        x = tf.constant(table[:, s][ids.numpy()])  # (batch, time, emb) of representation s
        pooled = tf.concat(
            [tf.reduce_max(tf.nn.conv1d(x, k, 1, "VALID"), axis=1) for k in conv.kernels], axis=-1
        )
        expected = tf.nn.relu(pooled + conv.bias)
        got = conv(d.embed(ids))[:, s]
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_spectral_norm_reaches_unit_largest_singular_value():
    kernel = tf.constant(np.diag([3.0, 2.0, 1.0]).astype("float32") @ np.eye(3, 4, dtype="float32"))
    layer = SpectralNorm(power_iterations=30)
    layer.build(kernel.shape)
    normalised = layer(kernel, training=True).numpy()
    np.testing.assert_allclose(np.linalg.svd(normalised, compute_uv=False)[0], 1.0, rtol=1e-5)


def test_spectral_norm_discriminator_kernels_converge_to_unit_norm():
    d = tiny(spectral_norm=True)
    ids = random_ids(2)
    before = d(ids).numpy()
    np.testing.assert_allclose(d(ids).numpy(), before)  # inference leaves u alone
    for _ in range(60):  # one power iteration per training call
        d(ids, training=True)
    kernels = d.convolution.effective_kernels() + [d.hidden.effective_kernel(), d.logit.effective_kernel()]
    assert len(kernels) == 4
    for kernel in kernels:
        matrix = kernel.numpy().reshape(-1, kernel.shape[-1])
        np.testing.assert_allclose(np.linalg.svd(matrix, compute_uv=False)[0], 1.0, rtol=1e-3)
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(d(tf.one_hot(ids, V), training=True))
    assert all(g is not None for g in tape.gradient(score, d.trainable_variables))
    vectors = [v for v in d.non_trainable_variables if v.path.endswith("/u")]
    assert len(vectors) == 4  # one u per normalised kernel
    assert not any(v.trainable for v in vectors)


def test_spectral_norm_updates_u_inside_tf_function():
    d = tiny(spectral_norm=True)
    y = tf.nn.softmax(tf.random.stateless_normal((2, T, V), seed=[9, 9]))
    u = d.hidden.normalizer.u
    before = u.numpy()

    @tf.function
    def step(training):
        return d(y, training=training)

    step(False)
    np.testing.assert_array_equal(u.numpy(), before)
    step(True)
    assert not np.allclose(u.numpy(), before)


def test_the_config_records_the_representations_and_its_layers_round_trip():
    config = tiny(spectral_norm=True, dropout=0.1).get_config()
    assert config["num_representations"] == 3 and config["spectral_norm"] is True
    for layer in (SpectralNorm(power_iterations=2), RepresentationConvolution((2,), 3, True), Linear(4, True)):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_weight_shapes_and_short_sequences():
    d = tiny()
    assert d.embedding.embeddings.shape == (V, 3 * 4)
    assert [tuple(k.shape) for k in d.convolution.kernels] == [(2, 4, 5), (3, 4, 5)]
    with pytest.raises(ValueError, match="shorter"):
        MultiRepresentationDiscriminator(V, 3, filter_sizes=(2, 5))


def test_gradient_penalty_is_differentiable():
    d = tiny(spectral_norm=True)
    y = tf.nn.softmax(tf.random.stateless_normal((2, T, V), seed=[4, 4]))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(y)
            score = tf.reduce_sum(d(y, training=True))
        penalty = tf.reduce_sum(tf.square(tf.norm(tf.reshape(inner.gradient(score, y), (2, -1)), axis=1) - 1.0))
    grads = outer.gradient(penalty, d.trainable_variables)
    missing = [v.path.split("/", 1)[1] for v, g in zip(d.trainable_variables, grads) if g is None]
    assert missing == ["hidden/bias", "logit/bias"]  # biases after the last nonlinearity: no effect on dD/dx
