import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.generation import prefix_to_ids, sample_with_log_probs
from seqgan_gumbel.models import LSTMGenerator
from seqgan_gumbel.corpus.tokenizer import EOS_ID, PAD_ID, Tokenizer
from seqgan_gumbel.evaluation.likelihood import token_nll

from conftest import tiny_generators

V, T = 20, 7


@pytest.fixture(scope="module")
def generator():
    tf.keras.utils.set_random_seed(3)
    g = LSTMGenerator(V, T, embedding_dim=8, hidden_dim=16)
    # Sharpen the output layer so that sampling strategies differ visibly.
    kernel, bias = g.output_projection.get_weights()
    g.output_projection.set_weights([kernel * 8, bias])
    return g


def test_log_probs_equal_the_teacher_forced_likelihood(generator):
    ids, log_probs = sample_with_log_probs(generator, 16, seed=1)
    for row, log_prob in zip(ids, log_probs):
        nll_sum, _ = token_nll(generator, tf.constant(row[None, :]))
        assert log_prob == pytest.approx(-float(nll_sum), rel=1e-4, abs=1e-4)


def test_top_k_one_is_greedy(generator):
    greedy, _ = sample_with_log_probs(generator, 8, temperature=1e-6, seed=1)
    top1, _ = sample_with_log_probs(generator, 8, seed=2, top_k=1)
    np.testing.assert_array_equal(top1, greedy)


def test_tiny_top_p_is_greedy_and_top_p_one_changes_nothing(generator):
    greedy, _ = sample_with_log_probs(generator, 8, temperature=1e-6, seed=1)
    nucleus, _ = sample_with_log_probs(generator, 8, seed=2, top_p=1e-6)
    np.testing.assert_array_equal(nucleus, greedy)
    plain, _ = sample_with_log_probs(generator, 64, seed=4)
    same, _ = sample_with_log_probs(generator, 64, seed=4, top_p=1.0)
    np.testing.assert_array_equal(plain, same)


def test_top_k_restricts_each_step_to_the_k_most_likely_tokens(generator):
    ids, _ = sample_with_log_probs(generator, 200, seed=5, top_k=2)
    first_logits = generator(tf.fill((1, 1), 1))[0, 0].numpy()  # BOS
    allowed = set(np.argsort(first_logits)[-2:])
    assert set(ids[:, 0]) <= allowed


def test_prefix_is_forced(generator):
    ids, _ = sample_with_log_probs(generator, 32, seed=6, prefix_ids=[5, 9, 11])
    assert (ids[:, :3] == [5, 9, 11]).all()
    for row in ids:
        eos = np.flatnonzero(row == EOS_ID)
        if eos.size:
            assert (row[eos[0] + 1:] == PAD_ID).all()


def test_bad_sampling_settings(generator):
    with pytest.raises(UserInputError, match="top-p"):
        sample_with_log_probs(generator, 2, top_p=0.0)
    with pytest.raises(UserInputError, match="top-k"):
        sample_with_log_probs(generator, 2, top_k=-1)
    with pytest.raises(UserInputError, match="prefix has 7 tokens"):
        sample_with_log_probs(generator, 2, prefix_ids=[4] * 7)


def test_prefix_words_must_be_known():
    tok = Tokenizer.fit(["a man riding a horse ."])
    assert prefix_to_ids(tok, "a man riding") == tok.encode("a man riding")
    with pytest.raises(UserInputError, match="'zebra' not in the run's vocabulary"):
        prefix_to_ids(tok, "a zebra")


@pytest.mark.parametrize("kind", ["lstm", "rmc", "transformer"])
def test_sentences_that_end_early_leave_the_batch_without_mixing_rows(kind):
    # EOS made likely, so sentences end at every position and the batch shrinks
    # step by step; each row must still be its own sentence.
    from seqgan_gumbel.models.relational import RelationalMemoryGenerator
    from seqgan_gumbel.models.transformer import TransformerGenerator

    tf.keras.utils.set_random_seed(5)
    g = {
        "lstm": lambda: LSTMGenerator(V, T, embedding_dim=8, hidden_dim=16),
        "rmc": lambda: RelationalMemoryGenerator(V, T, embedding_dim=8, mem_slots=2, num_heads=2, head_size=4),
        "transformer": lambda: TransformerGenerator(V, T, embedding_dim=8, num_layers=1, num_heads=2,
                                                    feedforward_dim=16, dropout=0.0),
    }[kind]()
    kernel, bias = g.output_projection.get_weights()
    bias[EOS_ID] = 2.0
    g.output_projection.set_weights([kernel * 4, bias])
    ids, log_probs = sample_with_log_probs(g, 64, seed=2, batch_size=64)
    lengths = [list(row).index(EOS_ID) + 1 if EOS_ID in row else T for row in ids]
    assert len(set(lengths)) >= 4 and min(lengths) < T - 3
    for row, length in zip(ids, lengths):
        assert np.all(row[length:] == PAD_ID) and not np.any(row[: length - 1] == EOS_ID)
    # Each row's log-probability is its own sentence's: one row of each length
    # (a teacher-forced pass per row; all 64 cost 25 s for the RMC).
    for length in sorted(set(lengths)):
        index = lengths.index(length)
        nll_sum, _ = token_nll(g, tf.constant(ids[index][None, :]))
        assert log_probs[index] == pytest.approx(-float(nll_sum), rel=1e-4, abs=1e-4)



