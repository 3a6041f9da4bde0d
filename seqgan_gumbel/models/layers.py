"""Small layers shared by the models."""

from __future__ import annotations

import keras
import tensorflow as tf


def embed_one_hots(one_hots, embedding: keras.layers.Embedding):
    """(Relaxed) one-hots times an embedding's matrix: y @ E, in its compute dtype.

    The differentiable counterpart of an embedding lookup. It is called
    outside the layer's `__call__`, where Keras does not autocast, so both
    sides are cast to the layer's compute dtype (bfloat16 under mixed
    precision).

    Args:
        one_hots: (..., vocab_size) floats.
        embedding: the embedding layer whose matrix is used.

    Returns:
        (..., embedding width) in the layer's compute dtype.
    """
    compute = embedding.compute_dtype
    return tf.tensordot(tf.cast(one_hots, compute), tf.cast(embedding.embeddings, compute), axes=1)


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class Highway(keras.layers.Layer):
    """A highway layer: t * relu(W x + b) + (1 - t) * x, t = sigmoid(W_t x + b_t).

    Args:
        transform_bias: initial bias of the gate; negative values start the
            layer close to the identity (Srivastava et al. 2015).
        use_bias: trainable biases b and b_t; False (RelGAN's highway): no b,
            and b_t fixed at transform_bias.

    Call arguments:
        inputs: (batch, features) floats.

    Returns from call:
        (batch, features) floats.
    """

    def __init__(self, transform_bias: float = -2.0, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.transform_bias = transform_bias
        self.use_bias = use_bias

    def build(self, input_shape):
        features = input_shape[-1]
        self.transform = keras.layers.Dense(features, activation="relu", use_bias=self.use_bias, name="transform",
                                            dtype=self.dtype_policy)
        self.gate = keras.layers.Dense(
            features,
            use_bias=self.use_bias,
            bias_initializer=keras.initializers.Constant(self.transform_bias),
            name="gate",
            dtype=self.dtype_policy,
        )
        self.transform.build(input_shape)
        self.gate.build(input_shape)

    def call(self, inputs):
        gate_logits = self.gate(inputs)
        if not self.use_bias:
            gate_logits = gate_logits + self.transform_bias
        gate = tf.sigmoid(gate_logits)
        return gate * self.transform(inputs) + (1.0 - gate) * inputs

    def get_config(self):
        config = super().get_config()
        config.update(transform_bias=self.transform_bias, use_bias=self.use_bias)
        return config
