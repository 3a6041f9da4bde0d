"""Side effects of training as Keras callbacks: temperature, samples,
checkpoints, interruption and divergence."""

from __future__ import annotations

import math
import signal
from pathlib import Path
from typing import Callable

import keras
import tensorflow as tf

from seqgan_gumbel.errors import TrainingDiverged, TrainingInterrupted
from seqgan_gumbel.fileio import atomic_write_text
from seqgan_gumbel.rundir import TrainingState, step_samples_name
from seqgan_gumbel.training.schedules import inverse_temperature
from seqgan_gumbel.training.checkpoints import CheckpointManager


class TemperatureSchedule(keras.callbacks.Callback):
    """Sets a `GumbelGAN`'s inverse temperature before each adversarial step.

    Args:
        num_steps: the run's number of adversarial steps N.
        beta_max: the final inverse temperature.
        schedule: a name from `seqgan_gumbel.config.SCHEDULES`.
        horizon: the step at which beta reaches beta_max (0: the run's last step).
    """

    def __init__(self, num_steps: int, beta_max: float, schedule: str, horizon: int = 0):
        super().__init__()
        self.num_steps = num_steps
        self.beta_max = beta_max
        self.schedule = schedule
        self.horizon = horizon

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.step_counter.numpy())
        self.model.inverse_temperature.assign(
            inverse_temperature(step, self.num_steps, self.beta_max, self.schedule, self.horizon)
        )


