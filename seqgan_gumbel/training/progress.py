"""Watching training: a live progress bar, JSON lines, metrics.jsonl and TensorBoard.

All four are Keras callbacks that work across several `fit` calls (a resumed
MLE run finishes its interrupted epoch in one `fit` and continues in
another) and know the global step, either from `step_fn` (e.g. the
optimizer's iteration count or `GumbelGAN.step_counter`) or by counting
batches from `initial_step`.

Keras reports a metric such as "nll" or "d_loss" as the running mean since
the start of the epoch (and a whole adversarial run is one epoch). The
record-writing callbacks (`JsonLinesLogger`, `MetricsFile`,
`TensorBoardLogger`) instead log the mean over the steps since their
previous record, read exactly from the model's `Mean` metrics, so that
``every=1`` gives each step's own loss. Models without such metrics (or with
``per_step=False``) are logged as Keras reports them. The progress bar shows
Keras's running means, as Keras's own bar does.

The records are `seqgan_gumbel.runlog`'s (its docstring shows them): the
phase given to the callback, the step, and "time", seconds since
`start_time` (by default the callback's creation).

Why not Keras's own: `keras.utils.Progbar` prints to stdout (which the
command line keeps for results) and, when that is not a terminal, either a
new line every 0.05 s or nothing until the end, with no temperature; and
`keras.callbacks.TensorBoard` writes Keras's running epoch means at each
`fit`'s own batch count, not each interval's mean at the run's global step,
and no sample text. The event files here are written with `tf.summary`.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, TextIO

import keras

from seqgan_gumbel.runlog import encode_record, step_record


def _numeric_logs(logs: dict | None) -> dict[str, float]:
    """The numeric values of Keras logs as Python floats (others dropped)."""
    values = {}
    for name, value in (logs or {}).items():
        if isinstance(value, bool):
            continue
        try:
            values[name] = float(value)
        except (TypeError, ValueError):
            continue
    return values


def _with_temperature(values: dict[str, float]) -> dict[str, float]:
    """Adds temperature = 1/beta when the logs carry the inverse temperature."""
    beta = values.get("beta")
    if beta is not None and "temperature" not in values and beta != 0 and math.isfinite(beta):
        values["temperature"] = 1.0 / beta
    return values


class _StepTracking(keras.callbacks.Callback):
    """The global step across `fit` calls: `step_fn()` or batches counted from `initial_step`."""

    def __init__(self, phase: str, step_fn: Callable[[], int] | None = None, initial_step: int = 0):
        super().__init__()
        self.phase = phase
        self.step_fn = step_fn
        self._counted = int(initial_step)

    def _count_batch(self) -> None:
        self._counted += 1

    def current_step(self) -> int:
        """The number of steps done so far (after the current batch, inside `on_train_batch_end`)."""
        return int(self.step_fn()) if self.step_fn is not None else self._counted


class _RecordLogger(_StepTracking):
    """Shared by the record writers: per-step values, `every`, epoch-end val_* records."""

    def __init__(self, phase: str, step_fn: Callable[[], int] | None = None, every: int = 1,
                 initial_step: int = 0, start_time: float | None = None, per_step: bool = True):
        super().__init__(phase, step_fn, initial_step)
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every
        self.per_step = per_step
        self.start_time = time.perf_counter() if start_time is None else start_time
        self._snapshots: dict[str, tuple[float, float]] = {}

    # -- subclasses implement --------------------------------------------
    def write_record(self, record: dict) -> None:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------
    def _mean_metrics(self) -> dict:
        """The model's Mean-like metrics (with `total` and `count` variables) by name."""
        metrics = {}
        try:
            candidates = list(getattr(self.model, "metrics", None) or [])
        except Exception:  # a model that is not built yet, or a fake one.
            return metrics
        for metric in candidates:
            if hasattr(metric, "total") and hasattr(metric, "count") and hasattr(metric, "name"):
                metrics[metric.name] = metric
        return metrics

    def _interval_values(self, logs: dict | None) -> dict[str, float]:
        """Numeric logs, with running means replaced by the mean since the last record."""
        values = _numeric_logs(logs)
        if not self.per_step:
            return values
        for name, metric in self._mean_metrics().items():
            if name not in values:
                continue
            try:
                total = float(metric.total.numpy())
                count = float(metric.count.numpy())
            except Exception:
                continue
            last_total, last_count = self._snapshots.get(name, (0.0, 0.0))
            if count < last_count:  # the metric was reset since (a new epoch or fit)
                last_total, last_count = 0.0, 0.0
            if count > last_count:
                values[name] = (total - last_total) / (count - last_count)
            self._snapshots[name] = (total, count)
        return values

    def _record(self, step: int, values: dict) -> dict:
        return step_record(self.phase, step, time.perf_counter() - self.start_time, values)

    # -- Keras hooks -----------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        # Keras resets the metrics before each epoch; the snapshots go with them.
        self._snapshots = {}

    def on_train_batch_end(self, batch, logs=None):
        self._count_batch()
        step = self.current_step()
        steps_per_epoch = (self.params or {}).get("steps")
        last_of_epoch = steps_per_epoch is not None and batch + 1 >= steps_per_epoch
        if step % self.every == 0 or last_of_epoch:
            # The last batch of an epoch is always logged: validation and the next
            # epoch reset the metrics, so the steps since the last record would be lost.
            self.write_record(self._record(step, _with_temperature(self._interval_values(logs))))

    def on_epoch_end(self, epoch, logs=None):
        validation = {k: v for k, v in _numeric_logs(logs).items() if k.startswith("val_")}
        if validation:
            record = self._record(self.current_step(), {"epoch": int(epoch) + 1})
            record.update(validation)
            self.write_record(record)


