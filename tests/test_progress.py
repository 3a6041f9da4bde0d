"""Progress bar, JSON lines, metrics.jsonl and TensorBoard callbacks, with fake and tiny real `fit`s."""

import io
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.training.progress import (
    JsonLinesLogger,
    MetricsFile,
    ProgressBar,
    TensorBoardLogger,
)
from seqgan_gumbel.runlog import append_record


class FakeClock:
    def __init__(self, step=0.5):
        self.now = 0.0
        self.step = step

    def __call__(self):
        self.now += self.step
        return self.now


def drive(callback, batches, logs_fn, epochs=1, epoch_logs_fn=None):
    """Calls a callback's hooks as `fit` would, with no model."""
    callback.set_params({"epochs": epochs, "steps": batches})
    callback.on_train_begin()
    for epoch in range(epochs):
        callback.on_epoch_begin(epoch)
        for batch in range(batches):
            callback.on_train_batch_begin(batch)
            callback.on_train_batch_end(batch, logs_fn(epoch * batches + batch))
        callback.on_epoch_end(epoch, epoch_logs_fn(epoch) if epoch_logs_fn else {})
    callback.on_train_end()


def gan_logs(i):
    return {"d_loss": 1.0 + i / 100, "g_loss": 0.5, "beta": 2.0 ** (i / 10)}


def tiny_regression(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")
    return model, x, y


def iterations(model):
    return lambda: int(model.optimizer.iterations.numpy())


# -- ProgressBar ---------------------------------------------------------------


def test_progress_bar_plain_lines_every_ten_percent_with_losses_tau_rate_and_eta():
    stream = io.StringIO()
    bar = ProgressBar("GAN", 20, stream=stream, tty=False, clock=FakeClock())
    drive(bar, 20, gan_logs)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert len(lines) == 10  # 10%, 20%, ..., 100%
    assert lines[0].startswith("GAN  2/20  10%")
    assert lines[-1].startswith("GAN 20/20 100%")
    middle = lines[4]
    assert "10/20" in middle and "50%" in middle
    assert "d_loss 1.09" in middle and "g_loss 0.5" in middle
    assert f"tau {1 / 2.0 ** 0.9:.4g}" in middle
    # The fake clock advances 0.5 s per reading: 2 steps/s, 10 steps left -> 5 s.
    assert "2 steps/s" in middle and "ETA 0:05" in middle


def test_progress_bar_on_a_terminal_redraws_in_place_and_ends_the_line():
    stream = io.StringIO()
    clock = FakeClock(step=0.01)  # faster than min_interval: most redraws are skipped
    bar = ProgressBar("MLE", 100, stream=stream, tty=True, clock=clock, min_interval=0.1)
    drive(bar, 50, lambda i: {"nll": 3.0 - i / 100}, epochs=2, epoch_logs_fn=lambda e: {"nll": 2.5, "val_nll": 2.7})
    text = stream.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    redraws = text.split("\r")[1:]
    assert 5 <= len(redraws) < 40
    final = redraws[-1].strip()
    assert final.startswith("MLE 100/100 100%")
    assert "epoch 2/2" in final and "nll 2.01" in final and "val_nll 2.7" in final and "ETA 0:00" in final
    # A shorter line is padded so that no characters of the longer previous one remain.
    assert all(len(later.rstrip("\n")) >= len(earlier.rstrip()) for earlier, later in zip(redraws, redraws[1:]))


def test_progress_bar_resumes_from_initial_step_across_fits():
    stream = io.StringIO()
    bar = ProgressBar("MLE", 40, stream=stream, tty=False, initial_step=15, clock=FakeClock())
    drive(bar, 5, lambda i: {"nll": 2.0})  # finishes an interrupted epoch: steps 16..20
    drive(bar, 10, lambda i: {"nll": 1.5}, epochs=2)  # then whole epochs: 21..40
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("MLE 16/40  40%")  # 15/40 = 37.5% already done: next boundary is 40%
    assert lines[-1].startswith("MLE 40/40 100%") and "nll 1.5" in lines[-1]
    assert [int(line.split()[1].split("/")[0]) for line in lines] == sorted(
        int(line.split()[1].split("/")[0]) for line in lines)


def test_progress_bar_with_a_real_fit_and_step_fn():
    model, x, y = tiny_regression()
    stream = io.StringIO()
    bar = ProgressBar("MLE", 16, stream=stream, tty=False, step_fn=iterations(model))
    model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[bar], validation_data=(x[:16], y[:16]))
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("MLE 16/16 100%")
    assert "loss" in lines[-1] and "val_loss" in lines[-1] and "steps/s" in lines[-1]