class SampleWriter(keras.callbacks.Callback):
    """Writes sentences sampled from the generator every `every` adversarial steps.

    Args:
        sample_fn: returns a list of sentences (decoded text).
        directory: where the step files go (`rundir.step_samples_name`).
        every: the period in adversarial steps.
        echo: called with a short preview (e.g. print); None for silence.
    """

    def __init__(self, sample_fn: Callable[[], list[str]], directory: Path, every: int, echo=None):
        super().__init__()
        self.sample_fn = sample_fn
        self.directory = Path(directory)
        self.every = every
        self.echo = echo

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step_counter.numpy())
        if self.every and step % self.every == 0:
            sentences = self.sample_fn()
            atomic_write_text(self.directory / step_samples_name(step), "".join(s + "\n" for s in sentences))
            if self.echo:
                self.echo(f"[step {step}] " + " | ".join(sentences[:3]))


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first NaN or infinite loss, before anything is saved.

    Placed first among the callbacks, it raises before any checkpoint callback
    sees the bad step, so the last checkpoint on disk stays the last good one.

    Args:
        phase: "pretrain" or "adversarial", for the message.
        step_fn: returns the current step number.
    """

    def __init__(self, phase: str, step_fn: Callable[[], int]):
        super().__init__()
        self.phase = phase
        self.step_fn = step_fn

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if "loss" in name or name == "nll":
                if not math.isfinite(float(value)):
                    raise TrainingDiverged(
                        f"{name} became {float(value)} at {self.phase} step {self.step_fn()}; "
                        f"training stopped, the last good checkpoint is kept"
                    )


class BestWeights(tf.Module):
    """A copy of a model's weights from the epoch with the lowest monitored value.

    A `tf.Module`, so a training checkpoint saves it beside the model and a
    resumed run knows which epoch was best so far.

    Args:
        model: the model whose weights are copied (built).
    """

    def __init__(self, model: keras.Model):
        super().__init__(name="best_weights")
        self.model = model
        self.copies = [tf.Variable(tf.zeros_like(v), trainable=False) for v in model.weights]
        self.best = tf.Variable(math.inf, dtype=tf.float64, trainable=False)
        self.epoch = tf.Variable(-1, dtype=tf.int64, trainable=False)

    @property
    def found(self) -> bool:
        """Whether any epoch has been recorded."""
        return int(self.epoch.numpy()) >= 0

    def offer(self, epoch: int, value: float) -> bool:
        """Keeps the model's current weights if `value` is the lowest so far.

        Returns:
            Whether they were kept.
        """
        if not value < float(self.best.numpy()):
            return False
        for copy, weight in zip(self.copies, self.model.weights):
            copy.assign(weight)
        self.best.assign(value)
        self.epoch.assign(epoch)
        return True

    def restore(self) -> None:
        """Puts the kept weights back into the model."""
        for copy, weight in zip(self.copies, self.model.weights):
            weight.assign(copy)


class KeepBestWeights(keras.callbacks.Callback):
    """Offers the model's weights to a `BestWeights` after each epoch's validation.

    Placed before the checkpoint callback, so that an epoch's checkpoint holds
    the choice that epoch made.

    Args:
        best: the `BestWeights` of the trained model.
        monitor: the log to minimise, e.g. "val_nll".
    """

    def __init__(self, best: BestWeights, monitor: str = "val_nll"):
        super().__init__()
        self.best = best
        self.monitor = monitor

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"KeepBestWeights: no {self.monitor!r} in the epoch's logs (no validation data?)")
        # A NaN never compares lower, so a diverged epoch is never kept.
        self.best.offer(epoch + 1, float(value))


class DecayOnPlateau(keras.callbacks.Callback):
    """After an epoch that set no new best, goes back to the best weights with a smaller learning rate.

    A learning rate large enough to pretrain fast stops improving the
    validation NLL long before the model has converged; continuing from the
    best epoch at a fraction of it lowers the NLL further, so the MLE start
    that a GAN is judged against is not one that a few more small MLE steps
    would beat. The learning rate is an optimizer variable and the best epoch
    lives in the `BestWeights`, so a checkpoint written after this callback
    resumes exactly.

    Args:
        best: the `BestWeights` that `KeepBestWeights` offers each epoch to
            (this callback goes after it).
        optimizer: the optimizer whose learning rate is lowered.
        factor: the learning rate's multiplier, in (0, 1).
        log: called with a line each time the learning rate is lowered.
    """

    def __init__(self, best: BestWeights, optimizer: keras.optimizers.Optimizer, factor: float,
                 log: Callable[[str], None] = lambda message: None):
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"DecayOnPlateau: factor must be in (0, 1), got {factor}")
        self.best = best
        self.optimizer = optimizer
        self.factor = factor
        self.log = log

    def on_epoch_end(self, epoch, logs=None):
        if not self.best.found or int(self.best.epoch.numpy()) == epoch + 1:
            return
        self.best.restore()
        rate = float(self.optimizer.learning_rate.numpy()) * self.factor
        self.optimizer.learning_rate.assign(rate)
        self.log(f"MLE pretraining: epoch {epoch + 1} set no lower validation NLL: back to epoch "
                 f"{int(self.best.epoch.numpy())}'s weights, learning rate {rate:.3g}")


class StopWithoutImprovement(keras.callbacks.Callback):
    """Ends `fit` once `patience` epochs have passed since the best epoch of a `BestWeights`.

    Keras's `EarlyStopping` keeps its count in Python, which a checkpoint does
    not save; this one reads the best epoch from the `BestWeights`, which it
    does, so a resumed run stops at the same epoch (`stopped`).

    Args:
        best: the `BestWeights` that `KeepBestWeights` offers each epoch to
            (this callback goes after it).
        patience: epochs without a new best before stopping (at least 1).
    """

    def __init__(self, best: BestWeights, patience: int):
        super().__init__()
        self.best = best
        self.patience = patience

    def stopped(self, epochs_done: int) -> bool:
        """Whether a run that has completed `epochs_done` epochs has run out of patience."""
        return self.best.found and epochs_done - int(self.best.epoch.numpy()) >= self.patience

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped(epoch + 1):
            self.model.stop_training = True


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Saves complete training state every `every` steps and at the end of training.

    Args:
        manager: writes the checkpoints.
        state_fn: returns the current `TrainingState`.
        step_fn: returns the step count that `every` divides.
        every: the period in steps (0: only at the end).
        at_epoch_end: save after each epoch's validation and epoch-end
            callbacks instead of every `every` steps.
    """

    def __init__(self, manager: CheckpointManager, state_fn: Callable[[], TrainingState],
                 step_fn: Callable[[], int], every: int = 0, at_epoch_end: bool = False):
        super().__init__()
        self.manager = manager
        self.state_fn = state_fn
        self.step_fn = step_fn
        self.every = every
        self.at_epoch_end = at_epoch_end
        self.last_saved = None

    def save(self) -> Path:
        state = self.state_fn()
        folder = self.manager.save(state)
        self.last_saved = state
        return folder

    def on_train_batch_end(self, batch, logs=None):
        if not self.at_epoch_end and self.every and self.step_fn() % self.every == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if self.at_epoch_end:
            self.save()

    def on_train_end(self, logs=None):
        if self.last_saved != self.state_fn():
            self.save()


class GracefulInterrupt(keras.callbacks.Callback):
    """Turns Ctrl-C (SIGINT) into a checkpoint and a clean stop.

    While training runs, SIGINT only sets a flag; at the end of the current
    step the state is saved and `TrainingInterrupted` raised, whose message
    says how to resume. A second Ctrl-C falls back to the default behaviour.

    Args:
        checkpoint: the run's `PeriodicCheckpoint` callback.
        resume_hint: the command that resumes the run.
    """

    def __init__(self, checkpoint: PeriodicCheckpoint, resume_hint: str):
        super().__init__()
        self.checkpoint = checkpoint
        self.resume_hint = resume_hint
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)

    def on_train_begin(self, logs=None):
        self._previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._handle)

    def on_train_end(self, logs=None):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def on_train_batch_end(self, batch, logs=None):
        if self.requested:
            folder = self.checkpoint.save()
            self.on_train_end()
            raise TrainingInterrupted(f"interrupted; checkpoint saved in {folder}; resume with: {self.resume_hint}")