class ProgressBar(_StepTracking):
    """A one-line live progress bar: phase, step/total, percent, losses, tau, steps/s, ETA.

    On a terminal the line is redrawn in place (carriage return, at most every
    `min_interval` seconds) and ended with a newline when a `fit` ends. On
    anything else (CI logs, files) a plain line is printed each time another
    `percent_every` percent of the steps is done, and at the end.

    Use with ``fit(..., verbose=0)`` so that Keras's own bar stays off.

    Args:
        phase: shown first, e.g. "MLE" or "GAN".
        total_steps: the phase's total steps (MLE: epochs * steps_per_epoch).
        stream: where the bar goes; None means sys.stderr at the time of writing.
        initial_step: steps already done (a resumed run); used when `step_fn` is None.
        step_fn: returns the global step count; None counts batches from `initial_step`.
        tty: force terminal (True) or plain-line (False) output; None asks `stream.isatty()`.
        min_interval: the shortest time between two terminal redraws, in seconds.
        percent_every: the plain-line period, in percent of `total_steps`.
        clock: returns seconds (for tests); time.perf_counter by default.
    """

    _LOSS_KEYS = ("nll", "val_nll", "d_loss", "g_loss", "loss", "val_loss")
    _BAR_WIDTH = 20

    def __init__(self, phase: str, total_steps: int, stream: TextIO | None = None, initial_step: int = 0,
                 step_fn: Callable[[], int] | None = None, tty: bool | None = None, min_interval: float = 0.1,
                 percent_every: float = 10.0, clock: Callable[[], float] = time.perf_counter):
        super().__init__(phase, step_fn, initial_step)
        self.total_steps = max(int(total_steps), 0)
        self._stream = stream
        self._tty = tty
        self.min_interval = min_interval
        self.percent_every = percent_every
        self.clock = clock
        self._values: dict[str, float] = {}
        self._line_open = False
        self._last_width = 0
        self._last_draw = -math.inf
        self._next_percent = percent_every
        self._rate_start: tuple[int, float] | None = None
        self._rate: float | None = None
        self._epoch: int | None = None
        self._last_printed_step: int | None = None

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def _is_tty(self) -> bool:
        if self._tty is not None:
            return self._tty
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError):
            return False

    # -- formatting ------------------------------------------------------
    def format_line(self, step: int) -> str:
        """The progress text for `step` done (without carriage return or newline).

        Returns:
            e.g. "GAN  40/150  27% [#####...............] d_loss 1.23 g_loss 0.712
            tau 0.244 | 5.1 steps/s ETA 0:22".
        """
        total = self.total_steps
        fraction = min(step / total, 1.0) if total else 1.0
        filled = int(round(fraction * self._BAR_WIDTH))
        width = len(str(total))
        parts = [f"{self.phase:<3} {step:>{width}}/{total} {fraction:4.0%}",
                 "[" + "#" * filled + "." * (self._BAR_WIDTH - filled) + "]"]
        epochs = (self.params or {}).get("epochs")
        if self._epoch is not None and epochs and epochs > 1:
            parts.append(f"epoch {self._epoch}/{epochs}")
        for key in self._LOSS_KEYS:
            if key in self._values:
                parts.append(f"{key} {_short(self._values[key])}")
        beta = self._values.get("beta")
        if beta:
            parts.append(f"tau {_short(1.0 / beta)}")
        speed = []
        if self._rate:
            speed.append(f"{self._rate:.3g} steps/s")
            remaining = max(total - step, 0)
            speed.append(f"ETA {_duration(remaining / self._rate)}")
        elif step < total:
            speed.append("ETA ?")
        if speed:
            parts.append("| " + " ".join(speed))
        return " ".join(parts)

    def _draw(self, step: int, force: bool = False, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        if self._is_tty():
            if not force and now - self._last_draw < self.min_interval:
                return
            line = self.format_line(step)
            padding = " " * max(self._last_width - len(line), 0)
            self.stream.write("\r" + line + padding)
            self.stream.flush()
            self._last_width = len(line)
            self._line_open = True
        else:
            percent = 100.0 * step / self.total_steps if self.total_steps else 100.0
            if not force and percent < self._next_percent:
                return
            while self._next_percent <= percent:
                self._next_percent += self.percent_every
            self.stream.write(self.format_line(step) + "\n")
            self.stream.flush()
        self._last_draw = now
        self._last_printed_step = step

    def _update_rate(self, step: int, now: float) -> None:
        if self._rate_start is None:
            # Measured from the end of the first batch: it carries the tracing time.
            self._rate_start = (step, now)
            return
        first_step, first_time = self._rate_start
        if step > first_step and now > first_time:
            self._rate = (step - first_step) / (now - first_time)

    # -- Keras hooks -----------------------------------------------------
    def on_train_begin(self, logs=None):
        self._rate_start = None
        self._rate = None
        self._last_draw = -math.inf
        self._next_percent = self.percent_every
        if not self._is_tty():
            # A resumed run starts past 0%: continue from the next boundary.
            done = 100.0 * self.current_step() / self.total_steps if self.total_steps else 0.0
            while self._next_percent <= done:
                self._next_percent += self.percent_every

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = int(epoch) + 1

    def on_train_batch_end(self, batch, logs=None):
        self._count_batch()
        self._values.update(_numeric_logs(logs))
        step = self.current_step()
        now = self.clock()
        self._update_rate(step, now)
        self._draw(step, force=step >= self.total_steps and self._is_tty(), now=now)

    def on_epoch_end(self, epoch, logs=None):
        validation = {k: v for k, v in _numeric_logs(logs).items() if k.startswith("val_")}
        if validation:
            self._values.update(validation)
            if self._is_tty():
                self._draw(self.current_step(), force=True)

    def on_train_end(self, logs=None):
        step = self.current_step()
        if self._is_tty() or self._last_printed_step != step:
            self._draw(step, force=True)
        self.close()

    def close(self) -> None:
        """Ends an open terminal line (e.g. before an error message after an exception)."""
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False
            self._last_width = 0


class JsonLinesLogger(_RecordLogger):
    """Writes one JSON object per step (or every `every` steps) to a stream, for ``--log-format jsonl``.

    See the module docstring for the records.

    Args:
        phase: the record's "phase", e.g. "mle" or "gan" (lower-cased).
        step_fn: returns the global step count; None counts batches from `initial_step`.
        stream: where lines go; None means sys.stderr at the time of writing.
        every: the period in steps (the last batch of each epoch is always logged).
        initial_step: steps already done, when `step_fn` is None.
        start_time: a `time.perf_counter()` value that "time" counts from (default: now).
        per_step: log each interval's own mean instead of Keras's running epoch mean.
    """

    def __init__(self, phase: str, step_fn: Callable[[], int] | None = None, stream: TextIO | None = None,
                 every: int = 1, initial_step: int = 0, start_time: float | None = None, per_step: bool = True):
        super().__init__(phase, step_fn, every, initial_step, start_time, per_step)
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def write_record(self, record: dict) -> None:
        self.stream.write(encode_record(record) + "\n")
        self.stream.flush()


class MetricsFile(_RecordLogger):
    """Appends the records of `JsonLinesLogger` to a run's metrics.jsonl.

    The file is opened in append mode at each `fit`'s start and closed at its
    end, and every line is flushed, so that a resumed run appends to the
    records of the interrupted one (a reader keeps the last record of each
    step; `seqgan_gumbel.evaluation.report` does).

    Args:
        path: the JSON-lines file (its folder is created if missing).
        phase: the record's "phase", e.g. "mle" or "gan".
        step_fn: returns the global step count; None counts batches from `initial_step`.
        every: the period in steps (the last batch of each epoch is always logged).
        initial_step: steps already done, when `step_fn` is None.
        start_time: a `time.perf_counter()` value that "time" counts from (default: now).
        per_step: log each interval's own mean instead of Keras's running epoch mean.
    """

    def __init__(self, path: str | Path, phase: str, step_fn: Callable[[], int] | None = None, every: int = 1,
                 initial_step: int = 0, start_time: float | None = None, per_step: bool = True):
        super().__init__(phase, step_fn, every, initial_step, start_time, per_step)
        self.path = Path(path)
        self._handle = None

    def _open(self):
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")
        return self._handle

    def write_record(self, record: dict) -> None:
        handle = self._open()
        handle.write(encode_record(record) + "\n")
        handle.flush()

    def on_train_begin(self, logs=None):
        self._open()

    def on_train_end(self, logs=None):
        self.close()

    def close(self) -> None:
        """Closes the file (reopened for appending when training continues)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class TensorBoardLogger(_RecordLogger):
    """Writes scalars (and sample text) as TensorBoard event files.

    Scalars are named "<phase>/<log name>": "mle/nll", "mle/val_nll",
    "gan/d_loss", "gan/g_loss", "gan/beta" and "gan/temperature" (tau = 1/beta).

    Args:
        log_dir: the event files' folder (e.g. RUN_DIR/tensorboard).
        phase: the scalar prefix, e.g. "mle" or "gan" (lower-cased).
        step_fn: returns the global step count; None counts batches from `initial_step`.
        every: the period in steps (the last batch of each epoch is always logged).
        initial_step: steps already done, when `step_fn` is None.
        per_step: log each interval's own mean instead of Keras's running epoch mean.
    """

    def __init__(self, log_dir: str | Path, phase: str, step_fn: Callable[[], int] | None = None, every: int = 1,
                 initial_step: int = 0, per_step: bool = True):
        super().__init__(phase, step_fn, every, initial_step, None, per_step)
        self.log_dir = Path(log_dir)
        self._writer = None

    @property
    def writer(self):
        """The `tf.summary` file writer (created on first use)."""
        if self._writer is None:
            import tensorflow as tf

            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        return self._writer

    def write_record(self, record: dict) -> None:
        step = record["step"]
        values = {k: v for k, v in record.items() if k not in ("phase", "step", "time", "epoch")}
        self.log_scalars(record["phase"], values, step)

    def log_scalars(self, prefix: str, values: dict, step: int) -> None:
        """Writes numeric values as scalars "<prefix>/<name>"; nested dicts become "<prefix>/<name>/<key>".

        Args:
            prefix: e.g. "eval" or "eval_mle".
            values: e.g. ``{"bleu": {"2": 0.8, "3": 0.6}, "nll_test": 2.9}`` (non-numbers skipped).
            step: the step the values belong to.
        """
        import tensorflow as tf

        with self.writer.as_default():
            for name, value in _flatten(values, prefix.lower()):
                tf.summary.write(name, tf.constant(value, tf.float32), step=int(step), metadata=_metadata("scalars"))
        self.writer.flush()

    def log_text(self, tag: str, lines: Iterable[str], step: int) -> None:
        """Writes sentences (e.g. samples) as one TensorBoard text summary, one line each.

        Args:
            tag: e.g. "gan/samples".
            lines: the sentences.
            step: the step they were sampled at.
        """
        import tensorflow as tf

        # TensorBoard renders text as Markdown: each sentence on its own line, literally.
        text = "\n".join("    " + line for line in lines)
        with self.writer.as_default():
            tf.summary.write(tag, tf.constant(text), step=int(step), metadata=_metadata("text"))
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _metadata(plugin: str):
    """Summary metadata that TensorBoard's "scalars" or "text" dashboard reads.

    `tf.summary.scalar` and `tf.summary.text` live in the tensorboard package
    (not a dependency); `tf.summary.write` with this metadata writes the same
    events with TensorFlow alone.
    """
    from tensorflow.core.framework import summary_pb2

    data_class = summary_pb2.DATA_CLASS_SCALAR if plugin == "scalars" else summary_pb2.DATA_CLASS_TENSOR
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin), data_class=data_class
    )


def _flatten(values: dict, prefix: str):
    for name, value in values.items():
        key = f"{prefix}/{name}"
        if isinstance(value, dict):
            yield from _flatten(value, key)
        elif isinstance(value, bool) or value is None:
            continue
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                yield key, number


def _short(value: float) -> str:
    """A compact number: 4 significant digits."""
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _duration(seconds: float) -> str:
    """H:MM:SS or M:SS."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
