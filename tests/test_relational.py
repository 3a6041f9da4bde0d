"""What only the relational memory core has: its cell's equations, gates and memory (the contract every
generator meets is in test_generator_contract.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models.relational import RelationalMemoryCell


def test_the_cell_config_round_trips():
    cell = RelationalMemoryCell(mem_slots=3, num_heads=1, head_size=4, forget_bias=2.0, input_bias=-1.0)
    assert RelationalMemoryCell.from_config(cell.get_config()).get_config() == cell.get_config()


def test_initial_memory_is_identity_padded_or_truncated():
    padded = RelationalMemoryCell(mem_slots=2, num_heads=2, head_size=2)  # mem_size 4
    memory = padded.get_initial_state(3)[0].numpy().reshape(3, 2, 4)
    np.testing.assert_array_equal(memory, np.broadcast_to(np.eye(2, 4), (3, 2, 4)))
    truncated = RelationalMemoryCell(mem_slots=3, num_heads=1, head_size=2)  # mem_size 2
    memory = truncated.get_initial_state(2)[0].numpy().reshape(2, 3, 2)
    np.testing.assert_array_equal(memory, np.broadcast_to(np.eye(3)[:, :2], (2, 3, 2)))


def _cell_and_inputs(batch=3, input_dim=5):
    tf.keras.utils.set_random_seed(4)
    cell = RelationalMemoryCell(mem_slots=2, num_heads=2, head_size=4)
    cell.build((None, input_dim))
    # Non-default norm parameters and biases, so the reference checks them too.
    for weight in cell.weights:
        if weight.path.endswith(("beta", "bias")) and "gate" not in weight.path:
            weight.assign(np.random.default_rng(0).normal(0, 0.3, weight.shape))
        if weight.path.endswith("gamma"):
            weight.assign(np.random.default_rng(1).uniform(0.5, 1.5, weight.shape))
    x = np.random.default_rng(2).normal(size=(batch, input_dim)).astype("float32")
    memory = np.random.default_rng(3).normal(size=(batch, cell.state_size)).astype("float32")
    return cell, x, memory


def _layer_norm(x, layer):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + layer.epsilon) * layer.gamma.numpy() + layer.beta.numpy()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _reference_step(cell, x, memory):
    """The relational memory equations, written out in NumPy."""
    n, m, h, d = cell.mem_slots, cell.mem_size, cell.num_heads, cell.head_size
    w = {v.path.split("/", 1)[1]: v.numpy() for v in cell.weights}  # e.g. "mlp_hidden/kernel"
    mem = memory.reshape(-1, n, m)
    x_row = x @ w["input_kernel"] + w["input_projection_bias"]
    mem_plus = np.concatenate([mem, x_row[:, None]], axis=1)
    qkv = _layer_norm(mem_plus @ w["qkv_kernel"], cell.qkv_norm)
    q = qkv[:, :n, :m].reshape(-1, n, h, d)  # queries only from the memory rows
    k = qkv[:, :, m:2 * m].reshape(-1, n + 1, h, d)
    v = qkv[:, :, 2 * m:].reshape(-1, n + 1, h, d)
    scores = np.einsum("bnhd,bkhd->bhnk", q, k) / np.sqrt(d)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    attended = np.einsum("bhnk,bkhd->bnhd", weights, v).reshape(-1, n, m)
    a = _layer_norm(mem + attended, cell.attention_norm)
    hidden = np.maximum(a @ w["mlp_hidden/kernel"] + w["mlp_hidden/bias"], 0.0)
    candidate = _layer_norm(a + hidden @ w["mlp_output/kernel"] + w["mlp_output/bias"], cell.mlp_norm)
    gates = (x_row[:, None] @ w["gate_input_kernel"] + np.tanh(mem) @ w["gate_memory_kernel"] + w["gate_bias"])
    input_gate, forget_gate = _sigmoid(gates[..., :m]), _sigmoid(gates[..., m:])
    return (input_gate * np.tanh(candidate) + forget_gate * mem).reshape(len(x), -1)


def test_cell_step_matches_the_reference_equations():
    cell, x, memory = _cell_and_inputs()
    output, [state] = cell(cell.project_inputs(tf.constant(x)), [tf.constant(memory)])
    np.testing.assert_allclose(output.numpy(), _reference_step(cell, x, memory), atol=1e-5)
    np.testing.assert_array_equal(output.numpy(), state.numpy())


def test_gates_start_with_forget_bias_one_and_input_bias_zero():
    cell = RelationalMemoryCell(mem_slots=1, num_heads=1, head_size=3)
    cell.build((None, 2))
    np.testing.assert_array_equal(cell.gate_bias.numpy(), [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("forget_bias", [50.0, 0.3])
def test_closed_input_gate_keeps_the_forget_gated_memory(forget_bias):
    # Gate kernels zero, input gate shut: M_new = sigmoid(forget_bias) * M,
    # whatever the input and the attention candidate; forget_bias 50 (the
    # forget gate saturated open) keeps the memory as it is.
    cell, x, memory = _cell_and_inputs()
    m = cell.mem_size
    cell.gate_input_kernel.assign(np.zeros(cell.gate_input_kernel.shape))
    cell.gate_memory_kernel.assign(np.zeros(cell.gate_memory_kernel.shape))
    cell.gate_bias.assign(np.concatenate([np.full(m, -50.0), np.full(m, forget_bias)]))
    output, _ = cell(cell.project_inputs(tf.constant(x)), [tf.constant(memory)])
    np.testing.assert_allclose(output.numpy(), _sigmoid(forget_bias) * memory, rtol=1e-6, atol=1e-6)


def test_cell_runs_in_keras_rnn_as_documented():
    cell = RelationalMemoryCell(mem_slots=2, num_heads=2, head_size=4)
    cell.build((None, 6))
    rnn = keras.layers.RNN(cell, return_sequences=True)
    x = tf.random.stateless_normal((3, 4, 6), seed=[5, 5])
    memories = rnn(cell.project_inputs(x)).numpy()
    assert memories.shape == (3, 4, cell.output_size)
    state = cell.get_initial_state(3)
    for t in range(4):
        output, state = cell(cell.project_inputs(x[:, t]), state)
        np.testing.assert_allclose(output.numpy(), memories[:, t], atol=1e-5)
