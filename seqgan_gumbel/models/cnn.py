"""The CNN discriminator over embedded token sequences."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.models.layers import Highway, embed_one_hots


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class CNNDiscriminator(keras.Model):
    """Kim-style CNN: convolutions of several widths, max-over-time, highway, dropout.

    Real sentences arrive as int ids and are embedded by lookup; generated ones
    arrive as (relaxed) one-hots y and are embedded as y @ E with the same
    matrix E, so the two paths agree exactly on one-hot input.

    Args:
        vocab_size: number of token ids.
        sequence_length: tokens per sentence.
        embedding_dim: token embedding size.
        filter_sizes: convolution widths.
        num_filters: filters per width.
        dropout: dropout rate before the output layer.

    Call arguments:
        inputs: (batch, time) int ids or (batch, time, vocab_size) floats.
        training: enables dropout.

    Returns from call:
        (batch,) logits, larger for "real".
    """

    def __init__(
        self,
        vocab_size: int,
        sequence_length: int,
        embedding_dim: int = 64,
        filter_sizes=(2, 3, 4, 5),
        num_filters: int = 64,
        dropout: float = 0.25,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.filter_sizes = tuple(filter_sizes)
        self.num_filters = num_filters
        self.dropout_rate = dropout
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding", dtype=self.dtype_policy)
        self.convolutions = [
            keras.layers.Conv1D(num_filters, width, activation="relu", name=f"conv{width}", dtype=self.dtype_policy)
            for width in self.filter_sizes
        ]
        self.highway = Highway(name="highway", dtype=self.dtype_policy)
        self.dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.logit = keras.layers.Dense(1, name="logit", dtype=self.dtype_policy)
        self.build((None, sequence_length))

    def build(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        self.embedding.build((batch, time))
        for conv in self.convolutions:
            conv.build((batch, time, self.embedding_dim))
        features = self.num_filters * len(self.filter_sizes)
        self.highway.build((batch, features))
        self.logit.build((batch, features))
        self.built = True

    def embed(self, inputs):
        """Embeds ids by lookup, (relaxed) one-hots by y @ E."""
        if inputs.dtype.is_integer:
            return self.embedding(inputs)
        return embed_one_hots(inputs, self.embedding)

    def call(self, inputs, training=False):
        embedded = self.embed(inputs)
        pooled = [tf.reduce_max(conv(embedded), axis=1) for conv in self.convolutions]
        features = self.highway(tf.concat(pooled, axis=-1))
        logits = tf.squeeze(self.logit(self.dropout(features, training=training)), axis=-1)
        return tf.cast(logits, tf.float32)  # the losses stay float32 under mixed precision

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            sequence_length=self.sequence_length,
            embedding_dim=self.embedding_dim,
            filter_sizes=list(self.filter_sizes),
            num_filters=self.num_filters,
            dropout=self.dropout_rate,
        )
        return config
