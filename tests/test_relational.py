import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models.relational import RelationalMemoryCell, RelationalMemoryGenerator
from seqgan_gumbel.tokenizer import BOS_ID, EOS_ID, PAD_ID

V, T = 30, 9
SIZES = dict(embedding_dim=8, mem_slots=2, num_heads=2, head_size=8)


@pytest.fixture(scope="module")
def generator():
    tf.keras.utils.set_random_seed(0)
    return RelationalMemoryGenerator(V, T, **SIZES)


def _bos_batch(batch, seed):
    ids = tf.random.stateless_uniform((batch, T), seed=[seed, 0], minval=4, maxval=V, dtype=tf.int32)
    return tf.concat([tf.fill((batch, 1), BOS_ID), ids[:, 1:]], axis=1)


def test_teacher_forced_logits_shape(generator):
    logits = generator(tf.zeros((4, T), tf.int32))
    assert logits.shape == (4, T, V)


def test_teacher_forcing_equals_step_by_step_sampling_model(generator):
    ids = _bos_batch(5, 1)
    logits = generator(ids).numpy()
    embedded = generator.embedding(ids)
    state = generator.initial_state(5)
    stepped = []
    for t in range(T):
        step_logits, state = generator.step(embedded[:, t], state)
        stepped.append(step_logits)
    np.testing.assert_allclose(np.stack(stepped, axis=1), logits, atol=1e-5)


def test_generate_is_seeded_and_pads_after_eos(generator):
    a = generator.generate(64, seed=tf.constant([1, 2])).numpy()
    b = generator.generate(64, seed=tf.constant([1, 2])).numpy()
    c = generator.generate(64, seed=tf.constant([1, 3])).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    assert a.shape == (64, T)
    assert (a == EOS_ID).any()  # the PAD check below is not vacuous
    for row in a:
        eos = np.flatnonzero(row == EOS_ID)
        if eos.size:
            assert (row[eos[0] + 1:] == PAD_ID).all()


def test_relaxed_samples_are_simplex_points_consistent_with_ids(generator):
    y, ids = generator.sample_relaxed(16, 0.5, seed=tf.constant([4, 4]))
    assert y.shape == (16, T, V)
    np.testing.assert_allclose(tf.reduce_sum(y, -1).numpy(), 1.0, rtol=1e-5)
    assert (y.numpy() >= 0).all()
    np.testing.assert_array_equal(tf.argmax(y, -1).numpy(), ids.numpy())


def test_hard_sampling_gives_one_hots(generator):
    y, ids = generator.sample_relaxed(8, 1.0, seed=tf.constant([5, 5]), hard=True)
    np.testing.assert_array_equal(y.numpy(), tf.one_hot(ids, V).numpy())


@pytest.mark.parametrize("soft_feedback", [False, True])
def test_gradient_flows_from_relaxed_samples_into_every_weight(soft_feedback):
    gen = RelationalMemoryGenerator(V, T, soft_feedback=soft_feedback, **SIZES)
    target = tf.random.stateless_normal((V,), seed=[1, 1])
    with tf.GradientTape() as tape:
        y, _ = gen.sample_relaxed(4, 1.0, seed=tf.constant([2, 2]))
        loss = tf.reduce_sum(y * target)
    grads = tape.gradient(loss, gen.trainable_variables)
    names = [v.path for v, g in zip(gen.trainable_variables, grads) if g is None or not np.any(tf.convert_to_tensor(g).numpy())]
    if soft_feedback:
        assert names == []
    else:
        assert all("embedding" in n for n in names)


def test_save_and_safe_load_give_identical_logits(generator, tmp_path):
    path = tmp_path / "relational.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert isinstance(loaded, RelationalMemoryGenerator)
    ids = _bos_batch(3, 2)
    np.testing.assert_array_equal(loaded(ids).numpy(), generator(ids).numpy())
    np.testing.assert_array_equal(
        loaded.generate(4, seed=tf.constant([7, 7])).numpy(), generator.generate(4, seed=tf.constant([7, 7])).numpy()
    )


def test_get_config_round_trip(generator):
    config = generator.get_config()
    clone = RelationalMemoryGenerator.from_config(config)
    assert clone.get_config() == config
    assert [v.shape for v in clone.weights] == [v.shape for v in generator.weights]
    clone.set_weights(generator.get_weights())
    ids = _bos_batch(2, 3)
    np.testing.assert_allclose(clone(ids).numpy(), generator(ids).numpy(), atol=1e-6)

    cell = RelationalMemoryCell(mem_slots=3, num_heads=1, head_size=4, forget_bias=2.0, input_bias=-1.0)
    cell_clone = RelationalMemoryCell.from_config(cell.get_config())
    assert cell_clone.get_config() == cell.get_config()


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


def test_low_temperature_generation_is_nearly_greedy(generator):
    cold = generator.generate(32, temperature=1e-6, seed=tf.constant([6, 6])).numpy()
    assert (cold == cold[0]).all()
