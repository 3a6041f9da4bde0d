"""The transformer generator: a decoder-only (GPT-style) language model with
causal self-attention, teacher-forced logits for MLE and cached
autoregressive sampling."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from seqgan_gumbel.models.autoregressive import AutoregressiveGenerator


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class TransformerBlock(keras.layers.Layer):
    """A pre-LayerNorm decoder block: causal self-attention, then a GELU
    feed-forward network, each inside a residual connection.

        x = x + dropout(attention(layer_norm(x)))
        x = x + dropout(feed_forward(layer_norm(x)))

    Args:
        embedding_dim: model width (divisible by num_heads).
        num_heads: attention heads.
        feedforward_dim: hidden width of the feed-forward network.
        dropout: dropout rate on each residual branch (training only).

    Call arguments:
        inputs: (batch, time, embedding_dim) floats.
        training: Python bool; enables dropout.

    Returns from call:
        (batch, time, embedding_dim) floats; position t depends on positions
        <= t only.
    """

    def __init__(self, embedding_dim: int, num_heads: int, feedforward_dim: int, dropout: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if embedding_dim % num_heads:
            raise ValueError(f"embedding_dim ({embedding_dim}) must be divisible by num_heads ({num_heads})")
        self.embedding_dim = embedding_dim
        self.num_heads = num_heads
        self.feedforward_dim = feedforward_dim
        self.dropout = dropout
        self.head_dim = embedding_dim // num_heads
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="attention_norm",
                                                              dtype=self.dtype_policy)
        # No dropout on the attention probabilities: the fused causal kernel
        # stays usable, and dropout is applied on the residual branch instead.
        self.attention = keras.layers.MultiHeadAttention(num_heads, self.head_dim, name="attention",
                                                         dtype=self.dtype_policy)
        self.feedforward_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="feedforward_norm",
                                                                dtype=self.dtype_policy)
        self.feedforward_in = keras.layers.Dense(feedforward_dim, activation="gelu", name="feedforward_in",
                                                 dtype=self.dtype_policy)
        self.feedforward_out = keras.layers.Dense(embedding_dim, name="feedforward_out", dtype=self.dtype_policy)
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.attention_norm.build(shape)
        self.attention.build(shape, shape)
        self.feedforward_norm.build(shape)
        self.feedforward_in.build(shape)
        self.feedforward_out.build(shape[:-1] + (self.feedforward_dim,))
        self.built = True

    def call(self, inputs, training=False):
        h = self.attention_norm(inputs)
        h = self.attention(h, h, use_causal_mask=True, training=training)
        x = inputs + self.dropout_layer(h, training=training)
        return x + self.dropout_layer(self._feedforward(x), training=training)

    def _feedforward(self, x):
        return self.feedforward_out(self.feedforward_in(self.feedforward_norm(x)))

    def step(self, inputs, keys, values):
        """One position of `call` (no dropout), attending over cached keys and values.

        Args:
            inputs: (batch, embedding_dim) input at the new position.
            keys, values: (batch, past, num_heads, head_dim) projections of
                the earlier positions.

        Returns:
            (outputs, keys, values): (batch, embedding_dim) output at the new
            position, and the caches with the new position appended.
        """
        h = self.attention_norm(inputs[:, None, :])  # (batch, 1, dim)
        query = self.attention.query_dense(h)  # (batch, 1, heads, head_dim)
        keys = tf.concat([keys, self.attention.key_dense(h)], axis=1)
        values = tf.concat([values, self.attention.value_dense(h)], axis=1)
        query = query * tf.cast(1.0 / math.sqrt(self.head_dim), query.dtype)
        scores = tf.einsum("bqnh,bknh->bnqk", query, keys)
        weights = tf.nn.softmax(scores, axis=-1)
        attended = tf.einsum("bnqk,bknh->bqnh", weights, values)
        x = inputs + self.attention.output_dense(attended)[:, 0, :]
        return x + self._feedforward(x), keys, values

    def get_config(self):
        config = super().get_config()
        config.update(
            embedding_dim=self.embedding_dim,
            num_heads=self.num_heads,
            feedforward_dim=self.feedforward_dim,
            dropout=self.dropout,
        )
        return config


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class TransformerGenerator(AutoregressiveGenerator):
    """A decoder-only transformer language model over token ids.

    Token embedding plus a learned position embedding, `num_layers`
    pre-LayerNorm decoder blocks with causal multi-head self-attention and a
    GELU feed-forward network, a final LayerNorm and an (untied) output
    projection to vocabulary logits.

    Sampling (`generate`, `sample_relaxed`) runs one position per `step`,
    keeping a per-layer cache of attention keys and values, so each step costs
    one position's work; `step` gives exactly the logits `call` gives at that
    position. Dropout is active only in `call(..., training=True)`; `step` is
    always deterministic.

    Args:
        vocab_size: number of token ids.
        sequence_length: tokens generated per sentence (the corpus's maximum
            length plus one for EOS); also the number of learned positions.
        embedding_dim: model width (token and position embeddings, attention).
        num_layers: decoder blocks.
        num_heads: attention heads per block (must divide embedding_dim).
        feedforward_dim: hidden width of each block's feed-forward network.
        dropout: dropout rate on the embeddings and on each residual branch
            (teacher-forced training only).
        soft_feedback: during relaxed sampling, pass the gradient of y @ E
            (the relaxed one-hot's embedding) back through the next input,
            whose forward value stays the sampled token's embedding.

    Call arguments:
        inputs: (batch, time) int ids, BOS first (teacher forcing); time <=
            sequence_length.
        training: Python bool; enables dropout.

    Returns from call:
        (batch, time, vocab_size) next-token logits.

    Example:
        >>> g = TransformerGenerator(vocab_size=100, sequence_length=12)
        >>> ids = g.generate(8)                       # (8, 12) int32
        >>> y, ids = g.sample_relaxed(8, temperature=0.5)  # y: (8, 12, 100)
    """

    def __init__(
        self,
        vocab_size: int,
        sequence_length: int,
        embedding_dim: int = 128,
        num_layers: int = 2,
        num_heads: int = 4,
        feedforward_dim: int = 512,
        dropout: float = 0.1,
        soft_feedback: bool = False,
        fixed_length: bool = False,
        **kwargs,
    ):
        super().__init__(vocab_size, sequence_length, embedding_dim, soft_feedback, fixed_length, **kwargs)
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.feedforward_dim = feedforward_dim
        self.dropout = dropout
        self.position_embedding = keras.layers.Embedding(sequence_length, embedding_dim, name="position_embedding",
                                                         dtype=self.dtype_policy)
        self.embedding_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.blocks = [
            TransformerBlock(embedding_dim, num_heads, feedforward_dim, dropout, name=f"block_{i}",
                             dtype=self.dtype_policy)
            for i in range(num_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm", dtype=self.dtype_policy)
        self.output_projection = keras.layers.Dense(vocab_size, name="output_projection", dtype=self.dtype_policy)
        self.build((None, sequence_length))

    def build(self, input_shape):
        batch, time = input_shape
        self.embedding.build((batch, time))
        self.position_embedding.build((time,))
        for block in self.blocks:
            block.build((batch, time, self.embedding_dim))
        self.final_norm.build((batch, time, self.embedding_dim))
        self.output_projection.build((batch, time, self.embedding_dim))
        self.built = True

    def call(self, inputs, training=False):
        positions = tf.range(tf.shape(inputs)[1])
        x = self.embedding(inputs) + self.position_embedding(positions)[None]
        x = self.embedding_dropout(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return self.project_to_logits(self.final_norm(x))

    def step(self, inputs_embedded, state):
        """Next-token logits from the previous token's embedding.

        Args:
            inputs_embedded: (batch, embedding_dim) embedding of the previous
                token (BOS at the first step).
            state: {"position": int32 scalar, the new token's position (the
                number of positions already processed), "keys": [...],
                "values": [...]: one (batch, position, num_heads, head_dim)
                tensor per layer}.

        Returns:
            ((batch, vocab_size) logits, the state with this position appended).
        """
        position = state["position"]
        x = inputs_embedded + self.position_embedding(position)[None]
        keys, values = [], []
        for block, past_keys, past_values in zip(self.blocks, state["keys"], state["values"]):
            x, k, v = block.step(x, past_keys, past_values)
            keys.append(k)
            values.append(v)
        state = {"position": position + 1, "keys": keys, "values": values}
        return self.project_to_logits(self.final_norm(x)), state

    def initial_state(self, batch_size):
        empty = tf.zeros((batch_size, 0, self.num_heads, self.embedding_dim // self.num_heads), self.compute_dtype)
        return {
            "position": tf.constant(0, tf.int32),
            "keys": [empty] * self.num_layers,
            "values": [empty] * self.num_layers,
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            feedforward_dim=self.feedforward_dim,
            dropout=self.dropout,
        )
        return config
