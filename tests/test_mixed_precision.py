"""Mixed precision (training.precision = "mixed_bfloat16") across every model.

The networks compute in bfloat16 while weights, logits, relaxed one-hots and
losses stay float32; the policy survives saving and loading, and a whole run
trains with it.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.models import CNNDiscriminator, LSTMGenerator
from seqgan_gumbel.models.multi_representation import MultiRepresentationDiscriminator
from seqgan_gumbel.rundir import GENERATOR_FILE, RunDirectory
from seqgan_gumbel.training.run import train

from conftest import tiny_config, tiny_generators

VOCAB, LENGTH = 40, 8

GENERATORS = tiny_generators()
DISCRIMINATORS = {
    "cnn": (CNNDiscriminator, dict(embedding_dim=8, num_filters=8)),
    "multi_representation": (MultiRepresentationDiscriminator,
                             dict(embedding_dim=2, num_representations=4, num_filters=8, hidden_dim=10,
                                  spectral_norm=True)),
}


def _ids(seed=0):
    return tf.random.stateless_uniform((4, LENGTH), seed=(seed, 1), minval=3, maxval=VOCAB, dtype=tf.int32)


def _mixed_and_float(cls, kwargs):
    """The same weights under both policies."""
    keras.utils.set_random_seed(0)
    mixed = cls(vocab_size=VOCAB, sequence_length=LENGTH, dtype="mixed_bfloat16", **kwargs)
    full = cls(vocab_size=VOCAB, sequence_length=LENGTH, **kwargs)
    full.set_weights(mixed.get_weights())
    return mixed, full


def _compute_dtypes(model):
    return {layer.compute_dtype for layer in model._flatten_layers()}


@pytest.mark.parametrize("name", [*GENERATORS, *DISCRIMINATORS])
def test_every_layer_computes_in_bfloat16_with_float32_weights_and_outputs(name, tmp_path):
    cls, kwargs = {**GENERATORS, **DISCRIMINATORS}[name]
    mixed, full = _mixed_and_float(cls, kwargs)
    assert _compute_dtypes(mixed) == {"bfloat16"}
    assert _compute_dtypes(full) == {"float32"}
    assert {w.dtype for w in mixed.weights} == {"float32"}
    ids = _ids()
    mixed_out, full_out = mixed(ids), full(ids)
    assert mixed_out.dtype == tf.float32
    # bfloat16 keeps 8 bits of mantissa: close to float32, not equal.
    scale = max(1.0, float(np.max(np.abs(full_out.numpy()))))
    assert 0 < np.max(np.abs(mixed_out.numpy() - full_out.numpy())) < 0.1 * scale
    path = tmp_path / "model.keras"
    mixed.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert _compute_dtypes(loaded) == {"bfloat16"}
    np.testing.assert_array_equal(loaded(ids).numpy(), mixed_out.numpy())


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("soft_feedback", [False, True])
def test_generators_sample_in_mixed_precision(name, soft_feedback):
    cls, kwargs = GENERATORS[name]
    generator = cls(vocab_size=VOCAB, sequence_length=LENGTH, soft_feedback=soft_feedback, dtype="mixed_bfloat16",
                    **kwargs)
    seed = tf.constant([3, 4])
    one_hots, ids = generator.sample_relaxed(4, 0.5, seed=seed)
    assert one_hots.dtype == tf.float32 and ids.dtype == tf.int32
    np.testing.assert_allclose(tf.reduce_sum(one_hots, -1).numpy(), 1.0, rtol=1e-5)
    ids, log_probs = generator.generate_with_log_probs(4, seed=seed)
    assert log_probs.dtype == tf.float32 and np.all(np.isfinite(log_probs.numpy()))
    # The log-probabilities are those of the model's own (float32) logits.
    logits = generator(tf.concat([tf.fill((4, 1), 1), ids[:, :-1]], axis=1))
    token_log_probs = tf.gather(tf.nn.log_softmax(logits), ids, axis=2, batch_dims=2)
    alive = tf.cast(tf.math.cumsum(tf.cast(ids == 2, tf.int32), axis=1, exclusive=True) == 0, tf.float32)
    np.testing.assert_allclose(tf.reduce_sum(token_log_probs * alive, 1).numpy(), log_probs.numpy(), atol=0.1)


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminator_gradient_reaches_relaxed_one_hots_in_float32(name):
    cls, kwargs = DISCRIMINATORS[name]
    discriminator = cls(vocab_size=VOCAB, sequence_length=LENGTH, dtype="mixed_bfloat16", **kwargs)
    one_hots = tf.nn.softmax(tf.random.stateless_normal((4, LENGTH, VOCAB), seed=(1, 2)))
    with tf.GradientTape() as tape:
        tape.watch(one_hots)
        logits = discriminator(one_hots, training=True)
    gradient = tape.gradient(logits, one_hots)
    assert logits.dtype == tf.float32 and gradient.dtype == tf.float32
    assert np.all(np.isfinite(gradient.numpy())) and np.any(gradient.numpy() != 0)


def test_a_mixed_precision_run_trains_and_its_generator_keeps_the_policy(tmp_path, tiny_corpus):
    train_file, test_file = tiny_corpus
    config = tiny_config(train_file, test_file)
    config.training.precision = "mixed_bfloat16"
    result = train(config, tmp_path / "run", log=lambda m: None, progress="none")
    assert np.isfinite(result.metrics["nll_test"])
    assert 0 <= result.metrics["bleu"]["2"] <= 1
    generator = RunDirectory(tmp_path / "run").load_model(GENERATOR_FILE)
    assert _compute_dtypes(generator) == {"bfloat16"}
    assert RunDirectory(tmp_path / "run").load_config().training.precision == "mixed_bfloat16"


def test_with_precision_copies_a_generator_into_another_policy():
    from seqgan_gumbel.models.precision import with_precision

    keras.utils.set_random_seed(0)
    full = LSTMGenerator(VOCAB, LENGTH, embedding_dim=8, hidden_dim=16)
    assert with_precision(full, "float32") is full
    mixed = with_precision(full, "mixed_bfloat16")
    assert _compute_dtypes(mixed) == {"bfloat16"}
    for a, b in zip(full.get_weights(), mixed.get_weights()):
        np.testing.assert_array_equal(a, b)
    ids = _ids()
    assert 0 < np.max(np.abs(mixed(ids).numpy() - full(ids).numpy())) < 0.1


def test_generate_cli_samples_a_float32_run_in_bfloat16(trained_run):
    import json

    from conftest import run_cli

    records = {}
    for precision in ("float32", "mixed_bfloat16"):
        result = run_cli("generate", trained_run.run, "--num", "5", "--seed", "1", "--precision", precision,
                         "--format", "jsonl")
        assert result.returncode == 0, result.stderr
        records[precision] = [json.loads(line) for line in result.stdout.splitlines()]
    lines = records["mixed_bfloat16"]
    assert len(lines) == 5 and all(np.isfinite(line["log_prob"]) for line in lines)
    # The flag reaches the model: bfloat16 arithmetic changes the log-probabilities.
    assert [r["log_prob"] for r in lines] != [r["log_prob"] for r in records["float32"]]