# -- JsonLinesLogger -------------------------------------------------------------


def test_json_lines_have_phase_step_time_and_numbers():
    stream = io.StringIO()
    drive(JsonLinesLogger("GAN", stream=stream, every=2, initial_step=10), 6, gan_logs)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["step"] for r in records] == [12, 14, 16]
    for record in records:
        assert record["phase"] == "gan"
        assert isinstance(record["time"], float) and record["time"] >= 0
        assert {"d_loss", "g_loss", "beta", "temperature"} <= set(record)
        assert record["temperature"] == pytest.approx(1 / record["beta"])


def test_json_lines_write_non_finite_values_as_null_and_skip_non_numbers():
    stream = io.StringIO()
    drive(JsonLinesLogger("mle", stream=stream), 1, lambda i: {"nll": float("nan"), "note": "text"})
    (record,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert record["nll"] is None and "note" not in record


def test_json_lines_log_each_steps_own_loss_not_the_running_mean():
    model, x, y = tiny_regression()
    stream, keras_means = io.StringIO(), io.StringIO()
    callbacks = [JsonLinesLogger("mle", step_fn=iterations(model), stream=stream),
                 JsonLinesLogger("mle", step_fn=iterations(model), stream=keras_means, per_step=False)]
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=callbacks)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    running = [json.loads(line) for line in keras_means.getvalue().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 17))
    # Keras's epoch figure is the mean of the steps' own losses (equal batch sizes).
    for epoch in range(2):
        steps = [r["loss"] for r in records[8 * epoch: 8 * epoch + 8]]
        assert np.mean(steps) == pytest.approx(history.history["loss"][epoch], rel=1e-4)
    # per_step=False logs what Keras reports: the running mean since the epoch began.
    assert running[7]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-6)
    assert running[3]["loss"] == pytest.approx(np.mean([r["loss"] for r in records[:4]]), rel=1e-4)
    assert records[7]["loss"] != pytest.approx(running[7]["loss"], rel=1e-3)


def test_json_lines_every_n_steps_log_the_mean_of_the_interval():
    model, x, y = tiny_regression()
    per_step, every_4 = io.StringIO(), io.StringIO()
    callbacks = [JsonLinesLogger("mle", iterations(model), stream=per_step),
                 JsonLinesLogger("mle", iterations(model), stream=every_4, every=4)]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)
    steps = [json.loads(line)["loss"] for line in per_step.getvalue().splitlines()]
    grouped = [json.loads(line) for line in every_4.getvalue().splitlines()]
    assert [r["step"] for r in grouped] == [4, 8]
    assert grouped[0]["loss"] == pytest.approx(np.mean(steps[:4]), rel=1e-4)
    assert grouped[1]["loss"] == pytest.approx(np.mean(steps[4:]), rel=1e-4)


# -- MetricsFile -------------------------------------------------------------------


def test_metrics_file_appends_across_fits_with_validation_records(tmp_path):
    path = tmp_path / "run" / "metrics.jsonl"
    model, x, y = tiny_regression()
    step = iterations(model)
    append_record(path, {"phase": "eval", "step": 0, "bleu": {"2": 0.5, "3": float("inf")}, "nll_test": np.float32(2.5)})
    for fit in range(2):  # e.g. an interrupted run and its resumption
        callback = MetricsFile(path, "mle", step_fn=step)
        model.fit(x, y, batch_size=16, epochs=fit + 1, initial_epoch=fit, verbose=0, shuffle=False,
                  validation_data=(x[:16], y[:16]), callbacks=[callback])
        assert callback._handle is None  # closed at the end of each fit
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0] == {"phase": "eval", "step": 0, "bleu": {"2": 0.5, "3": None}, "nll_test": 2.5}
    training = [r for r in records[1:] if "loss" in r]
    validation = [r for r in records[1:] if "val_loss" in r]
    assert [r["step"] for r in training] == list(range(1, 9))
    assert [(r["step"], r["epoch"]) for r in validation] == [(4, 1), (8, 2)]
    assert all(r["phase"] == "mle" and "time" in r for r in records[1:])


# -- TensorBoardLogger ---------------------------------------------------------------


