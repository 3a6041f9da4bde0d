"""The collapse monitor, its warning, the frontier gap and --keep-best-gan (issue 13)."""

import json
import math
import shutil
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.evaluation.frontier import FRONTIER_TEMPERATURES, frontier_gap, interpolate, keep_best_score
from seqgan_gumbel.generation import sample_ids
from seqgan_gumbel.models import LSTMGenerator
from seqgan_gumbel.corpus.tokenizer import EOS_ID, Tokenizer
from seqgan_gumbel.training.callbacks import BestWeights
from seqgan_gumbel.training.checkpoints import restore_model
from seqgan_gumbel.training.monitor import CollapseMonitor, SampleMonitor, collapse_criteria
from seqgan_gumbel.training.run import train

from conftest import tiny_config, tiny_sentences, write_tiny_corpus


# -- the frontier gap on hand-built curves ------------------------------------------------------


def test_frontier_gap_interpolates_between_curve_points_and_not_beyond():
    curve = [(0.4, 0.20), (0.2, 0.10), (0.6, 0.40)]  # any order: sorted by Self-BLEU
    assert interpolate(curve, 0.3) == pytest.approx(0.15)
    assert interpolate(curve, 0.5) == pytest.approx(0.30)
    assert interpolate(curve, 0.4) == 0.20  # a curve point exactly, so the MLE start's own gap is exactly 0
    assert interpolate(curve, 0.6) == 0.40 and interpolate(curve, 0.2) == 0.10
    assert frontier_gap(curve, 0.3, 0.17) == pytest.approx(0.02)
    assert frontier_gap(curve, 0.3, 0.12) == pytest.approx(-0.03)
    # Outside the measured range no comparison is made: more repetitive, or more diverse, than any MLE point.
    assert frontier_gap(curve, 0.61, 0.9) is None and frontier_gap(curve, 0.19, 0.9) is None
    assert frontier_gap(curve, math.nan, 0.5) is None


def test_keep_best_score_refuses_other_lengths_and_points_off_the_curve():
    curve = [(0.2, 0.10), (0.4, 0.20)]
    assert keep_best_score(curve, 0.3, 0.17, mean_length=10.0, start_length=10.0) == (pytest.approx(0.02), None)
    # Within 10% of the MLE start's mean length is allowed, beyond is not.
    assert keep_best_score(curve, 0.3, 0.17, mean_length=9.0, start_length=10.0)[1] is None
    assert keep_best_score(curve, 0.3, 0.17, mean_length=10.99, start_length=10.0)[1] is None
    score, reason = keep_best_score(curve, 0.3, 0.90, mean_length=8.9, start_length=10.0)
    assert score == -math.inf and "mean length 8.90 not within 10%" in reason
    score, reason = keep_best_score(curve, 0.3, 0.90, mean_length=11.2, start_length=10.0)
    assert score == -math.inf and "not within 10%" in reason
    # High BLEU bought with repetition (Self-BLEU beyond the curve) is refused.
    score, reason = keep_best_score(curve, 0.8, 0.90, mean_length=10.0, start_length=10.0)
    assert score == -math.inf and "outside the MLE curve's range [0.200, 0.400]" in reason


# -- the monitor on a healthy and an all-EOS generator ------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer.fit(tiny_sentences(256, 0))


def _generator(tokenizer):
    keras.utils.set_random_seed(3)
    return LSTMGenerator(tokenizer.vocab_size, 9, embedding_dim=8, hidden_dim=16)


def _force_eos(generator):
    bias = generator.output_projection.bias
    bias.assign(tf.tensor_scatter_nd_update(bias, [[EOS_ID]], [50.0]))


def test_monitor_samples_start_with_the_written_samples(tokenizer):
    generator = _generator(tokenizer)
    monitor = SampleMonitor(tokenizer, 50, seed=7)
    ids = monitor.sample(generator)
    assert ids.shape[0] == 50
    # samples/step-N.txt holds sample_ids(generator, 20, seed): the first 20 monitored samples.
    np.testing.assert_array_equal(ids[:20], sample_ids(generator, 20, seed=7))
    assert monitor.measure(generator) == monitor.measure(generator)  # the same noise every time


