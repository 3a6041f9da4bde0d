import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.config import Config
from seqgan_gumbel.corpus.loading import encode_sentences
from seqgan_gumbel.corpus.pipelines import adversarial_batches, mle_batches
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.models import CNNDiscriminator, LSTMGenerator
from seqgan_gumbel.models.multi_representation import MultiRepresentationDiscriminator
from seqgan_gumbel.corpus.tokenizer import Tokenizer
from seqgan_gumbel.training.adversarial import GumbelGAN
from seqgan_gumbel.training.callbacks import PeriodicCheckpoint, TemperatureSchedule
from seqgan_gumbel.training.checkpoints import CheckpointManager, TrainingState
from seqgan_gumbel.training.mle import MLETrainer
from seqgan_gumbel.evaluation.likelihood import LikelihoodEvaluator, negative_log_likelihood, token_nll
from seqgan_gumbel.training.run import train

from conftest import run_cli, tiny_config, tiny_generators, tiny_sentences


@pytest.fixture(scope="module")
def encoded():
    sentences = tiny_sentences(256, 0)
    tok = Tokenizer.fit(sentences)
    ids, _ = encode_sentences(sentences, tok, max_length=8)
    return tok, ids


def _models(vocab_size, seq_len=9):
    keras.utils.set_random_seed(0)
    g = LSTMGenerator(vocab_size, seq_len, embedding_dim=8, hidden_dim=16)
    d = CNNDiscriminator(vocab_size, seq_len, embedding_dim=8, num_filters=8)
    return g, d


def test_token_nll_masks_padding_and_counts_eos(encoded):
    tok, ids = encoded
    g, _ = _models(tok.vocab_size)
    total, count = token_nll(g, tf.constant(ids[:4]))
    assert float(count) == float((ids[:4] != 0).sum())
    # An untrained model is close to uniform over the vocabulary.
    assert float(total / count) == pytest.approx(np.log(tok.vocab_size), rel=0.1)


def test_one_likelihood_evaluator_traces_once_and_scores_the_current_weights(encoded, monkeypatch):
    tok, ids = encoded
    g, _ = _models(tok.vocab_size)
    import seqgan_gumbel.evaluation.likelihood as likelihood

    traces = [0]

    def counted(*args, **kwargs):  # runs once per trace of the evaluation graph
        traces[0] += 1
        return token_nll(*args, **kwargs)

    monkeypatch.setattr(likelihood, "token_nll", counted)
    evaluate = LikelihoodEvaluator(g)
    first, other = evaluate(ids[:64]), evaluate(ids[64:192])
    original = g.get_weights()
    g.set_weights([w * 4.0 for w in original])
    scaled = evaluate(ids[:64])
    assert traces == [1], "one graph for every set and every weight"
    assert scaled == pytest.approx(negative_log_likelihood(g, ids[:64]), rel=1e-6)
    assert abs(scaled - first) > 0.05  # the graph reads the weights of the moment, not those of its trace
    g.set_weights(original)
    assert (first, other) == pytest.approx((negative_log_likelihood(g, ids[:64]), negative_log_likelihood(g, ids[64:192])),
                                           rel=1e-6)


def test_mle_training_lowers_nll(encoded):
    tok, ids = encoded
    g, _ = _models(tok.vocab_size)
    before = negative_log_likelihood(g, ids)
    trainer = MLETrainer(g)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-2))
    traces = _count_traces(trainer)
    history = trainer.fit(mle_batches(ids, 32, seed=0), epochs=3, verbose=0, shuffle=False)
    after = negative_log_likelihood(g, ids)
    assert after < before - 0.5
    assert history.history["nll"][-1] < history.history["nll"][0]
    assert traces == [1], "traced again: compile left the optimizer to build inside the first step"


def _count_traces(model) -> list[int]:
    """Counts the Python calls of `model.train_step` (in graph mode, one per trace) into the returned list."""
    count = [0]
    step = model.train_step

    def counted(data):
        count[0] += 1
        return step(data)

    model.train_step = counted
    return count


