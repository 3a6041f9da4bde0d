"""The LSTM generator: teacher-forced logits for MLE, autoregressive sampling."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.models.autoregressive import AutoregressiveGenerator


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class LSTMGenerator(AutoregressiveGenerator):
    """An LSTM language model over token ids.

    Args:
        vocab_size: number of token ids.
        sequence_length: tokens generated per sentence (the corpus's maximum
            length plus one for EOS).
        embedding_dim: token embedding size.
        hidden_dim: LSTM state size.
        soft_feedback: during relaxed sampling, pass the gradient of y @ E
            (the relaxed one-hot's embedding) back through the next input,
            whose forward value stays the sampled token's embedding.

    Call arguments:
        inputs: (batch, time) int ids, BOS first (teacher forcing).

    Returns from call:
        (batch, time, vocab_size) next-token logits.

    Example:
        >>> g = LSTMGenerator(vocab_size=100, sequence_length=12)
        >>> ids = g.generate(8)                       # (8, 12) int32
        >>> y, ids = g.sample_relaxed(8, temperature=0.5)  # y: (8, 12, 100)
    """

    def __init__(
        self,
        vocab_size: int,
        sequence_length: int,
        embedding_dim: int = 64,
        hidden_dim: int = 128,
        soft_feedback: bool = False,
        fixed_length: bool = False,
        **kwargs,
    ):
        super().__init__(vocab_size, sequence_length, embedding_dim, soft_feedback, fixed_length, **kwargs)
        self.hidden_dim = hidden_dim
        self.lstm = keras.layers.LSTM(hidden_dim, return_sequences=True, name="lstm", dtype=self.dtype_policy)
        self.output_projection = keras.layers.Dense(vocab_size, name="output_projection", dtype=self.dtype_policy)
        self.build((None, sequence_length))

    def build(self, input_shape):
        batch, time = input_shape
        self.embedding.build((batch, time))
        self.lstm.build((batch, time, self.embedding_dim))
        self.output_projection.build((batch, time, self.hidden_dim))
        self.built = True

    def call(self, inputs, training=False):
        return self.project_to_logits(self.lstm(self.embedding(inputs), training=training))

    def step(self, inputs_embedded, state):
        hidden, state = self.lstm.cell(inputs_embedded, state)
        return self.project_to_logits(hidden), state

    def initial_state(self, batch_size):
        zeros = tf.zeros((batch_size, self.hidden_dim), self.compute_dtype)
        return [zeros, zeros]

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_dim=self.hidden_dim,
        )
        return config
