import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models.gumbel import gumbel_noise, gumbel_softmax, straight_through


def test_relaxed_rows_sum_to_one():
    logits = tf.random.stateless_normal((8, 5, 30), seed=[1, 2])
    y, ids = gumbel_softmax(logits, 0.7)
    np.testing.assert_allclose(tf.reduce_sum(y, -1).numpy(), 1.0, rtol=1e-5)
    assert ids.shape == (8, 5)


def test_noise_is_added_to_the_logits():
    logits = tf.constant([[0.5, -1.0, 2.0]])
    noise = tf.constant([[0.1, 3.0, -0.2]])
    y, ids = gumbel_softmax(logits, 2.0, noise=noise)
    np.testing.assert_allclose(y.numpy(), tf.nn.softmax((logits + noise) / 2.0).numpy(), rtol=1e-6)
    assert ids.numpy().tolist() == [1]


def test_small_temperature_gives_the_argmax_one_hot():
    logits = tf.random.stateless_normal((64, 20), seed=[3, 4])
    noise = gumbel_noise((64, 20), seed=tf.constant([5, 6]))
    y, ids = gumbel_softmax(logits, 1e-4, noise=noise)
    np.testing.assert_allclose(y.numpy(), tf.one_hot(ids, 20).numpy(), atol=1e-6)
    np.testing.assert_array_equal(ids.numpy(), tf.argmax(logits + noise, -1).numpy())


def test_hard_output_is_one_hot_and_gradients_flow():
    logits = tf.Variable(tf.random.stateless_normal((4, 10), seed=[7, 8]))
    weights = tf.random.stateless_normal((4, 10), seed=[9, 9])
    with tf.GradientTape() as tape:
        y, ids = gumbel_softmax(logits, 0.5, hard=True)
        loss = tf.reduce_sum(y * weights)
    np.testing.assert_array_equal(y.numpy(), tf.one_hot(ids, 10).numpy())
    grad = tape.gradient(loss, logits)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0


def test_straight_through_has_the_soft_gradient():
    logits = tf.Variable([[1.0, 2.0, 0.5]])
    with tf.GradientTape(persistent=True) as tape:
        soft = tf.nn.softmax(logits)
        hard = straight_through(soft, tf.argmax(soft, -1, output_type=tf.int32))
        l_soft = tf.reduce_sum(soft * [1.0, -2.0, 3.0])
        l_hard = tf.reduce_sum(hard * [1.0, -2.0, 3.0])
    np.testing.assert_allclose(tape.gradient(l_hard, logits), tape.gradient(l_soft, logits), rtol=1e-6)


def test_samples_follow_the_categorical_distribution():
    probs = np.array([0.1, 0.6, 0.3])
    logits = tf.math.log(tf.constant(np.tile(probs, (20000, 1)), tf.float32))
    _, ids = gumbel_softmax(logits, 1.0, noise=gumbel_noise(logits.shape, seed=tf.constant([1, 1])))
    freq = np.bincount(ids.numpy(), minlength=3) / 20000
    np.testing.assert_allclose(freq, probs, atol=0.015)


def test_noise_is_standard_gumbel():
    g = gumbel_noise((200000,), seed=tf.constant([2, 3])).numpy()
    assert g.mean() == pytest.approx(0.5772, abs=0.01)  # Euler-Mascheroni constant
    assert np.isfinite(g).all()


def test_noise_has_the_standard_gumbel_variance():
    # Mean alone would pass for any noise shifted to 0.5772; Var = pi^2 / 6.
    g = gumbel_noise((200000,), seed=tf.constant([4, 5])).numpy().astype(np.float64)
    assert g.var() == pytest.approx(np.pi**2 / 6, rel=0.02)