def test_adversarial_step_updates_both_networks_and_counts_steps(encoded):
    # Inside fit, with its callbacks, for one loss. That each loss moves the generator
    # the right way is test_adversarial's frozen-discriminator test, for all five.
    loss = "rsgan"
    tok, ids = encoded
    g, d = _models(tok.vocab_size)
    g_before = [w.copy() for w in g.get_weights()]
    d_before = [w.copy() for w in d.get_weights()]
    gan = GumbelGAN(g, d, seed=1)
    gan.compile(keras.optimizers.Adam(1e-3, global_clipnorm=5.0), keras.optimizers.Adam(1e-3), loss=loss, discriminator_steps=2)
    traces = _count_traces(gan)
    history = gan.fit(
        adversarial_batches(ids, 16, gan.real_batches_per_step, seed=0), steps_per_epoch=3, epochs=1, verbose=0, shuffle=False,
        callbacks=[TemperatureSchedule(3, 10.0, "exp")],
    )
    assert int(gan.step_counter.numpy()) == 3
    # Both optimizers built by compile: their slots are not created inside the traced step, which would trace it twice.
    assert traces == [1]
    assert float(gan.inverse_temperature.numpy()) == pytest.approx(10.0)
    assert all(np.isfinite(history.history[k][-1]) for k in ("d_loss", "g_loss"))
    assert any(not np.allclose(a, b) for a, b in zip(g_before, g.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(d_before, d.get_weights()))


def test_discriminator_learns_to_separate_real_from_untrained_fakes(encoded):
    tok, ids = encoded
    g, d = _models(tok.vocab_size)
    gan = GumbelGAN(g, d, seed=2)
    # One discriminator step per iteration, 75 iterations: each step is traced into train_step (seconds apiece).
    gan.compile(keras.optimizers.Adam(1e-9), keras.optimizers.Adam(3e-3), loss="standard", discriminator_steps=1)
    gan.fit(adversarial_batches(ids, 32, gan.real_batches_per_step, seed=0), steps_per_epoch=75, epochs=1, verbose=0, shuffle=False)
    fake, _ = g.sample_relaxed(64, 1.0, seed=tf.constant([9, 9]))
    real_score = float(tf.reduce_mean(tf.sigmoid(d(tf.constant(ids[:64])))))
    fake_score = float(tf.reduce_mean(tf.sigmoid(d(fake))))
    assert real_score > 0.8 and real_score - fake_score > 0.5


def _pair(generator, discriminator, vocab_size, seed, seq_len=9):
    keras.utils.set_random_seed(seed)
    cls, kwargs = tiny_generators()[generator]
    if generator == "transformer":
        kwargs = dict(kwargs, dropout=0.1)  # a dropout RNG in the generator too
    g = cls(vocab_size, seq_len, embedding_dim=kwargs.pop("embedding_dim", 8), **kwargs)
    if discriminator == "cnn":
        d = CNNDiscriminator(vocab_size, seq_len, embedding_dim=8, num_filters=8)
    else:
        d = MultiRepresentationDiscriminator(vocab_size, seq_len, embedding_dim=2, num_representations=4,
                                             num_filters=8, hidden_dim=8, spectral_norm=True)
    d(tf.zeros((1, seq_len), tf.int32))
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    return g, d, g_opt, d_opt


# Everything that evolves must come back, including what TensorFlow's object
# graph does not see in Keras 3 models (weights in Python lists, dropout RNG
# states, spectral-norm vectors): the target models start from other weights.
# Each generator and each discriminator at least once (the variables of a pair are the union of its two models').
@pytest.mark.parametrize("generator, discriminator", [
    ("lstm", "multi_representation"), ("rmc", "cnn"), ("transformer", "multi_representation"),
])
def test_checkpoints_keep_the_newest_and_restore_everything(tmp_path, encoded, generator, discriminator):
    tok, ids = encoded
    g, d, g_opt, d_opt = _pair(generator, discriminator, tok.vocab_size, seed=0)
    gan = GumbelGAN(g, d)
    gan.compile(g_opt, d_opt, discriminator_steps=1, per_representation=discriminator != "cnn", mle_weight=1.0)
    manager = CheckpointManager(tmp_path, keep=2, generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt)
    step = lambda: int(gan.step_counter.numpy())  # noqa: E731
    callback = PeriodicCheckpoint(manager, lambda: TrainingState("gan", 0, step()), step, every=2)
    gan.fit(adversarial_batches(ids, 16, gan.real_batches_per_step, seed=0), steps_per_epoch=3, epochs=1, verbose=0,
            shuffle=False, callbacks=[callback])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gan-00000002", "gan-00000003"]
    folder, state = manager.latest()
    assert state == TrainingState("gan", 0, 3)
    g2, d2, g_opt2, d_opt2 = _pair(generator, discriminator, tok.vocab_size, seed=1)
    CheckpointManager(tmp_path, 2, generator=g2, discriminator=d2, g_opt=g_opt2, d_opt=d_opt2).restore(folder)
    assert int(g_opt2.iterations.numpy()) == 3
    for source, target in [(g, g2), (d, d2), (g_opt, g_opt2), (d_opt, d_opt2)]:
        assert len(source.variables) == len(target.variables)
        for a, b in zip(source.variables, target.variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


def test_a_checkpoint_that_lacks_a_variable_is_refused(tmp_path):
    """A checkpoint from different models (or an older, incomplete format) must not half-restore."""
    CheckpointManager(tmp_path, keep=1, step=tf.Variable(1)).save(TrainingState("mle", 1, 0))
    folder, _ = CheckpointManager(tmp_path, keep=1).latest()
    with pytest.raises(UserInputError, match="cannot restore the checkpoint"):
        CheckpointManager(tmp_path, 1, step=tf.Variable(0), other=tf.Variable(0)).restore(folder)


def test_a_kill_while_pruning_leaves_no_half_deleted_checkpoint(tmp_path, monkeypatch):
    """Pruning renames a checkpoint away before deleting it: a kill mid-deletion
    must not leave a folder with the checkpoint's name and half its files."""
    import seqgan_gumbel.training.checkpoints as checkpoints

    manager = CheckpointManager(tmp_path, keep=1, step=tf.Variable(1))
    manager.save(TrainingState("mle", 10, 0))

    def killed_midway(path, ignore_errors=False):
        (Path(path) / "state.json").unlink()  # the first file goes, then the process dies
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.shutil, "rmtree", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        manager.save(TrainingState("gan", 10, 0))
    visible = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert visible == ["gan-00000000"]
    assert manager.latest()[1] == TrainingState("gan", 10, 0)


def test_an_incomplete_checkpoint_folder_is_ignored(tmp_path):
    (tmp_path / "gan-00000009").mkdir()  # killed before state.json: never renamed into place
    (tmp_path / ".gan-00000010.tmp-x").mkdir()
    manager = CheckpointManager(tmp_path, keep=2, step=tf.Variable(1))
    assert manager.latest() is None
    manager.save(TrainingState("mle", 3, 0))
    assert manager.latest()[1] == TrainingState("mle", 3, 0)


def _tiny_config(corpus, test=None) -> Config:
    return tiny_config(corpus, test)


def test_train_writes_a_complete_run_directory(api_run):
    config, run, result = api_run.config, api_run.run, api_run.result
    for name in ["config.json", "vocab.json", "corpus_stats.json", "generator_mle.keras", "generator.keras",
                 "discriminator.keras", "metrics.json", "samples/pretrained.txt", "samples/step-000002.txt",
                 "samples/final.txt", "checkpoints/gan-00000004/state.json", "metrics_mle.json"]:
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["bleu"]) == {"2", "3", "4", "5"} == set(metrics["self_bleu"])
    assert metrics["nll_test"] > 0 and metrics["nll_train"] > 0
    _reported_bleu_matches_the_samples(result, run, config)
    assert metrics["num_samples"] == 50 and metrics["num_references"] == 64
    assert metrics == result.metrics
    assert len(result.samples) == 50
    assert Config.load(run / "config.json") == config


def test_same_seed_same_run(api_run, tmp_path):
    config, first = api_run.config, api_run.result
    again = train(Config.from_dict(config.to_dict()), tmp_path / "again", log=lambda m: None, progress="none")
    assert again.samples == first.samples
    timings = {"pretrain_seconds", "train_seconds"}
    assert {k: v for k, v in again.metrics.items() if k not in timings} == {
        k: v for k, v in first.metrics.items() if k not in timings
    }  # BLEU, NLL_test and NLL_train (the losses) identical


def test_grammar_corpus_report_includes_validity(tmp_path):
    from conftest import REPO_ROOT

    corpus = tmp_path / "arithmetic.txt"  # the first 512 expressions: the validity report is the point, not the size
    lines = (REPO_ROOT / "data" / "arithmetic" / "train.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    corpus.write_text("".join(lines[:512]), encoding="utf-8")
    config = _tiny_config(corpus)
    config.data.max_length = 9  # two thirds of the expressions (tracing the sampling loop costs per position)
    config.data.grammar = str(REPO_ROOT / "data" / "arithmetic.pcfg")
    config.training.pretrain_epochs = 1
    result = train(config, tmp_path / "run", log=lambda m: None, progress="none")
    from seqgan_gumbel.corpus.grammar import GrammarChecker, load_grammar

    checker = GrammarChecker(load_grammar(config.data.grammar))
    expected = checker.validity([s.split() for s in result.samples])
    assert result.metrics["grammar_validity"] == pytest.approx(expected)
    assert 0.0 <= result.metrics["mle"]["grammar_validity"] <= 1.0


def _reported_bleu_matches_the_samples(result, run_dir, config):
    """The saved generator, loaded in safe mode and sampled with the run's seed (as `generate` does), writes the
    report's samples, and the report's BLEU is theirs against the test sentences."""
    from seqgan_gumbel.generation import decode_all, sample_ids
    from seqgan_gumbel.metrics.bleu import bleu
    from seqgan_gumbel.rundir import RunDirectory

    run = RunDirectory(run_dir)
    tokenizer = run.load_tokenizer()
    generator = keras.saving.load_model(run_dir / "generator.keras", safe_mode=True, compile=False)
    ids = sample_ids(generator, config.training.num_eval_samples, seed=config.training.seed)
    assert decode_all(tokenizer, ids) == result.samples
    hypotheses = [tokenizer.ids_to_tokens(row) for row in ids]
    references = [tokenizer.tokenize(s) for s in Path(config.data.test).read_text(encoding="utf-8").splitlines()]
    expected = bleu(hypotheses, references).scores
    assert {n: result.metrics["bleu"][str(n)] for n in expected} == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("setup", ["transformer", "relgan"])
def test_every_generator_type_trains_end_to_end(tmp_path, tiny_corpus, setup):
    """The transformer with the defaults (straight-through, the NLL anchor), and RelGAN's own configuration
    (the RMC generator): multi-representation discriminator with spectral norm, RSGAN per representation,
    relaxed one-hots, gradient clipping."""
    train_file, test_file = tiny_corpus
    config = _tiny_config(train_file, test_file)
    config.generator.type = "rmc" if setup == "relgan" else setup
    config.generator.mem_slots, config.generator.num_heads, config.generator.head_size = 1, 2, 8
    config.generator.num_layers, config.generator.feedforward_dim = 1, 16
    # One discriminator step: tracing each unrolled step of these generators costs seconds.
    config.training.pretrain_epochs, config.training.adversarial_steps, config.training.discriminator_steps = 1, 2, 1
    if setup == "relgan":
        config.discriminator.type = "multi_representation"
        config.discriminator.embedding_dim, config.discriminator.num_representations = 2, 4
        config.discriminator.spectral_norm = True
        config.training.loss, config.training.grad_clip, config.training.mle_weight = "rsgan", 5.0, 0.0
        config.training.straight_through = False  # RelGAN's relaxed vectors (the defaults send hard one-hots)
        config.training.generator_learning_rate = 1e-2
    result = train(config, tmp_path / "run", log=lambda m: None, progress="none")
    _reported_bleu_matches_the_samples(result, tmp_path / "run", config)  # samples the saved generator
    if setup == "relgan":
        # The adversarial steps moved the generator away from its MLE start.
        import keras as k

        mle, gan = (k.saving.load_model(tmp_path / "run" / name, safe_mode=True, compile=False)
                    for name in ("generator_mle.keras", "generator.keras"))
        assert any(not np.array_equal(a, b) for a, b in zip(mle.get_weights(), gan.get_weights()))
        losses = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
        assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in losses if r.get("phase") == "gan"
                   and "d_loss" in r)


def test_pretrained_generator_skips_mle(tmp_path, trained_run):
    from seqgan_gumbel.rundir import RunDirectory

    config = RunDirectory(trained_run.run).load_config()  # the shared run's settings, seed and test file
    config.training.pretrained_generator = str(trained_run.run / "generator_mle.keras")
    messages = []
    second = train(config, tmp_path / "second", log=messages.append, progress="none")
    assert any("MLE pretraining skipped" in m for m in messages)
    assert not any(line.startswith('{"phase": "mle"') for line in (tmp_path / "second" / "metrics.jsonl").open())
    # Same starting generator, so the MLE report is the same.
    first = json.loads((trained_run.run / "metrics.json").read_text())
    assert second.metrics["mle"]["bleu"] == first["mle"]["bleu"]


def test_a_vocabulary_file_gives_the_run_its_ids(tmp_path, tiny_corpus):
    from seqgan_gumbel.training.prepare import prepare_run

    train_file, _ = tiny_corpus
    words = sorted({w for s in tiny_sentences(256, 0) for w in s.split()}) + ["never_seen"]
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("".join(w + "\n" for w in reversed(words)))
    config = _tiny_config(train_file)
    config.data.vocabulary = str(vocab_file)
    prepared = prepare_run(config, tmp_path / "run")
    assert prepared.tokenizer.vocabulary.tokens[4:] == list(reversed(words))
    assert prepared.train_stats.unknown_tokens == 0


def test_xla_for_mle_follows_the_setting_replicas_and_precision():
    from seqgan_gumbel.training.run import xla_for_mle

    config = Config()
    assert xla_for_mle(config)
    assert not xla_for_mle(config, num_replicas=2)
    config.training.xla_pretraining = False
    assert not xla_for_mle(config)
    config.training.xla_pretraining, config.training.precision = True, "mixed_bfloat16"
    assert xla_for_mle(config) == bool(tf.config.list_physical_devices("GPU"))


def test_best_weights_keep_the_lowest_epoch_and_never_a_nan_one():
    from seqgan_gumbel.training.callbacks import BestWeights, KeepBestWeights

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    best = BestWeights(model)
    keeper = KeepBestWeights(best, "val_nll")
    keeper.set_model(model)
    assert not best.found
    first = model.get_weights()
    keeper.on_epoch_end(0, {"val_nll": 2.0})
    for epoch, value in [(1, 3.0), (2, float("nan")), (3, 2.0)]:  # worse, NaN, a tie: none replaces epoch 1
        model.set_weights([w + epoch for w in first])
        keeper.on_epoch_end(epoch, {"val_nll": value})
    assert int(best.epoch.numpy()) == 1 and float(best.best.numpy()) == 2.0
    best.restore()
    for kept, original in zip(model.get_weights(), first):
        np.testing.assert_array_equal(kept, original)
    with pytest.raises(KeyError, match="val_nll"):
        keeper.on_epoch_end(4, {"nll": 1.0})


def _keep_best_config(tmp_path, tiny_corpus, patience: int) -> Config:
    """Five MLE epochs kept by validation NLL on a corpus whose best epoch is not the last."""
    validation = tmp_path / "validation.txt"
    # Reversed sentences: their NLL falls while the model learns the word
    # frequencies and rises once it learns the word order, so the best epoch is not the last.
    validation.write_text("".join(" ".join(reversed(s.split())) + "\n" for s in tiny_sentences(64, 9)))
    config = _tiny_config(*tiny_corpus)
    config.data.validation = str(validation)
    config.training.pretrain_keep_best = True
    config.training.pretrain_epochs = 5
    config.training.pretrain_patience = patience
    config.training.pretrain_lr_decay = 0.0  # the restore and the stop alone; the decay test sets its own
    config.training.keep_checkpoints = 50  # the MLE epochs' checkpoints stay beside the adversarial ones
    return config


@pytest.mark.parametrize("patience", [0, 1])
def test_keep_best_mle_ends_pretraining_with_the_lowest_validation_epoch(tmp_path, tiny_corpus, patience):
    """Every epoch runs with patience 0; with patience 1 pretraining stops one epoch after its best."""
    config = _keep_best_config(tmp_path, tiny_corpus, patience)
    messages = []
    result = train(config, tmp_path / "run", log=messages.append, progress="none")
    epochs = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open() if '"val_nll"' in line]
    values = [r["val_nll"] for r in epochs]
    best_epoch = int(np.argmin(values)) + 1
    assert best_epoch < 4, "the best epoch is too late: the test would not show the restore or the stop"
    last = 5 if patience == 0 else best_epoch + patience
    assert [r["epoch"] for r in epochs] == list(range(1, last + 1))
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").open() if '"mle"' in line]
    assert max(steps) == epochs[-1]["step"], "no MLE step after the last epoch that ran"
    assert result.metrics["mle"].get("stopped_epoch") == (None if patience == 0 else last)
    assert any(f"stopped after epoch {last} of 5" in m for m in messages) == (patience > 0)
    assert result.metrics["mle"]["best_epoch"] == best_epoch
    assert result.metrics["mle"]["best_validation_nll"] == pytest.approx(min(values), abs=1e-6)
    assert any(f"keeping epoch {best_epoch} of 5" in m for m in messages)
    # The saved MLE generator is that epoch's: its validation NLL is the logged minimum.
    from seqgan_gumbel.rundir import RunDirectory
    from seqgan_gumbel.training.prepare import prepare_run

    run = RunDirectory(tmp_path / "run")
    generator = run.load_generator("generator_mle.keras", run.load_tokenizer())
    ids = prepare_run(config, tmp_path / "unused").validation_ids
    assert negative_log_likelihood(generator, ids) == pytest.approx(min(values), abs=1e-4)
    if patience:
        # Killed between the stopping epoch's checkpoint and the adversarial phase's first: the resumed
        # run must not train the epochs the uninterrupted one skipped.
        for folder in run.checkpoints.glob("gan-*"):
            shutil.rmtree(folder)
        mle_weights = generator.get_weights()
        assert run_cli("train", "--resume", "--out", tmp_path / "run", "-q").returncode == 0
        again = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open() if '"val_nll"' in line]
        assert again == epochs
        resumed = run.load_generator("generator_mle.keras", run.load_tokenizer())
        for a, b in zip(resumed.get_weights(), mle_weights):
            np.testing.assert_array_equal(a, b)