@pytest.mark.parametrize("kind", sorted(tiny_generators()))
def test_eager_generate_survives_a_batch_in_which_every_sentence_ended(kind):
    """Run eagerly, the loop stops when no sentence is writing (an empty batch
    crashed eager kernels); traced, it runs on. Both give the same sentences."""
    tf.keras.utils.set_random_seed(5)
    cls, kwargs = tiny_generators()[kind]
    g = cls(V, T, **kwargs)
    g(tf.zeros((1, T), tf.int32))
    kernel, bias = g.output_projection.get_weights()
    bias[EOS_ID] = 6.0  # most sentences end at once
    g.output_projection.set_weights([kernel, bias])
    traced = tf.function(g.generate)
    for step in range(4):
        seed = tf.constant([step, 1])
        eager_ids = g.generate(2, seed=seed).numpy()
        assert eager_ids.shape == (2, T)
        np.testing.assert_array_equal(eager_ids, traced(2, seed=seed).numpy())

# Probabilities .5/.3/.15/.05 (and mirrored): nucleus sampling keeps the smallest
# set of most likely tokens whose probability reaches p; top-k the k most likely.
@pytest.mark.parametrize("top_k, top_p, kept", [
    (0, 0.5, 1), (0, 0.8, 2), (0, 0.81, 3), (0, 0.95, 3), (0, 0.96, 4), (0, 1.0, 4),
    (1, 1.0, 1), (2, 1.0, 2), (3, 1.0, 3),
    (3, 0.6, 2),  # top-k first: .5/.95 < .6 <= (.5 + .3)/.95
    (2, 0.99, 2), (3, 0.4, 1),
])
def test_top_k_and_top_p_keep_the_right_tokens_of_a_hand_built_row(top_k, top_p, kept):
    from seqgan_gumbel.models.autoregressive import _filter_logits

    probs = np.array([[0.5, 0.3, 0.15, 0.05], [0.05, 0.15, 0.3, 0.5]])
    filtered = _filter_logits(tf.math.log(tf.constant(probs, tf.float32)), top_k, top_p).numpy()
    expected = np.zeros_like(probs, bool)
    expected[0, :kept] = True
    expected[1, 4 - kept:] = True
    np.testing.assert_array_equal(np.isfinite(filtered), expected)
    np.testing.assert_allclose(filtered[expected], np.log(probs[expected]), rtol=1e-6)  # kept logits untouched


@pytest.mark.parametrize("top_k, top_p", [(0, 0.81), (2, 1.0), (3, 0.9)])
def test_filtered_sampling_follows_the_renormalised_probabilities(top_k, top_p):
    from seqgan_gumbel.models.autoregressive import _categorical, _filter_logits

    probs = np.array([0.5, 0.3, 0.15, 0.05])
    rows = 20000
    logits = tf.math.log(tf.constant(np.tile(probs, (rows, 1)), tf.float32))
    filtered = _filter_logits(logits, top_k, top_p)
    tokens = _categorical(filtered, tf.constant([3, 4]), 0).numpy()
    kept = np.isfinite(filtered[0].numpy())
    target = np.where(kept, probs, 0.0) / probs[kept].sum()
    frequency = np.bincount(tokens, minlength=4) / rows
    # Four binomial standard deviations.
    np.testing.assert_allclose(frequency, target, atol=4 * np.sqrt(0.25 / rows))


def test_a_sampled_generator_is_freed_with_its_compiled_sampler():
    """The per-generator sampling graph must not keep its generator alive (a sweep loads many)."""
    import gc
    import weakref

    from seqgan_gumbel.generation import _SAMPLERS, sample_ids

    gc.collect()
    cached = len(_SAMPLERS)
    model = LSTMGenerator(12, 6, embedding_dim=4, hidden_dim=8)
    first = sample_ids(model, 3, seed=1)
    np.testing.assert_array_equal(sample_ids(model, 3, seed=1), first)  # the cached graph, same samples
    assert len(_SAMPLERS) == cached + 1
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None and len(_SAMPLERS) == cached
