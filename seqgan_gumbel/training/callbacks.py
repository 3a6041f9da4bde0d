"""Side effects of training as Keras callbacks: temperature, samples, checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import keras

from seqgan_gumbel.fileio import atomic_path, atomic_write_text
from seqgan_gumbel.schedules import inverse_temperature


class TemperatureSchedule(keras.callbacks.Callback):
    """Sets a `GumbelGAN`'s inverse temperature before each adversarial step.

    Args:
        num_steps: the run's number of adversarial steps N.
        beta_max: the final inverse temperature.
        schedule: a name from `seqgan_gumbel.schedules.SCHEDULES`.
    """

    def __init__(self, num_steps: int, beta_max: float, schedule: str):
        super().__init__()
        self.num_steps = num_steps
        self.beta_max = beta_max
        self.schedule = schedule

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.step_counter.numpy())
        self.model.inverse_temperature.assign(
            inverse_temperature(step, self.num_steps, self.beta_max, self.schedule)
        )


class SampleWriter(keras.callbacks.Callback):
    """Writes sentences sampled from the generator every `every` adversarial steps.

    Args:
        sample_fn: returns a list of sentences (decoded text).
        directory: where step-NNNNNN.txt files go.
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
            atomic_write_text(self.directory / f"step-{step:06d}.txt", "".join(s + "\n" for s in sentences))
            if self.echo:
                self.echo(f"\n[step {step}] " + " | ".join(sentences[:3]))


class AdversarialCheckpoint(keras.callbacks.Callback):
    """Saves the generator's and discriminator's weights every `every` steps.

    Each checkpoint is a folder ``step-NNNNNN`` holding both weight files and
    a state.json with the step, written last, so a folder without state.json
    is incomplete and ignored. Only the newest `keep` checkpoints are kept.

    Args:
        directory: the run's checkpoints folder.
        every: the period in adversarial steps (0: only at the end of training).
        keep: how many checkpoints to keep.
    """

    def __init__(self, directory: Path, every: int, keep: int):
        super().__init__()
        self.directory = Path(directory)
        self.every = every
        self.keep = keep

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step_counter.numpy())
        if self.every and step % self.every == 0:
            self.save(step)

    def on_train_end(self, logs=None):
        step = int(self.model.step_counter.numpy())
        if not (self.directory / f"step-{step:06d}" / "state.json").exists():
            self.save(step)

    def save(self, step: int) -> None:
        folder = self.directory / f"step-{step:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, network in (("generator", self.model.generator), ("discriminator", self.model.discriminator)):
            with atomic_path(folder / f"{name}.weights.h5", suffix=".weights.h5") as tmp:
                network.save_weights(tmp)
        state = {"step": step, "inverse_temperature": float(self.model.inverse_temperature.numpy())}
        atomic_write_text(folder / "state.json", json.dumps(state) + "\n")
        complete = sorted(p for p in self.directory.glob("step-*") if (p / "state.json").exists())
        for old in complete[: -self.keep]:
            for file in old.iterdir():
                file.unlink()
            old.rmdir()