def test_decay_on_plateau_goes_back_to_the_best_weights_with_a_smaller_learning_rate():
    from seqgan_gumbel.training.callbacks import BestWeights, DecayOnPlateau, KeepBestWeights

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    optimizer = keras.optimizers.Adam(0.1)
    best, messages = BestWeights(model), []
    keeper, decay = KeepBestWeights(best, "val_nll"), DecayOnPlateau(best, optimizer, 0.5, messages.append)
    for callback in (keeper, decay):
        callback.set_model(model)
    first = model.get_weights()
    keeper.on_epoch_end(0, {"val_nll": 2.0})
    decay.on_epoch_end(0)  # a new best: nothing changes
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.1) and not messages
    model.set_weights([w + 1 for w in first])
    keeper.on_epoch_end(1, {"val_nll": 3.0})
    decay.on_epoch_end(1)
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.05)
    for kept, original in zip(model.get_weights(), first):
        np.testing.assert_array_equal(kept, original)
    assert messages == ["MLE pretraining: epoch 2 set no lower validation NLL: back to epoch 1's weights, "
                        "learning rate 0.05"]
    for factor in (0.0, 1.0):
        with pytest.raises(ValueError, match="in \\(0, 1\\)"):
            DecayOnPlateau(best, optimizer, factor)


