"""What only the transformer has: causality, dropout, head sizes (the contract every generator meets is in
test_generator_contract.py)."""

import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models.transformer import TransformerGenerator
from seqgan_gumbel.corpus.tokenizer import BOS_ID

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


def test_the_config_records_every_size():
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
