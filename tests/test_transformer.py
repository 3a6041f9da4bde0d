import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models.transformer import TransformerGenerator
from seqgan_gumbel.tokenizer import BOS_ID, EOS_ID, PAD_ID

V, T = 30, 9
SIZES = dict(embedding_dim=16, num_layers=2, num_heads=2, feedforward_dim=32)


def make(**overrides):
    return TransformerGenerator(V, T, **{**SIZES, **overrides})


@pytest.fixture(scope="module")
def generator():
    tf.keras.utils.set_random_seed(0)
    return make()


def bos_batch(batch=4, seed=0):
    body = tf.random.stateless_uniform((batch, T - 1), seed=[seed, 7], minval=4, maxval=V, dtype=tf.int32)
    return tf.concat([tf.fill((batch, 1), BOS_ID), body], axis=1)


def test_teacher_forced_logits_shape(generator):
    logits = generator(tf.zeros((4, T), tf.int32))
    assert logits.shape == (4, T, V)
    # Shorter inputs (a prefix) are fine too.
    assert generator(tf.zeros((2, 3), tf.int32)).shape == (2, 3, V)


def test_step_by_step_equals_teacher_forcing(generator):
    ids = bos_batch()
    expected = generator(ids).numpy()
    state = generator.initial_state(4)
    for t in range(T):
        logits, state = generator.step(generator.embedding(ids[:, t]), state)
        np.testing.assert_allclose(logits.numpy(), expected[:, t], atol=1e-5, rtol=1e-5)
    assert int(state["position"]) == T
    assert state["keys"][0].shape == (4, T, 2, 8)


def test_causality(generator):
    ids = bos_batch().numpy()
    changed = ids.copy()
    changed[:, 5] = (changed[:, 5] + 1 - 4) % (V - 4) + 4
    a, b = generator(ids).numpy(), generator(changed).numpy()
    np.testing.assert_array_equal(a[:, :5], b[:, :5])
    assert not np.allclose(a[:, 5:], b[:, 5:])


def test_dropout_only_in_training():
    tf.keras.utils.set_random_seed(2)
    gen = make(dropout=0.5)
    ids = bos_batch()
    np.testing.assert_array_equal(gen(ids).numpy(), gen(ids).numpy())
    assert not np.allclose(gen(ids, training=True).numpy(), gen(ids).numpy())
    seed = tf.constant([1, 1])
    np.testing.assert_array_equal(gen.generate(8, seed=seed).numpy(), gen.generate(8, seed=seed).numpy())


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


def test_generated_log_probs_match_teacher_forcing(generator):
    ids, log_prob = generator.generate_with_log_probs(8, seed=tf.constant([3, 1]))
    inputs = tf.concat([tf.fill((8, 1), BOS_ID), ids[:, :-1]], axis=1)
    token_log_probs = tf.gather(tf.nn.log_softmax(generator(inputs)), ids, axis=2, batch_dims=2).numpy()
    # Sum up to and including the first EOS.
    ids = ids.numpy()
    alive = np.cumsum(ids == EOS_ID, axis=1) - (ids == EOS_ID) == 0
    np.testing.assert_allclose(log_prob.numpy(), (token_log_probs * alive).sum(1), atol=1e-4)


def test_relaxed_samples_are_simplex_points_consistent_with_ids(generator):
    y, ids = generator.sample_relaxed(16, 0.5, seed=tf.constant([4, 4]))
    assert y.shape == (16, T, V)
    np.testing.assert_allclose(tf.reduce_sum(y, -1).numpy(), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(tf.argmax(y, -1).numpy(), ids.numpy())


@pytest.mark.parametrize("soft_feedback", [False, True])
def test_gradient_flows_from_relaxed_samples_into_every_weight(soft_feedback):
    gen = make(soft_feedback=soft_feedback)
    target = tf.random.stateless_normal((V,), seed=[1, 1])
    with tf.GradientTape() as tape:
        y, _ = gen.sample_relaxed(4, 1.0, seed=tf.constant([2, 2]))
        loss = tf.reduce_sum(y * target)
    grads = tape.gradient(loss, gen.trainable_variables)
    names = [v.path for v, g in zip(gen.trainable_variables, grads)
             if g is None or not np.any(tf.convert_to_tensor(g).numpy())]
    if soft_feedback:
        assert names == []
    else:
        assert all("embedding" in n for n in names)


def test_save_and_load_keras_file(generator, tmp_path):
    path = tmp_path / "transformer.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, TransformerGenerator)
    ids = bos_batch()
    np.testing.assert_array_equal(loaded(ids).numpy(), generator(ids).numpy())
    seed = tf.constant([9, 9])
    np.testing.assert_array_equal(loaded.generate(8, seed=seed).numpy(), generator.generate(8, seed=seed).numpy())


def test_get_config_round_trip():
    gen = make(dropout=0.2, soft_feedback=True)
    config = gen.get_config()
    clone = TransformerGenerator.from_config(config)
    assert clone.get_config() == config
    for key, value in dict(vocab_size=V, sequence_length=T, dropout=0.2, soft_feedback=True, **SIZES).items():
        assert config[key] == value
    assert clone.count_params() == gen.count_params()


def test_heads_must_divide_width():
    with pytest.raises(ValueError, match="divisible"):
        make(num_heads=3)