def test_mle_lr_decay_lowers_the_rate_after_each_epoch_without_a_new_best_and_resumes_exactly(tmp_path, tiny_corpus):
    from seqgan_gumbel.rundir import RunDirectory

    config = _keep_best_config(tmp_path, tiny_corpus, patience=0)
    config.training.pretrain_lr_decay = 0.5
    messages = []
    result = train(config, tmp_path / "run", log=messages.append, progress="none")
    metrics_file = tmp_path / "run" / "metrics.jsonl"
    epochs = [json.loads(line) for line in metrics_file.open() if '"val_nll"' in line]
    values = [r["val_nll"] for r in epochs]
    plateaus = [i + 1 for i in range(1, len(values)) if not values[i] < min(values[:i])]
    assert plateaus, "no epoch without a new best: the test would not show a decay"
    decays = [m for m in messages if "set no lower validation NLL" in m]
    assert [m.split()[3] for m in decays] == [str(e) for e in plateaus]
    rate = config.training.pretrain_learning_rate * 0.5 ** len(plateaus)
    assert result.metrics["mle"]["final_learning_rate"] == pytest.approx(rate, rel=1e-5)
    assert result.metrics["mle"]["best_validation_nll"] == pytest.approx(min(values), abs=1e-6)
    # Killed after the first lowered epoch's checkpoint: the resumed epochs run at the lowered rate from the
    # best weights, as the uninterrupted ones did (both are in the checkpoint).
    run = RunDirectory(tmp_path / "run")
    steps_per_epoch = epochs[0]["step"]
    for folder in run.checkpoints.iterdir():
        if folder.name.startswith("gan-") or (folder.name.startswith("mle-")
                                               and int(folder.name[4:]) > plateaus[0] * steps_per_epoch):
            shutil.rmtree(folder)
    assert run_cli("train", "--resume", "--out", tmp_path / "run", "-q").returncode == 0
    again = [json.loads(line) for line in metrics_file.open() if '"val_nll"' in line]
    # metrics.jsonl keeps the killed run's records and appends the resumed ones: the last of each epoch counts.
    assert {r["epoch"]: r["val_nll"] for r in again} == {r["epoch"]: r["val_nll"] for r in epochs}
    assert [r["epoch"] for r in again[len(epochs):]] == list(range(plateaus[0] + 1, len(epochs) + 1))
    resumed = json.loads((tmp_path / "run" / "metrics_mle.json").read_text())
    assert resumed["final_learning_rate"] == result.metrics["mle"]["final_learning_rate"]


