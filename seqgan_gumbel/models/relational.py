"""RelGAN's generator: a relational memory core (Santoro et al. 2018,
"Relational recurrent neural networks"; Nie et al. 2019, "RelGAN")."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqgan_gumbel.models.autoregressive import AutoregressiveGenerator

_LAYER_NORM_EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class RelationalMemoryCell(keras.layers.Layer):
    """One step of a relational memory core, as a Keras RNN cell.

    The memory M has `mem_slots` rows of `mem_size = num_heads * head_size`
    features. For an input x, one step computes

    - x' = W_in x + b_in, the input as one extra memory row: M+ = [M; x'];
    - multi-head dot-product attention, queries from the rows of M, keys and
      values from the rows of M+ (q, k, v = LayerNorm(row @ W_qkv), split
      into heads; scores scaled by 1/sqrt(head_size));
    - candidate C = LayerNorm(A + MLP(A)), A = LayerNorm(M + attention),
      with a two-layer MLP (ReLU between its layers);
    - gates [i, f] = sigmoid(x' W_gi + tanh(M) W_gm + b_g), per memory row,
      b_g starting at `input_bias` for i and `forget_bias` for f;
    - M_new = i * tanh(C) + f * M; the step's output is M_new flattened.

    The layer norm on q, k, v (per row) is Santoro et al.'s, also in RelGAN.
    Everything that depends on x alone (x's keys, values and gate
    pre-activations) is computed by `project_inputs`, outside the recurrence,
    so that teacher forcing does it for the whole sequence in one matmul:
    `call` takes those input features, not x itself.

    Args:
        mem_slots: memory rows.
        num_heads: attention heads.
        head_size: features per head; the memory size is num_heads * head_size.
        forget_bias: initial bias of the forget gate.
        input_bias: initial bias of the input gate.

    Call arguments:
        inputs: (batch, input_feature_size) floats: `project_inputs(x)`.
        states: a one-element list: the (batch, mem_slots * mem_size) memory.

    Returns from call:
        (output, [memory]): the new memory flattened, (batch, mem_slots *
        mem_size), both as the output and as the new state.

    Example:
        >>> cell = RelationalMemoryCell(mem_slots=2, num_heads=2, head_size=8)
        >>> cell.build((None, 32))                   # 32: the size of x
        >>> rnn = keras.layers.RNN(cell, return_sequences=True)
        >>> x = tf.random.normal((4, 10, 32))
        >>> memories = rnn(cell.project_inputs(x))   # (4, 10, 32)
    """

    def __init__(
        self,
        mem_slots: int = 1,
        num_heads: int = 2,
        head_size: int = 256,
        forget_bias: float = 1.0,
        input_bias: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.mem_slots = mem_slots
        self.num_heads = num_heads
        self.head_size = head_size
        self.forget_bias = forget_bias
        self.input_bias = input_bias
        self.mem_size = num_heads * head_size
        # keras.layers.RNN's cell contract: integer state and output sizes.
        self.state_size = mem_slots * self.mem_size
        self.output_size = mem_slots * self.mem_size
        # Per step input features: x's key and value rows, its gate terms.
        self.input_feature_size = 4 * self.mem_size

    def build(self, input_shape):
        """Creates the weights; `input_shape` is that of x, (batch, input_dim)."""
        input_dim = input_shape[-1]
        m = self.mem_size
        self.input_kernel = self.add_weight((input_dim, m), initializer="glorot_uniform", name="input_kernel")
        self.input_projection_bias = self.add_weight((m,), initializer="zeros", name="input_projection_bias")
        self.qkv_kernel = self.add_weight((m, 3 * m), initializer="glorot_uniform", name="qkv_kernel")
        self.qkv_norm = keras.layers.LayerNormalization(epsilon=_LAYER_NORM_EPSILON, name="qkv_norm",
                                                        dtype=self.dtype_policy)
        self.qkv_norm.build((None, 3 * m))
        self.attention_norm = keras.layers.LayerNormalization(epsilon=_LAYER_NORM_EPSILON, name="attention_norm",
                                                              dtype=self.dtype_policy)
        self.attention_norm.build((None, self.mem_slots, m))
        self.mlp_hidden = keras.layers.Dense(m, activation="relu", name="mlp_hidden", dtype=self.dtype_policy)
        self.mlp_hidden.build((None, self.mem_slots, m))
        self.mlp_output = keras.layers.Dense(m, name="mlp_output", dtype=self.dtype_policy)
        self.mlp_output.build((None, self.mem_slots, m))
        self.mlp_norm = keras.layers.LayerNormalization(epsilon=_LAYER_NORM_EPSILON, name="mlp_norm",
                                                        dtype=self.dtype_policy)
        self.mlp_norm.build((None, self.mem_slots, m))
        # Input and forget gates side by side: one matmul for both.
        self.gate_input_kernel = self.add_weight((m, 2 * m), initializer="glorot_uniform", name="gate_input_kernel")
        self.gate_memory_kernel = self.add_weight((m, 2 * m), initializer="glorot_uniform", name="gate_memory_kernel")
        gate_bias = np.concatenate([np.full(m, self.input_bias), np.full(m, self.forget_bias)]).astype("float32")
        self.gate_bias = self.add_weight(
            (2 * m,), initializer=keras.initializers.Constant(gate_bias), name="gate_bias"
        )
        self.built = True

    def project_inputs(self, inputs):
        """The per-step input features of x: (..., input_dim) -> (..., 4 * mem_size).

        The key and value of x's memory row, then its input and forget gate
        pre-activations (bias included). Linear layers apply to any leading
        dimensions, so a whole (batch, time, input_dim) sequence takes one call.
        """
        m = self.mem_size
        # Called outside the layer's __call__ too (sampling), where Keras does
        # not autocast: cast to the compute dtype here.
        inputs = ops.cast(inputs, self.compute_dtype)
        input_kernel, input_bias, qkv_kernel, gate_kernel, gate_bias = (
            ops.cast(w, self.compute_dtype) for w in (
                self.input_kernel, self.input_projection_bias, self.qkv_kernel, self.gate_input_kernel,
                self.gate_bias))
        projected = ops.matmul(inputs, input_kernel) + input_bias
        qkv = self.qkv_norm(ops.matmul(projected, qkv_kernel))
        gates = ops.matmul(projected, gate_kernel) + gate_bias
        return ops.concatenate([qkv[..., m:], gates], axis=-1)

    def call(self, inputs, states):
        m, n, heads, size = self.mem_size, self.mem_slots, self.num_heads, self.head_size
        memory = ops.reshape(states[0], (-1, n, m))
        input_key = ops.reshape(inputs[:, :m], (-1, 1, heads, size))
        input_value = ops.reshape(inputs[:, m:2 * m], (-1, 1, heads, size))
        input_gates = inputs[:, None, 2 * m:]

        # Queries from the memory rows; keys and values from memory + input.
        qkv = self.qkv_norm(ops.matmul(memory, self.qkv_kernel))
        query = ops.reshape(qkv[..., :m], (-1, n, heads, size)) * (size ** -0.5)
        key = ops.concatenate([ops.reshape(qkv[..., m:2 * m], (-1, n, heads, size)), input_key], axis=1)
        value = ops.concatenate([ops.reshape(qkv[..., 2 * m:], (-1, n, heads, size)), input_value], axis=1)
        weights = ops.softmax(ops.einsum("bnhd,bkhd->bhnk", query, key), axis=-1)
        attended = ops.reshape(ops.einsum("bhnk,bkhd->bnhd", weights, value), (-1, n, m))

        candidate = self.attention_norm(memory + attended)
        candidate = self.mlp_norm(candidate + self.mlp_output(self.mlp_hidden(candidate)))

        gates = ops.sigmoid(ops.matmul(ops.tanh(memory), self.gate_memory_kernel) + input_gates)
        input_gate, forget_gate = gates[..., :m], gates[..., m:]
        new_memory = ops.reshape(input_gate * ops.tanh(candidate) + forget_gate * memory, (-1, n * m))
        return new_memory, [new_memory]

    def get_initial_state(self, batch_size=None):
        """Santoro et al.'s memory: each row an identity row, padded or cut to mem_size."""
        initial = np.eye(self.mem_slots, max(self.mem_size, self.mem_slots), dtype="float32")[:, :self.mem_size]
        initial = ops.convert_to_tensor(initial.reshape(1, -1), dtype=self.compute_dtype)
        return [ops.tile(initial, (batch_size, 1))]

    def get_config(self):
        config = super().get_config()
        config.update(
            mem_slots=self.mem_slots,
            num_heads=self.num_heads,
            head_size=self.head_size,
            forget_bias=self.forget_bias,
            input_bias=self.input_bias,
        )
        return config


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class RelationalMemoryGenerator(AutoregressiveGenerator):
    """RelGAN's generator: a relational memory core language model over token ids.

    RelGAN's COCO setting is mem_slots=1, num_heads=2, head_size=256 (a
    512-feature memory) with 32-dimensional embeddings.

    Args:
        vocab_size: number of token ids.
        sequence_length: tokens generated per sentence (the corpus's maximum
            length plus one for EOS).
        embedding_dim: token embedding size.
        mem_slots: memory rows.
        num_heads: attention heads.
        head_size: features per head (memory size num_heads * head_size).
        soft_feedback: during relaxed sampling, pass the gradient of y @ E
            (the relaxed one-hot's embedding) back through the next input,
            whose forward value stays the sampled token's embedding.

    Call arguments:
        inputs: (batch, time) int ids, BOS first (teacher forcing).

    Returns from call:
        (batch, time, vocab_size) next-token logits.

    Example:
        >>> g = RelationalMemoryGenerator(vocab_size=100, sequence_length=12, head_size=16)
        >>> ids = g.generate(8)                       # (8, 12) int32
        >>> y, ids = g.sample_relaxed(8, temperature=0.5)  # y: (8, 12, 100)
    """

    def __init__(
        self,
        vocab_size: int,
        sequence_length: int,
        embedding_dim: int = 32,
        mem_slots: int = 1,
        num_heads: int = 2,
        head_size: int = 256,
        soft_feedback: bool = False,
        fixed_length: bool = False,
        **kwargs,
    ):
        super().__init__(vocab_size, sequence_length, embedding_dim, soft_feedback, fixed_length, **kwargs)
        self.mem_slots = mem_slots
        self.num_heads = num_heads
        self.head_size = head_size
        cell = RelationalMemoryCell(mem_slots, num_heads, head_size, name="relational_memory_cell",
                                    dtype=self.dtype_policy)
        self.memory = keras.layers.RNN(cell, return_sequences=True, name="relational_memory", dtype=self.dtype_policy)
        self.output_projection = keras.layers.Dense(vocab_size, name="output_projection", dtype=self.dtype_policy)
        self.build((None, sequence_length))

    def build(self, input_shape):
        batch, time = input_shape
        cell = self.memory.cell
        self.embedding.build((batch, time))
        cell.build((batch, self.embedding_dim))
        self.memory.build((batch, time, cell.input_feature_size))
        self.output_projection.build((batch, time, cell.output_size))
        self.built = True

    def call(self, inputs, training=False):
        features = self.memory.cell.project_inputs(self.embedding(inputs))
        return self.project_to_logits(self.memory(features, training=training))

    def step(self, inputs_embedded, state):
        cell = self.memory.cell
        output, state = cell(cell.project_inputs(inputs_embedded), state)
        return self.project_to_logits(output), state

    def initial_state(self, batch_size):
        return self.memory.cell.get_initial_state(batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            mem_slots=self.mem_slots,
            num_heads=self.num_heads,
            head_size=self.head_size,
        )
        return config
