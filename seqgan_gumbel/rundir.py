"""The run directory: where a run's config, vocabulary, models and samples live.

Layout (every file written atomically):
    config.json             the resolved configuration
    vocab.json              the tokenizer and its vocabulary
    corpus_stats.json       what encoding did to the corpora
    generator_mle.keras     the generator after MLE pretraining
    generator.keras         the generator after adversarial training
    discriminator.keras     the discriminator after adversarial training
    checkpoints/            complete training state for --resume (the newest few):
                            <phase>-<NNNNNNNN>/ (mle-... or gan-...) with state.json
                            ({"phase", "mle_steps", "adversarial_steps"})
    samples/                pretrained.txt, step-NNNNNN.txt during adversarial training, final.txt
    metrics_mle.json        the report on the MLE-pretrained generator
    metrics.json            the final report (BLEU, NLL; the MLE report inside)
    metrics.jsonl           one JSON record per training step, per evaluation and per monitored step
                            (its records: seqgan_gumbel.runlog)
    tensorboard/            TensorBoard event files (losses, temperature, samples, metrics)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from seqgan_gumbel.config import Config
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.fileio import atomic_path, atomic_write_text, read_json
from seqgan_gumbel.corpus.tokenizer import Tokenizer
from seqgan_gumbel.runlog import MLE_PHASE, PHASES, phase_name

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
GENERATOR_FILE = "generator.keras"
MLE_GENERATOR_FILE = "generator_mle.keras"
DISCRIMINATOR_FILE = "discriminator.keras"
METRICS_FILE = "metrics.json"
MLE_METRICS_FILE = "metrics_mle.json"
METRICS_LOG_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"
CORPUS_STATS_FILE = "corpus_stats.json"
CHECKPOINTS_DIR = "checkpoints"
SAMPLES_DIR = "samples"
PRETRAINED_SAMPLES_FILE = f"{SAMPLES_DIR}/pretrained.txt"
FINAL_SAMPLES_FILE = f"{SAMPLES_DIR}/final.txt"
CHECKPOINT_STATE_FILE = "state.json"


def step_samples_name(step: int) -> str:
    """The file name, inside samples/, of the sentences sampled at an adversarial step."""
    return f"step-{step:06d}.txt"


@dataclass(frozen=True)
class TrainingState:
    """How far a run got: MLE batches and adversarial steps completed (a checkpoint's state.json)."""

    phase: str
    mle_steps: int
    adversarial_steps: int

    @property
    def order(self) -> tuple[int, int, int]:
        """Sorts checkpoints by progress."""
        return (PHASES.index(self.phase), self.mle_steps, self.adversarial_steps)

    @property
    def folder_name(self) -> str:
        """The checkpoint folder's name: the phase and its own step count, e.g. gan-00000150."""
        count = self.mle_steps if self.phase == MLE_PHASE else self.adversarial_steps
        return f"{self.phase}-{count:08d}"


def read_checkpoint_state(folder: Path) -> TrainingState | None:
    """The state of a complete checkpoint folder; None for a temporary, incomplete or damaged one."""
    if folder.name.startswith(".") or not (folder / CHECKPOINT_STATE_FILE).is_file():
        return None
    try:
        data = json.loads((folder / CHECKPOINT_STATE_FILE).read_text(encoding="utf-8"))
        # phase_name: checkpoints of runs written before the phases had one name say "pretrain" and "adversarial".
        state = TrainingState(phase_name(str(data["phase"])), int(data["mle_steps"]), int(data["adversarial_steps"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if state.phase in PHASES else None


def complete_checkpoints(directory: Path) -> list[tuple[Path, TrainingState]]:
    """The complete checkpoints in a checkpoints folder, least advanced first."""
    found = [(folder, state) for folder in Path(directory).glob("*-*") if (state := read_checkpoint_state(folder))]
    return sorted(found, key=lambda item: item[1].order)


class RunDirectory:
    """Paths and safe reading/writing of one run's files.

    Args:
        path: the run directory.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        """A path inside the run directory; names that would escape it are refused."""
        resolved = (self.path / name).resolve()
        if self.path.resolve() not in resolved.parents:
            raise UserInputError(f"{self.path}: {name!r} points outside the run directory")
        return self.path / name

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS_DIR

    @property
    def samples(self) -> Path:
        return self.path / SAMPLES_DIR

    def newest_checkpoint(self) -> tuple[Path, TrainingState] | None:
        """The most advanced complete checkpoint and its state, or None."""
        complete = complete_checkpoints(self.checkpoints)
        return complete[-1] if complete else None

    def check_creatable(self, overwrite: bool = False) -> None:
        """Raises UserInputError unless `create` would succeed; changes nothing.

        Args:
            overwrite: an existing run directory may be replaced.
        """
        if self.path.exists() and not self.path.is_dir():
            raise UserInputError(f"{self.path}: exists and is not a directory")
        if self.path.exists() and any(self.path.iterdir()):
            if not overwrite:
                raise UserInputError(
                    f"{self.path}: run directory already exists and is not empty "
                    f"(choose another --out, or pass --overwrite to replace it)"
                )
            if not (self.path / CONFIG_FILE).exists():
                raise UserInputError(
                    f"{self.path}: --overwrite refused: the directory is not empty and is not a run directory"
                )

    def create(self, overwrite: bool = False) -> None:
        """Creates the directory for a new run.

        Args:
            overwrite: replace an existing run directory's contents.

        Raises:
            UserInputError: the path exists (and is not empty) without
                `overwrite`, or is a file or a non-run directory.
        """
        self.check_creatable(overwrite)
        if overwrite and self.path.exists():
            shutil.rmtree(self.path)
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.samples.mkdir(parents=True, exist_ok=True)

    def require_run(self) -> None:
        """Raises UserInputError unless this is an existing run directory."""
        if not self.path.exists():
            raise UserInputError(f"{self.path}: run directory not found")
        if not self.path.is_dir():
            raise UserInputError(f"{self.path}: not a directory")
        if not (self.path / CONFIG_FILE).exists():
            raise UserInputError(f"{self.path}: not a run directory (no {CONFIG_FILE})")

    def write_json(self, name: str, data) -> None:
        atomic_write_text(self.file(name), json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def read_json(self, name: str):
        """Parses a JSON file of the run (never evaluates it)."""
        return read_json(self.file(name), name)

    def write_lines(self, name: str, lines: list[str]) -> None:
        atomic_write_text(self.file(name), "".join(line + "\n" for line in lines))

    def save_config(self, config: Config) -> None:
        atomic_write_text(self.file(CONFIG_FILE), config.to_json())

    def load_config(self) -> Config:
        """The run's settings as it was started with them.

        A setting added after the run was written takes its default, except
        where that default would change what the run does: a config.json
        without data.validation_split, training.pretrain_patience or
        training.pretrain_lr_decay was written before they existed, when
        nothing was held out of the corpus, every MLE epoch ran and its
        learning rate never fell, so its run resumes that way.
        """
        self.require_run()
        path = self.file(CONFIG_FILE)
        written = read_json(path, "config")
        config = Config.from_dict(written, source=str(path))
        for section, name, before in (("data", "validation_split", 0.0), ("training", "pretrain_patience", 0),
                                      ("training", "pretrain_lr_decay", 0.0)):
            if isinstance(written.get(section), dict) and name not in written[section]:
                setattr(getattr(config, section), name, before)
        return config

    def save_tokenizer(self, tokenizer: Tokenizer) -> None:
        tokenizer.save(self.file(VOCAB_FILE))

    def load_tokenizer(self) -> Tokenizer:
        self.require_run()
        return Tokenizer.load(self.file(VOCAB_FILE))

    def save_model(self, model, name: str) -> None:
        """Saves a Keras model in Keras format, atomically."""
        with atomic_path(self.file(name), suffix=".keras") as tmp:
            model.save(tmp)

    def load_model(self, name: str):
        """Loads a Keras model of this package in safe mode (no arbitrary code).

        Raises:
            UserInputError: missing, truncated or corrupted model file.
        """
        import keras

        import seqgan_gumbel.models  # noqa: F401  (registers the model classes)

        path = self.file(name)
        if not path.exists():
            raise UserInputError(f"{path}: model file not found (did training finish?)")
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:  # Keras raises many types for damaged files.
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserInputError(f"{path}: cannot load the model: corrupted or truncated file ({first_line})") from None

    def load_generator(self, name: str, tokenizer: Tokenizer):
        """Loads one of the run's generators and checks it against the run's vocabulary.

        Raises:
            UserInputError: damaged model file, or a vocabulary that does not match it.
        """
        generator = self.load_model(name)
        if getattr(generator, "vocab_size", None) != tokenizer.vocab_size:
            raise UserInputError(
                f"{self.file(name)}: the model has {getattr(generator, 'vocab_size', '?')} token ids but "
                f"{self.file(VOCAB_FILE)} has {tokenizer.vocab_size}: vocabulary and model do not match"
            )
        return generator
