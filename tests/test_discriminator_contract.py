"""The contract every discriminator meets (CNN, RelGAN's multi-representation, with and without spectral
norm): one test per promise, parametrized over every discriminator. What only one has lives in its own file
(test_discriminator.py, test_multi_representation.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models import CNNDiscriminator, MultiRepresentationDiscriminator

V, T = 25, 8
DISCRIMINATORS = {
    "cnn": lambda **kw: CNNDiscriminator(V, T, **{"embedding_dim": 8, "num_filters": 4, **kw}),
    "multi_representation": lambda **kw: MultiRepresentationDiscriminator(
        V, T, **{"embedding_dim": 4, "num_representations": 3, "filter_sizes": (2, 3), "num_filters": 5,
                 "hidden_dim": 6, **kw}),
    "multi_representation+spectral_norm": lambda **kw: MultiRepresentationDiscriminator(
        V, T, **{"embedding_dim": 4, "num_representations": 3, "filter_sizes": (2, 3), "num_filters": 5,
                 "hidden_dim": 6, "spectral_norm": True, **kw}),
}
NAMES = sorted(DISCRIMINATORS)


def _ids(batch, seed=(1, 2)):
    return tf.random.stateless_uniform((batch, T), seed=list(seed), maxval=V, dtype=tf.int32)


@pytest.mark.parametrize("name", NAMES)
def test_ids_and_their_one_hots_score_identically(name):
    """Real sentences come as ids, fakes as (relaxed) one-hots: the two paths must be the same function."""
    d = DISCRIMINATORS[name]()
    ids = _ids(6)
    np.testing.assert_allclose(d(ids).numpy(), d(tf.one_hot(ids, V)).numpy(), rtol=1e-5, atol=1e-6)
    assert d(ids).shape == (6,)


@pytest.mark.parametrize("name", NAMES)
def test_relaxed_input_and_every_weight_get_gradient(name):
    d = DISCRIMINATORS[name]()
    y = tf.Variable(tf.nn.softmax(tf.random.stateless_normal((3, T, V), seed=[3, 4])))
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(d(y, training=True))
    grads = tape.gradient(score, [y] + d.trainable_variables)
    assert float(tf.reduce_max(tf.abs(grads[0]))) > 0
    assert [v.path for v, g in zip(d.trainable_variables, grads[1:]) if g is None] == []


@pytest.mark.parametrize("name", NAMES)
def test_dropout_only_in_training(name):
    d = DISCRIMINATORS[name](num_filters=16, dropout=0.5)
    ids = tf.zeros((4, T), tf.int32) + 5
    np.testing.assert_allclose(d(ids).numpy(), d(ids).numpy())
    assert not np.allclose(d(ids, training=True).numpy(), d(ids, training=False).numpy())


@pytest.mark.parametrize("name", NAMES)
def test_save_and_safe_load_keep_outputs(name, tmp_path):
    d = DISCRIMINATORS[name]()
    ids = _ids(3)
    d(ids, training=True)  # moves a spectral norm's power-iteration vector away from its start
    path = tmp_path / "d.keras"
    d.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(d)
    y = tf.nn.softmax(tf.random.stateless_normal((3, T, V), seed=[5, 6]))
    np.testing.assert_allclose(loaded(ids).numpy(), d(ids).numpy(), rtol=1e-6)
    np.testing.assert_allclose(loaded(y).numpy(), d(y).numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    d = DISCRIMINATORS[name](dropout=0.1)
    d(_ids(1))
    config = d.get_config()
    clone = type(d).from_config(config)
    assert clone.get_config() == config
    clone(_ids(1))
    assert [v.shape for v in clone.weights] == [v.shape for v in d.weights]