def test_collapse_warning_fires_once_on_an_all_eos_generator_and_not_on_a_healthy_one(tokenizer):
    generator = _generator(tokenizer)
    references = [s.split() for s in tiny_sentences(64, 1)]
    monitor = SampleMonitor(tokenizer, 40, seed=1, references=references, reference_name="test")
    start = monitor.measure_start(generator, curve=True)
    assert [p["temperature"] for p in start["curve"]] == list(FRONTIER_TEMPERATURES)
    assert start["mean_length"] > 2 and start["distinct"] > 0.9
    best = BestWeights(generator)
    best.offer(0, 0.0)
    records, warnings = [], []
    callback = CollapseMonitor(monitor, generator, start, every=2, record=lambda step, r: records.append((step, r)),
                               warn=warnings.append, best=best)
    counter = tf.Variable(0, dtype=tf.int64)
    callback.set_model(types.SimpleNamespace(step_counter=counter))

    def step(n):
        counter.assign(n)
        callback.on_train_batch_end(n)

    step(1)  # not a sampling step
    assert records == []
    step(2)  # unchanged: healthy
    assert warnings == [] and "collapse" not in records[-1][1]
    assert records[-1][1]["frontier_gap"] == 0.0 and records[-1][1]["mean_length"] == start["mean_length"]
    _force_eos(generator)
    step(4)
    stats = records[-1][1]
    assert stats["mean_length"] == 0 and stats["distinct"] == 1 / 40
    assert set(stats["collapse"]) >= {"mean_length", "distinct"}
    assert len(warnings) == 1 and "possible collapse at adversarial step 4" in warnings[0]
    assert "mean length 0 (MLE start" in warnings[0]
    # Never kept: its length is far from the start's.
    assert stats["frontier_gap"] == -math.inf and "not within 10%" in stats["refused"]
    assert not stats["best_so_far"] and int(best.epoch.numpy()) == 0
    step(6)
    assert len(warnings) == 1, "warned once"
    assert [s for s, _ in records] == [2, 4, 6]


class _StubMonitor:
    """A SampleMonitor that returns given mean lengths, one per measurement."""

    def __init__(self, lengths):
        self.lengths = list(lengths)

    def measure(self, generator):
        return {"samples": 100, "mean_length": self.lengths.pop(0), "distinct": 1.0, "self_bleu": {"5": 0.3}}


def _run_monitor(lengths, start_length=10.0):
    start = {"samples": 100, "mean_length": start_length, "distinct": 1.0, "self_bleu": {"5": 0.3}}
    records, warnings = [], []
    callback = CollapseMonitor(_StubMonitor(lengths), None, start, every=1,
                               record=lambda step, r: records.append(r), warn=warnings.append)
    for step in range(1, len(lengths) + 1):
        callback.measure(step)
    return records, warnings


def test_a_length_drift_beyond_a_fifth_warns_once_either_way():
    records, warnings = _run_monitor([9.0, 7.9, 7.0, 8.5])
    assert [r.get("length_drift") for r in records] == [None, pytest.approx(-0.21), pytest.approx(-0.3), None]
    assert len(warnings) == 1 and "moved -21% from the MLE start's at adversarial step 2" in warnings[0]
    assert "shorter sentences move BLEU and Self-BLEU together" in warnings[0]
    records, warnings = _run_monitor([10.5, 13.0])
    assert len(warnings) == 1 and "+30%" in warnings[0] and "longer" in warnings[0]
    assert records[1]["length_drift"] == pytest.approx(0.3)
    # Within a fifth: silence (the final verdict still refuses more than 10%).
    assert _run_monitor([8.1, 11.9])[1] == []
    # A collapse warns about the length already: no second warning for the same slide.
    records, warnings = _run_monitor([4.0, 3.0])
    assert len(warnings) == 1 and "possible collapse" in warnings[0]
    assert records[0]["collapse"] == ["mean_length"] and records[0]["length_drift"] == pytest.approx(-0.6)