def _read_events(log_dir):
    files = sorted(log_dir.glob("events.out.tfevents*"))
    assert files, "no event file written"
    scalars, texts, plugins = {}, {}, {}
    for file in files:
        for event in tf.compat.v1.train.summary_iterator(str(file)):
            for value in event.summary.value:
                array = tf.make_ndarray(value.tensor)
                if value.metadata.plugin_data.plugin_name:  # written with a tag's first event
                    plugins[value.tag] = value.metadata.plugin_data.plugin_name
                if array.dtype == object:
                    texts.setdefault(value.tag, []).append((event.step, array.item().decode()))
                else:
                    scalars.setdefault(value.tag, []).append((event.step, float(array)))
    return scalars, texts, plugins


def test_tensorboard_scalars_text_and_evaluation(tmp_path):
    log_dir = tmp_path / "tensorboard"
    model, x, y = tiny_regression()
    logger = TensorBoardLogger(log_dir, "MLE", step_fn=iterations(model))
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, validation_data=(x[:16], y[:16]),
              callbacks=[logger])
    gan = TensorBoardLogger(log_dir, "gan", every=2)
    drive(gan, 4, gan_logs)
    gan.log_text("gan/samples", ["the dog sees a cat .", "a | b"], step=4)
    gan.log_scalars("eval", {"bleu": {"2": 0.75, "3": 0.5}, "nll_test": 2.25, "references": "test"}, step=4)
    logger.close()
    gan.close()
    scalars, texts, plugins = _read_events(log_dir)
    # The dashboards TensorBoard shows them in (the tensorboard package itself is not needed).
    assert {plugins[tag] for tag in scalars} == {"scalars"} and plugins["gan/samples"] == "text"
    assert [s for s, _ in scalars["mle/loss"]] == list(range(1, 9))
    assert [s for s, _ in scalars["mle/val_loss"]] == [4, 8]
    assert {"gan/d_loss", "gan/g_loss", "gan/beta", "gan/temperature"} <= set(scalars)
    step, tau = scalars["gan/temperature"][-1]
    assert step == 4 and tau == pytest.approx(1 / 2.0 ** 0.3, rel=1e-5)
    assert scalars["eval/bleu/2"] == [(4, 0.75)] and scalars["eval/nll_test"] == [(4, 2.25)]
    assert "eval/references" not in scalars
    (step, text), = texts["gan/samples"]
    assert step == 4 and "the dog sees a cat ." in text


# -- With the package's own models -----------------------------------------------------


def test_with_gumbel_gan_fit(tmp_path):
    from conftest import tiny_sentences
    from seqgan_gumbel.corpus.loading import encode_sentences
    from seqgan_gumbel.corpus.pipelines import adversarial_batches
    from seqgan_gumbel.models import CNNDiscriminator, LSTMGenerator
    from seqgan_gumbel.corpus.tokenizer import Tokenizer
    from seqgan_gumbel.training.adversarial import GumbelGAN
    from seqgan_gumbel.training.callbacks import TemperatureSchedule

    sentences = tiny_sentences(64, 0)
    tok = Tokenizer.fit(sentences)
    ids, _ = encode_sentences(sentences, tok, max_length=8)
    keras.utils.set_random_seed(0)
    gan = GumbelGAN(LSTMGenerator(tok.vocab_size, 9, embedding_dim=4, hidden_dim=8),
                    CNNDiscriminator(tok.vocab_size, 9, embedding_dim=4, num_filters=4), seed=1)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), discriminator_steps=1)
    step = lambda: int(gan.step_counter.numpy())  # noqa: E731
    bar_stream, json_stream = io.StringIO(), io.StringIO()
    history = gan.fit(
        adversarial_batches(ids, 8, gan.real_batches_per_step, seed=0), steps_per_epoch=4, epochs=1, verbose=0, shuffle=False,
        callbacks=[TemperatureSchedule(4, 10.0, "exp"), ProgressBar("GAN", 4, stream=bar_stream, step_fn=step),
                   JsonLinesLogger("gan", step, stream=json_stream), MetricsFile(tmp_path / "m.jsonl", "gan", step)],
    )
    final = bar_stream.getvalue().splitlines()[-1]
    assert final.startswith("GAN 4/4 100%") and "d_loss" in final and "g_loss" in final and "tau 0.1" in final
    records = [json.loads(line) for line in json_stream.getvalue().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert records[-1]["temperature"] == pytest.approx(0.1, rel=1e-5)
    # Per-step values average to Keras's running mean over the (single) epoch.
    for key in ("d_loss", "g_loss"):
        assert np.mean([r[key] for r in records]) == pytest.approx(history.history[key][-1], rel=1e-4)
        assert all(math.isfinite(r[key]) for r in records)
    written = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [(r["step"], r["d_loss"]) for r in written] == [(r["step"], r["d_loss"]) for r in records]
