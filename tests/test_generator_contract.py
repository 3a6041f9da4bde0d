"""The contract every generator meets (LSTM, relational memory core, transformer): one test per promise,
parametrized over every generator class. What only one model has lives in its own file (test_relational.py,
test_transformer.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import tiny_generators
from seqgan_gumbel.corpus.tokenizer import BOS_ID, EOS_ID, PAD_ID

V, T = 30, 9
GENERATORS = tiny_generators()


def make(name: str, **overrides):
    cls, kwargs = GENERATORS[name]
    return cls(V, T, **{"embedding_dim": 8, **kwargs, **overrides})


@pytest.fixture(scope="module", params=sorted(GENERATORS))
def generator(request):
    tf.keras.utils.set_random_seed(0)
    return make(request.param)


def _bos_batch(batch: int, seed: int) -> tf.Tensor:
    body = tf.random.stateless_uniform((batch, T - 1), seed=[seed, 7], minval=4, maxval=V, dtype=tf.int32)
    return tf.concat([tf.fill((batch, 1), BOS_ID), body], axis=1)


def test_teacher_forced_logits_have_a_distribution_per_position(generator):
    assert generator(tf.zeros((4, T), tf.int32)).shape == (4, T, V)
    assert generator(tf.zeros((2, 3), tf.int32)).shape == (2, 3, V)  # a prefix


def test_step_by_step_equals_teacher_forcing(generator):
    """Sampling runs `step`; training runs `call`: the same model either way."""
    ids = _bos_batch(5, 1)
    expected = generator(ids).numpy()
    state = generator.initial_state(5)
    for t in range(T):
        logits, state = generator.step(generator.embedding(ids[:, t]), state)
        np.testing.assert_allclose(logits.numpy(), expected[:, t], atol=1e-5, rtol=1e-5)


def test_generate_is_seeded_ends_sentences_and_pads_after_eos(generator):
    a = generator.generate(64, seed=tf.constant([1, 2])).numpy()
    np.testing.assert_array_equal(a, generator.generate(64, seed=tf.constant([1, 2])).numpy())
    assert (a != generator.generate(64, seed=tf.constant([1, 3])).numpy()).any()
    assert a.shape == (64, T)
    assert (a == EOS_ID).any()  # the PAD check below is not vacuous
    for row in a:
        eos = np.flatnonzero(row == EOS_ID)
        if eos.size:
            assert (row[eos[0] + 1:] == PAD_ID).all()


def test_generated_log_probs_match_teacher_forcing(generator):
    ids, log_prob = generator.generate_with_log_probs(8, seed=tf.constant([3, 1]))
    inputs = tf.concat([tf.fill((8, 1), BOS_ID), ids[:, :-1]], axis=1)
    token_log_probs = tf.gather(tf.nn.log_softmax(generator(inputs)), ids, axis=2, batch_dims=2).numpy()
    ids = ids.numpy()
    alive = np.cumsum(ids == EOS_ID, axis=1) - (ids == EOS_ID) == 0  # up to and including the first EOS
    np.testing.assert_allclose(log_prob.numpy(), (token_log_probs * alive).sum(1), atol=1e-4)


def test_relaxed_samples_are_simplex_points_consistent_with_ids(generator):
    y, ids = generator.sample_relaxed(16, 0.5, seed=tf.constant([4, 4]))
    assert y.shape == (16, T, V)
    assert (y.numpy() >= 0).all()
    np.testing.assert_allclose(tf.reduce_sum(y, -1).numpy(), 1.0, rtol=1e-5)
    # The hard ids are the argmax of the perturbed logits, which is also the relaxed vector's mode.
    np.testing.assert_array_equal(tf.argmax(y, -1).numpy(), ids.numpy())


def test_hard_sampling_gives_one_hots(generator):
    y, ids = generator.sample_relaxed(8, 1.0, seed=tf.constant([5, 5]), hard=True)
    np.testing.assert_array_equal(y.numpy(), tf.one_hot(ids, V).numpy())


@pytest.mark.parametrize("soft_feedback", [False, True])
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_gradient_flows_from_relaxed_samples_into_every_weight(name, soft_feedback):
    """With hard feedback the embedding is reached through the lookups of BOS and the sampled tokens, which
    still carry gradient to the rows used: no weight may be left without one."""
    gen = make(name, soft_feedback=soft_feedback)
    target = tf.random.stateless_normal((V,), seed=[1, 1])
    with tf.GradientTape() as tape:
        y, _ = gen.sample_relaxed(4, 1.0, seed=tf.constant([2, 2]))
        loss = tf.reduce_sum(y * target)
    grads = tape.gradient(loss, gen.trainable_variables)
    assert [v.path for v, g in zip(gen.trainable_variables, grads)
            if g is None or not np.any(tf.convert_to_tensor(g).numpy())] == []


def test_save_and_safe_load_give_identical_logits_and_samples(generator, tmp_path):
    path = tmp_path / "generator.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert type(loaded) is type(generator)
    ids = _bos_batch(3, 2)
    np.testing.assert_array_equal(loaded(ids).numpy(), generator(ids).numpy())
    seed = tf.constant([7, 7])
    np.testing.assert_array_equal(loaded.generate(4, seed=seed).numpy(), generator.generate(4, seed=seed).numpy())


def test_get_config_round_trip(generator):
    config = generator.get_config()
    clone = type(generator).from_config(config)
    assert clone.get_config() == config
    clone(tf.zeros((1, T), tf.int32))
    assert [v.shape for v in clone.weights] == [v.shape for v in generator.weights]
    clone.set_weights(generator.get_weights())
    ids = _bos_batch(2, 3)
    np.testing.assert_allclose(clone(ids).numpy(), generator(ids).numpy(), atol=1e-6)


def test_low_temperature_generation_is_nearly_greedy(generator):
    cold = generator.generate(32, temperature=1e-6, seed=tf.constant([6, 6])).numpy()
    assert (cold == cold[0]).all()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_fixed_length_generators_never_end_early(name):
    g = make(name, fixed_length=True)
    ids = g.generate(64, seed=tf.constant([8, 8])).numpy()
    assert (ids[:, :-1] != EOS_ID).all() and (ids[:, -1] == EOS_ID).all()
    y, relaxed_ids = g.sample_relaxed(16, 1.0, seed=tf.constant([9, 9]))
    assert (relaxed_ids.numpy()[:, -1] == EOS_ID).all() and (relaxed_ids.numpy()[:, :-1] != EOS_ID).all()
    assert float(tf.reduce_max(y[:, :-1, EOS_ID])) < 1e-6
    assert type(g).from_config(g.get_config()).fixed_length
