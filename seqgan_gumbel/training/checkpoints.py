"""Complete, atomic training checkpoints for resuming a killed run.

A checkpoint is a folder ``checkpoints/<phase>-<NNNNNNNN>`` holding a
tf.train.Checkpoint of everything that evolves during training (every
variable of both networks, including the dropout RNG states and the spectral
norm's power-iteration vectors, and every optimizer's slots and iteration
counts) and a state.json naming the phase and how far it got. It
is written in a temporary folder and renamed into place, so a kill at any
moment leaves the previous checkpoints intact and never a half-written one.
The data order and the Gumbel noise need no saving: both are functions of
the seed and the step count.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import keras
import tensorflow as tf

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.rundir import CHECKPOINT_STATE_FILE, TrainingState, complete_checkpoints

_PREFIX = "ckpt"


class CheckpointManager:
    """Saves and restores complete training state in a run's checkpoints folder.

    Args:
        directory: the run's checkpoints folder.
        keep: how many checkpoints to keep (the newest).
        trackables: the objects to save, by name (models, optimizers, other
            trackables such as variables or tf.Modules).
    """

    def __init__(self, directory: str | Path, keep: int, **trackables):
        self.directory = Path(directory)
        self.keep = keep
        self.trackables = trackables

    def _checkpoint(self) -> tf.train.Checkpoint:
        # Built at each use: an optimizer creates its slots when it is built,
        # possibly after this manager.
        return tf.train.Checkpoint(**{
            name: _AllVariables(value) if isinstance(value, (keras.Model, keras.optimizers.Optimizer)) else value
            for name, value in self.trackables.items()
        })

    def save(self, state: TrainingState) -> Path:
        """Writes a checkpoint of the current state atomically.

        Returns:
            The checkpoint folder.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / state.folder_name
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=self.directory))
        try:
            self._checkpoint().write(str(staging / _PREFIX))
            (staging / CHECKPOINT_STATE_FILE).write_text(json.dumps(asdict(state)) + "\n", encoding="utf-8")
            for file in staging.iterdir():
                _fsync(file)
            if final.exists():
                shutil.rmtree(final)
            os.rename(staging, final)
            _fsync(self.directory)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        self._prune()
        return final

    def latest(self) -> tuple[Path, TrainingState] | None:
        """The most advanced complete checkpoint, or None."""
        complete = complete_checkpoints(self.directory)
        return complete[-1] if complete else None

    def restore(self, folder: Path) -> None:
        """Loads a checkpoint into the tracked objects (which must be built)."""
        try:
            self._checkpoint().read(str(folder / _PREFIX)).assert_consumed()
        except (tf.errors.OpError, AssertionError, ValueError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserInputError(f"{folder}: cannot restore the checkpoint ({first_line})") from None

    def _prune(self) -> None:
        for folder, _ in complete_checkpoints(self.directory)[: -self.keep]:
            # Renamed out of the way first (atomic), so that a kill during the
            # deletion leaves a stale temporary folder, never a half-deleted
            # checkpoint under its real name.
            doomed = folder.with_name(f".{folder.name}.tmp-deleting")
            os.rename(folder, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        for stale in self.directory.glob(".*.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)


def restore_model(folder: str | Path, name: str, model: keras.Model) -> None:
    """Loads one model of a checkpoint (e.g. the generator at some adversarial step).

    Args:
        folder: a checkpoint folder (``checkpoints/<phase>-<NNNNNNNN>``).
        name: the model's name in the checkpoint ("generator", "discriminator").
        model: a built model of the same architecture.
    """
    tf.train.Checkpoint(**{name: _AllVariables(model)}).read(str(Path(folder) / _PREFIX)).expect_partial()


class _AllVariables(tf.Module):
    """Every variable of a Keras model or optimizer, by position.

    TensorFlow's object graph does not see what Keras 3 keeps in Python
    lists (a discriminator's convolutions, a transformer's blocks) nor the
    dropout layers' RNG states, so checkpointing the model object itself
    would silently leave them out and a resumed run would continue with
    freshly initialised copies. `variables` lists them all, in an order
    fixed by the architecture.
    """

    def __init__(self, owner: keras.Model | keras.optimizers.Optimizer):
        super().__init__(name=None)
        self.values = list(owner.variables)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