def test_collapse_criteria_include_diversity():
    start = {"mean_length": 8.0, "distinct": 1.0, "self_bleu": {"5": 0.4}}
    repetitive = {"mean_length": 8.0, "distinct": 0.9, "self_bleu": {"5": 0.75}}  # diversity 0.25 < 0.6 / 2
    assert collapse_criteria(repetitive, start) == ["diversity"]
    assert collapse_criteria(start, start) == []


# -- whole runs ---------------------------------------------------------------------------------


def _monitor_records(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").open() if '"phase": "monitor"' in line]


def test_a_run_records_the_monitor_at_the_sampling_period(api_run, tmp_path):
    run_dir, messages, samples = api_run.run, api_run.messages, api_run.config.training.monitor_samples
    assert api_run.config.training.sample_every == 2 and api_run.config.training.adversarial_steps == 4
    records = _monitor_records(run_dir)
    assert [(r["step"], r["generator"]) for r in records] == [(0, "mle"), (2, "gan"), (4, "gan")]
    for record in records:
        assert record["samples"] == samples and record["temperature"] == 1.0
        assert 0 < record["mean_length"] <= 8 and 0 < record["distinct"] <= 1 and 0 <= record["self_bleu"]["5"] <= 1
        assert "frontier_gap" not in record and "bleu" not in record  # only with --keep-best-gan
    mle = json.loads((run_dir / "metrics_mle.json").read_text())
    assert mle["monitor"]["mean_length"] == records[0]["mean_length"] and "curve" not in mle["monitor"]
    assert not any("possible collapse" in m for m in messages)
    assert any(m.startswith(f"collapse monitor, MLE start ({samples} samples)") for m in messages)
    # TensorBoard has them too.
    from test_progress import _read_events

    scalars, _, _ = _read_events(run_dir / "tensorboard")
    assert [s for s, _ in scalars["monitor/mean_length"]] == [0, 2, 4]
    assert {"monitor/distinct", "monitor/self_bleu/5"} <= set(scalars)
    # And the report.
    from seqgan_gumbel.evaluation.report import write_report

    written = write_report(run_dir, tmp_path / "report")  # beside the shared run, not inside it
    assert "monitor" in written
    assert "## Collapse monitor" in written["report"].read_text()


def _keep_best_config(corpus, test, validation, steps=8, every=2):
    config = tiny_config(corpus, test, adversarial_steps=steps, every=every)
    config.data.validation = str(validation)
    config.training.keep_best_gan = True
    config.training.monitor_samples = 40
    config.training.keep_checkpoints = 50
    return config


@pytest.fixture
def validation(tmp_path):
    path = tmp_path / "validation.txt"
    path.write_text("".join(s + "\n" for s in tiny_sentences(64, 5)))
    return path


@pytest.fixture(scope="module")
def keep_best_run(tmp_path_factory):
    """(run dir, its TrainResult, its log) of one --keep-best-gan run: 8 steps, monitored and checkpointed every 2."""
    folder = tmp_path_factory.mktemp("keep_best")
    corpus, test = write_tiny_corpus(folder)
    validation = folder / "validation.txt"
    validation.write_text("".join(s + "\n" for s in tiny_sentences(64, 5)))
    messages = []
    result = train(_keep_best_config(corpus, test, validation), folder / "run", log=messages.append, progress="none")
    return folder / "run", result, messages


def _checkpoint_generator(run_dir, step, like):
    generator = LSTMGenerator(like.vocab_size, like.sequence_length, embedding_dim=8, hidden_dim=16)
    generator(tf.zeros((1, like.sequence_length), tf.int32))  # built
    restore_model(run_dir / "checkpoints" / f"gan-{step:08d}", "generator", generator)
    return generator


def test_keep_best_gan_ends_with_the_best_monitored_step_and_says_so(keep_best_run):
    run_dir, result, messages = keep_best_run
    records = {r["step"]: r for r in _monitor_records(run_dir)}
    assert sorted(records) == [0, 2, 4, 6, 8]
    assert records[0]["frontier_gap"] == 0.0 and records[0]["references"] == "validation"
    gaps = {step: r["frontier_gap"] if r["frontier_gap"] is not None else -math.inf for step, r in records.items()}
    best = max(sorted(gaps), key=lambda step: (gaps[step], -step))  # the first of the largest
    kept = result.metrics["keep_best_gan"]
    assert kept["step"] == best and kept["frontier_gap"] == pytest.approx(gaps[best])
    assert kept["references"] == "validation"
    assert any(f"--keep-best-gan: keeping adversarial step {best} of 8" in m for m in messages)
    from seqgan_gumbel.cli import format_report

    assert f"--keep-best-gan: the generator of adversarial step {best}" in format_report(
        result.metrics, result.samples, run_dir)
    assert json.loads((run_dir / "metrics.json").read_text())["keep_best_gan"] == kept
    # The saved generator is that step's (step 0: the MLE start), and the final samples come from it.
    from seqgan_gumbel.rundir import RunDirectory

    run = RunDirectory(run_dir)
    final = run.load_generator("generator.keras", run.load_tokenizer())
    expected = _checkpoint_generator(run_dir, best, final)
    for a, b in zip(final.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(a, b)
    if best != 8:
        last = _checkpoint_generator(run_dir, 8, final)
        assert any(not np.array_equal(a, b) for a, b in zip(final.get_weights(), last.get_weights()))
    from seqgan_gumbel.evaluation.report import write_report

    report = write_report(run_dir)["report"].read_text()
    assert f"--keep-best-gan kept adversarial step {best}" in report and "**kept**" in report


def test_keep_best_gan_references_are_validation_else_test_else_training_sentences(tmp_path, tiny_corpus,
                                                                                  validation):
    from seqgan_gumbel.training.prepare import prepare_run
    from seqgan_gumbel.training.run import _monitor_references

    messages = []
    prepared = prepare_run(_keep_best_config(*tiny_corpus, validation), tmp_path / "a")
    references, name = _monitor_references(prepared, messages.append)
    assert name == "validation" and references[0] == prepared.tokenizer.ids_to_tokens(prepared.validation_ids[0])
    assert len(references) == 64 and messages == []
    config = tiny_config(*tiny_corpus)
    config.training.keep_best_gan = True
    held_out = prepare_run(config, tmp_path / "b")  # the default: sentences held out of the corpus
    assert _monitor_references(held_out, messages.append)[1] == "validation" and held_out.held_out == 13
    config.data.validation_split, config.training.pretrain_keep_best = 0.0, False
    assert _monitor_references(prepare_run(config, tmp_path / "b"), messages.append)[1] == "test"
    config.data.test = ""
    references, name = _monitor_references(prepare_run(config, tmp_path / "c"), messages.append)
    assert name == "train" and len(references) == 256
    assert len(messages) == 1 and "measured against the training sentences" in messages[0]


def test_keep_best_gan_needs_monitored_steps(tiny_corpus):
    from seqgan_gumbel.errors import UserInputError

    config = tiny_config(*tiny_corpus)
    config.training.keep_best_gan, config.training.sample_every = True, 0
    with pytest.raises(UserInputError, match="set training.sample_every > 0"):
        config.validate()
    config.training.keep_best_gan, config.training.sample_every, config.training.monitor_samples = False, 2, 1
    with pytest.raises(UserInputError, match="monitor_samples must be at least 2"):
        config.validate()


def test_a_resumed_run_keeps_the_same_step_and_ends_bit_identical(keep_best_run, tmp_path):
    """Killed after the checkpoint of step 4: the monitored steps 2 and 4 were chosen from before
    the kill, 6 and 8 after it, so the choice so far must ride in the checkpoints."""
    from seqgan_gumbel.training.prepare import prepare_resume
    from seqgan_gumbel.training.run import train_prepared

    whole_dir, whole, _ = keep_best_run
    killed = tmp_path / "killed"
    shutil.copytree(whole_dir, killed, ignore=shutil.ignore_patterns("report"))
    for name in ("generator.keras", "discriminator.keras", "metrics.json", "samples/final.txt"):
        (killed / name).unlink()
    for folder in (killed / "checkpoints").glob("gan-*"):
        if int(folder.name.split("-")[1]) > 4:
            shutil.rmtree(folder)
    resumed = train_prepared(prepare_resume(killed), log=lambda m: None, progress="none")
    assert resumed.metrics["keep_best_gan"] == whole.metrics["keep_best_gan"]
    assert resumed.samples == whole.samples
    from seqgan_gumbel.rundir import RunDirectory

    weights = []
    for run_dir in (whole_dir, killed):
        run = RunDirectory(run_dir)
        weights.append(run.load_generator("generator.keras", run.load_tokenizer()).get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_the_train_command_has_the_flag():
    from seqgan_gumbel.cli import build_parser, config_from_args

    args = build_parser().parse_args(["train", "--corpus", "c.txt", "--out", "o", "--keep-best-gan"])
    config = config_from_args(args)
    assert config.training.keep_best_gan and config.training.monitor_samples == 200
    assert not config_from_args(build_parser().parse_args(["train", "--corpus", "c", "--out", "o"])).training.keep_best_gan


def test_the_report_shows_the_monitor_its_collapse_and_the_kept_step(tmp_path):
    from test_report import make_run

    from seqgan_gumbel.evaluation.report import write_report

    run = make_run(tmp_path / "run")
    records = [
        {"phase": "monitor", "step": 0, "generator": "mle", "samples": 200, "mean_length": 9.0, "distinct": 1.0,
         "self_bleu": {"5": 0.3}, "bleu": {"5": 0.5}, "frontier_gap": 0.0, "references": "validation"},
        {"phase": "monitor", "step": 50, "generator": "gan", "samples": 200, "mean_length": 8.8, "distinct": 1.0,
         "self_bleu": {"5": 0.31}, "bleu": {"5": 0.53}, "frontier_gap": 0.02, "best_so_far": True},
        {"phase": "monitor", "step": 100, "generator": "gan", "samples": 200, "mean_length": 2.0, "distinct": 0.2,
         "self_bleu": {"5": 0.0}, "bleu": {"5": 0.1}, "frontier_gap": None, "refused": "mean length 2.00 not within",
         "collapse": ["mean_length", "distinct"], "length_drift": -0.78, "best_so_far": False},
    ]
    with open(run / "metrics.jsonl", "a") as handle:
        handle.write("\n" + "".join(json.dumps(r) + "\n" for r in records))
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["keep_best_gan"] = {"step": 50, "frontier_gap": 0.02, "references": "validation", "samples": 200}
    (run / "metrics.json").write_text(json.dumps(metrics))
    written = write_report(run)
    assert "monitor" in written and written["monitor"].read_bytes()[:4] == b"\x89PNG"
    report = written["report"].read_text()
    assert "--keep-best-gan kept adversarial step 50, frontier gap +0.0200 BLEU-5 against the validation" in report
    assert "| 50 | 8.80 | 100.0% | 0.3100 | 0.5300 | +0.0200 | **kept** (--keep-best-gan) |" in report
    assert "**Possible collapse** from step 100 (mean_length, distinct" in report
    assert "collapse: mean_length, distinct; length -78%; refused: mean length 2.00 not within" in report
    assert "**Length drift** from step 100: the mean length moved -78% from the MLE start's" in report
