import numpy as np
import tensorflow as tf

from seqgan_gumbel.models import CNNDiscriminator
from seqgan_gumbel.models.layers import Highway

V, T = 25, 8


def test_ids_and_their_one_hots_score_identically():
    d = CNNDiscriminator(V, T, embedding_dim=8, num_filters=4)
    ids = tf.random.stateless_uniform((6, T), seed=[1, 2], maxval=V, dtype=tf.int32)
    np.testing.assert_allclose(d(ids).numpy(), d(tf.one_hot(ids, V)).numpy(), rtol=1e-5, atol=1e-6)
    assert d(ids).shape == (6,)


def test_relaxed_input_gets_gradient():
    d = CNNDiscriminator(V, T, embedding_dim=8, num_filters=4)
    y = tf.Variable(tf.nn.softmax(tf.random.stateless_normal((3, T, V), seed=[3, 4])))
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(d(y))
    assert float(tf.reduce_max(tf.abs(tape.gradient(score, y)))) > 0


def test_dropout_only_in_training():
    d = CNNDiscriminator(V, T, embedding_dim=8, num_filters=16, dropout=0.5)
    ids = tf.zeros((4, T), tf.int32) + 5
    np.testing.assert_allclose(d(ids).numpy(), d(ids).numpy())
    assert not np.allclose(d(ids, training=True).numpy(), d(ids, training=False).numpy())


def test_highway_starts_near_identity_and_keeps_shape():
    layer = Highway()
    x = tf.random.stateless_normal((5, 12), seed=[5, 6])
    y = layer(x)
    assert y.shape == (5, 12)
    # Gate bias -2: output is mostly the input at initialisation.
    assert float(tf.reduce_mean(tf.abs(y - x))) < float(tf.reduce_mean(tf.abs(x)))
