"""Shared fixtures: tiny corpora and quiet TensorFlow logs."""

import contextlib
import io
import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"

_NOUNS = ["dog", "cat", "man", "woman", "bird", "car", "horse", "boy"]
_VERBS = ["sees", "likes", "chases", "eats", "holds"]
_ADJECTIVES = ["big", "small", "red", "old", "young"]


def tiny_sentences(count: int, seed: int) -> list[str]:
    """Sentences of a tiny fixed pattern, for fast training tests."""
    rng = random.Random(seed)
    return [
        f"the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_VERBS)} a {rng.choice(_NOUNS)} ."
        for _ in range(count)
    ]


def write_tiny_corpus(folder: Path) -> tuple[Path, Path]:
    """Writes train.txt and test.txt of 256 and 64 tiny sentences into `folder`; returns their paths."""
    train = folder / "train.txt"
    test = folder / "test.txt"
    train.write_text("".join(s + "\n" for s in tiny_sentences(256, 0)), encoding="utf-8")
    test.write_text("".join(s + "\n" for s in tiny_sentences(64, 1)), encoding="utf-8")
    return train, test


@pytest.fixture
def tiny_corpus(tmp_path) -> tuple[Path, Path]:
    """(train, test) files of 256 and 64 tiny sentences."""
    return write_tiny_corpus(tmp_path)


def shared_dataset(*parts: str) -> Path:
    """A file of ../shared/datasets, or a skip when ../shared is absent (a user's clone).

    Under CI (the CI environment variable set) the data must be there: a
    missing file fails the test instead of skipping it silently.
    """
    path = SHARED_DATASETS.joinpath(*parts)
    if not path.exists():
        message = f"benchmark data not available: {path} (../shared/datasets is only beside CI checkouts)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI is set, so it must be there", pytrace=False)
        pytest.skip(message)
    return path


def tiny_generators() -> dict:
    """Every generator class with tiny settings: name -> (class, keyword arguments)."""
    from seqgan_gumbel.models import LSTMGenerator
    from seqgan_gumbel.models.relational import RelationalMemoryGenerator
    from seqgan_gumbel.models.transformer import TransformerGenerator

    return {
        "lstm": (LSTMGenerator, dict(hidden_dim=16)),
        "rmc": (RelationalMemoryGenerator, dict(mem_slots=2, num_heads=2, head_size=8)),
        "transformer": (TransformerGenerator, dict(embedding_dim=16, num_layers=1, num_heads=2, feedforward_dim=32,
                                                   dropout=0.0)),
    }


def tiny_config(corpus, test=None, adversarial_steps=4, discriminator_steps=1, every=2, num_eval_samples=50):
    """A run config with tiny models and few steps, for fast end-to-end tests.

    One discriminator step: each one is traced into the adversarial train_step
    (about 2 s of a 10 s tiny run). The shared CLI run (TINY_CLI) and the
    resume tests train with two, so several steps stay covered end to end.
    """
    from seqgan_gumbel.config import Config

    config = Config()
    config.data.corpus = str(corpus)
    config.data.test = str(test) if test else ""
    config.data.max_length = 8
    config.generator.embedding_dim = 8
    config.generator.hidden_dim = 16
    config.discriminator.embedding_dim = 8
    config.discriminator.num_filters = 8
    t = config.training
    t.batch_size, t.pretrain_epochs, t.adversarial_steps = 32, 2, adversarial_steps
    t.discriminator_steps, t.sample_every, t.checkpoint_every = discriminator_steps, every, every
    t.num_eval_samples = num_eval_samples
    # Test speed: XLA's compile costs more than it saves on a few tiny batches
    # (test_training checks the XLA switch itself), and 50 monitor samples suffice.
    t.xla_pretraining = False
    t.monitor_samples = 50
    return config


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """Runs the command line in this process (`cli.main`), as a subprocess would report it.

    About four times faster than a subprocess (no TensorFlow import per call).
    Use a real subprocess only where the process itself is the point (signals,
    exit statuses of the interpreter, import-time behaviour). An exception that
    escapes `main` propagates: the traceback a user would see fails the test.

    Args:
        args: the command line after the program name.
        cwd: the working directory during the call (default: the current one).

    Returns:
        returncode, stdout and stderr, like `subprocess.run(..., capture_output=True, text=True)`.
    """
    from seqgan_gumbel import cli

    argv = [str(a) for a in args]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd or os.getcwd()), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(["seqgan-gumbel", *argv], code, stdout.getvalue(), stderr.getvalue())


# The shared run's command-line settings: tiny models, few steps.
TINY_CLI = [
    "--max-length", "8", "--batch-size", "32", "--pretrain-epochs", "2", "--adversarial-steps", "3",
    "--set", "generator.hidden_dim=16", "--set", "generator.embedding_dim=8",
    "--set", "discriminator.num_filters=8", "--set", "training.num_eval_samples=40",
    "--set", "training.discriminator_steps=2", "--set", "training.xla_pretraining=false",
    "--set", "training.monitor_samples=50",
]


@dataclass(frozen=True)
class TrainedRun:
    """A finished tiny run and what made it."""

    folder: Path  # holds train.txt, test.txt and run/; tests may add files beside them
    run: Path
    train: Path
    test: Path
    result: subprocess.CompletedProcess  # the train command's exit status, stdout and stderr


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> TrainedRun:
    """One tiny run trained through the command line, shared by every test that only reads a run.

    Training costs seconds even for tiny models (tracing the unrolled
    sampling loops), so tests that generate from, evaluate, sweep or report
    a run share this one. A test that changes a run works on a copy
    (`shutil.copytree`); files a test writes go beside the run, under
    names no other test uses. Trained with `--log-format jsonl`, so its
    stderr also shows the machine-readable progress lines.
    """
    folder = tmp_path_factory.mktemp("trained")
    train, test = write_tiny_corpus(folder)
    result = run_cli("train", "--corpus", train, "--test", test, "--out", folder / "run", "--seed", 3,
                     "--log-format", "jsonl", *TINY_CLI)
    assert result.returncode == 0, result.stderr
    return TrainedRun(folder, folder / "run", train, test, result)


@dataclass(frozen=True)
class ApiRun:
    """A finished tiny run trained through the Python API (`tiny_config`: 4 adversarial steps, sampled,
    monitored and checkpointed every 2) and what it returned and logged."""

    config: object  # the run's Config
    run: Path
    result: object  # the TrainResult
    messages: list


@pytest.fixture(scope="session")
def api_run(tmp_path_factory) -> ApiRun:
    """One tiny run trained through `train()`, shared by the tests that only read it (files they write go
    outside the run directory)."""
    from seqgan_gumbel.training.run import train

    folder = tmp_path_factory.mktemp("api")
    config = tiny_config(*write_tiny_corpus(folder))
    config.training.monitor_samples = 30  # not the 50 evaluation samples, so that tests can tell the two apart
    messages = []
    result = train(config, folder / "run", log=messages.append, progress="none")
    return ApiRun(config, folder / "run", result, messages)