def test_the_validation_split_holds_out_the_same_sentences_whatever_the_seed(tmp_path, tiny_corpus):
    from seqgan_gumbel.corpus.loading import encode_sentences
    from seqgan_gumbel.training.prepare import prepare_run

    config = _tiny_config(*tiny_corpus)
    prepared = prepare_run(config, tmp_path / "a")
    everything, _ = encode_sentences(prepared.sentences, prepared.tokenizer, config.data.max_length)
    held = round(0.05 * len(everything))
    assert prepared.held_out == held == len(prepared.validation_ids)
    assert len(prepared.train_ids) == len(everything) - held
    rows = lambda ids: sorted(map(tuple, ids.tolist()))  # noqa: E731
    assert rows(np.concatenate([prepared.train_ids, prepared.validation_ids])) == rows(everything)
    assert prepared.corpus_record()["validation_held_out_from_train"] == held
    assert prepared.validation_stats.kept == held and prepared.mle_validation_ids is prepared.validation_ids
    config.training.seed += 1
    np.testing.assert_array_equal(prepare_run(config, tmp_path / "b").validation_ids, prepared.validation_ids)
    config.data.validation = str(tiny_corpus[1])  # a validation file: nothing is held out
    own = prepare_run(config, tmp_path / "c")
    assert own.held_out == 0 and len(own.train_ids) == len(everything)


def test_keep_best_mle_refuses_to_select_on_the_test_corpus(tiny_corpus):
    from seqgan_gumbel.errors import UserInputError

    config = _tiny_config(*tiny_corpus)
    config.training.pretrain_keep_best = True
    config.data.validation_split = 0.0  # nothing held out of the corpus: only the test corpus is left
    with pytest.raises(UserInputError, match="--validation FILE"):
        config.validate()
    config.training.pretrain_keep_best = False
    config.validate()
