import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models import LSTMGenerator
from seqgan_gumbel.tokenizer import EOS_ID, PAD_ID

V, T = 30, 9


@pytest.fixture(scope="module")
def generator():
    tf.keras.utils.set_random_seed(0)
    return LSTMGenerator(V, T, embedding_dim=8, hidden_dim=16)


def test_teacher_forced_logits_shape(generator):
    logits = generator(tf.zeros((4, T), tf.int32))
    assert logits.shape == (4, T, V)


def test_generate_is_seeded_and_pads_after_eos(generator):
    a = generator.generate(64, seed=tf.constant([1, 2])).numpy()
    b = generator.generate(64, seed=tf.constant([1, 2])).numpy()
    c = generator.generate(64, seed=tf.constant([1, 3])).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    assert a.shape == (64, T)
    for row in a:
        eos = np.flatnonzero(row == EOS_ID)
        if eos.size:
            assert (row[eos[0] + 1:] == PAD_ID).all()


def test_relaxed_samples_are_simplex_points_consistent_with_ids(generator):
    y, ids = generator.sample_relaxed(16, 0.5, seed=tf.constant([4, 4]))
    assert y.shape == (16, T, V)
    np.testing.assert_allclose(tf.reduce_sum(y, -1).numpy(), 1.0, rtol=1e-5)
    # The hard ids are the argmax of the perturbed logits; at temperature 0.5
    # the relaxed one-hot's mode is that same token.
    np.testing.assert_array_equal(tf.argmax(y, -1).numpy(), ids.numpy())


def test_hard_sampling_gives_one_hots(generator):
    y, ids = generator.sample_relaxed(8, 1.0, seed=tf.constant([5, 5]), hard=True)
    np.testing.assert_array_equal(y.numpy(), tf.one_hot(ids, V).numpy())


@pytest.mark.parametrize("soft_feedback", [False, True])
def test_gradient_flows_from_relaxed_samples_into_every_weight(soft_feedback):
    gen = LSTMGenerator(V, T, embedding_dim=8, hidden_dim=16, soft_feedback=soft_feedback)
    target = tf.random.stateless_normal((V,), seed=[1, 1])
    with tf.GradientTape() as tape:
        y, _ = gen.sample_relaxed(4, 1.0, seed=tf.constant([2, 2]))
        loss = tf.reduce_sum(y * target)
    grads = tape.gradient(loss, gen.trainable_variables)
    names = [v.path for v, g in zip(gen.trainable_variables, grads) if g is None or not np.any(tf.convert_to_tensor(g).numpy())]
    # With hard feedback the embedding is reached only through lookups of BOS
    # and the sampled tokens, which still carry gradient to the rows used.
    assert names == []


def test_low_temperature_generation_is_nearly_greedy(generator):
    cold = generator.generate(32, temperature=1e-6, seed=tf.constant([6, 6])).numpy()
    assert (cold == cold[0]).all()


def test_fixed_length_generators_never_end_early():
    g = LSTMGenerator(V, T, embedding_dim=8, hidden_dim=16, fixed_length=True)
    ids = g.generate(64, seed=tf.constant([8, 8])).numpy()
    assert (ids[:, :-1] != EOS_ID).all() and (ids[:, -1] == EOS_ID).all()
    y, relaxed_ids = g.sample_relaxed(16, 1.0, seed=tf.constant([9, 9]))
    assert (relaxed_ids.numpy()[:, -1] == EOS_ID).all() and (relaxed_ids.numpy()[:, :-1] != EOS_ID).all()
    assert float(tf.reduce_max(y[:, :-1, EOS_ID])) < 1e-6
    assert LSTMGenerator.from_config(g.get_config()).fixed_length
