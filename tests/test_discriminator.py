"""The highway layer the discriminators use (the contract every discriminator meets is in
test_discriminator_contract.py)."""

import tensorflow as tf

from seqgan_gumbel.models.layers import Highway


def test_highway_starts_near_identity_and_keeps_shape():
    layer = Highway()
    x = tf.random.stateless_normal((5, 12), seed=[5, 6])
    y = layer(x)
    assert y.shape == (5, 12)
    # Gate bias -2: output is mostly the input at initialisation.
    assert float(tf.reduce_mean(tf.abs(y - x))) < float(tf.reduce_mean(tf.abs(x)))
