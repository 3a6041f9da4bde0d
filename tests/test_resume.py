"""Faults: SIGKILL then --resume (in real processes), Ctrl-C and NaN losses (through `cli.main`)."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, run_cli, tiny_sentences

def _settings(adversarial_steps=16):
    return [
        "--max-length", "8", "--batch-size", "16", "--pretrain-epochs", "4", "--adversarial-steps", str(adversarial_steps),
        *COMMON,
    ]


COMMON = [
    "--seed", "5", "--set", "generator.hidden_dim=16", "--set", "generator.embedding_dim=8",
    "--set", "discriminator.num_filters=8", "--set", "training.num_eval_samples=20",
    "--set", "training.discriminator_steps=2", "--set", "training.checkpoint_every=2",
    "--set", "training.sample_every=0", "-q",
]
SETTINGS = _settings()


def _command(*args):
    return [sys.executable, "-m", "seqgan_gumbel", *map(str, args)]


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    path = folder / "train.txt"
    path.write_text("".join(s + "\n" for s in tiny_sentences(1600, 0)))
    # Reversed sentences, so the best MLE epoch (--keep-best-mle) is an early one.
    (folder / "validation.txt").write_text("".join(" ".join(reversed(s.split())) + "\n" for s in tiny_sentences(64, 1)))
    return path


def _keep_best(corpus):
    """The resumed runs also keep the best MLE epoch, whose choice the checkpoints must carry."""
    return ["--validation", corpus.parent / "validation.txt", "--keep-best-mle"]


@pytest.fixture(scope="module")
def uninterrupted(corpus):
    """The run never interrupted, trained in this process: killed-and-resumed runs (in other
    processes, or here) must end bit-identical to it."""
    out = corpus.parent / "whole"
    result = run_cli("train", "--corpus", corpus, "--out", out, *SETTINGS, *_keep_best(corpus))
    assert result.returncode == 0, result.stderr
    return out


def _weights(run_dir, name="generator.keras"):
    import keras

    import seqgan_gumbel.models  # noqa: F401

    model = keras.saving.load_model(run_dir / name, safe_mode=True, compile=False)
    return model.get_weights()


def _kill_when(out, checkpoint, timeout=300, resume=False):
    """Starts a run (or resumes one) in a new process and SIGKILLs it as soon as a checkpoint folder named
    `checkpoint*` exists.

    Returns:
        The process's exit status and its stderr.
    """
    corpus = out.parent / "train.txt"
    args = ["--resume", "--out", out, "-q"] if resume else ["--corpus", corpus, "--out", out, *SETTINGS,
                                                            *_keep_best(corpus)]
    process = subprocess.Popen(_command("train", *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=_env())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if list((out / "checkpoints").glob(f"{checkpoint}*")):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def _resume_and_compare(out, uninterrupted, *command):
    """Resumes with `train --resume --out OUT` plus `command` (the run's own flags may be repeated)."""
    resumed = run_cli("train", "--resume", "--out", out, "-q", *command)
    assert resumed.returncode == 0, resumed.stderr
    final = json.loads((out / "checkpoints" / sorted(os.listdir(out / "checkpoints"))[-1] / "state.json").read_text())
    for name in ("generator.keras", "generator_mle.keras", "discriminator.keras"):
        for a, b in zip(_weights(uninterrupted, name), _weights(out, name)):
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert (out / "samples" / "final.txt").read_text() == (uninterrupted / "samples" / "final.txt").read_text()
    mle = [json.loads((run / "metrics_mle.json").read_text()) for run in (uninterrupted, out)]
    best = mle[0]["best_epoch"]
    assert mle[1]["best_epoch"] == best and 1 <= best < 4
    # The default patience (2 epochs without a lower validation NLL) stops both at the same epoch.
    epochs = min(4, best + 2)
    assert final["adversarial_steps"] == 16 and final["mle_steps"] == epochs * (1600 // 16)
    assert mle[0].get("stopped_epoch") == mle[1].get("stopped_epoch") == (epochs if epochs < 4 else None)


def _latest_adversarial_step(out):
    states = [json.loads((folder / "state.json").read_text()) for folder in (out / "checkpoints").glob("*-*")
              if (folder / "state.json").is_file()]
    return max(s["adversarial_steps"] for s in states)


def test_killed_run_resumes_to_the_same_weights(corpus, uninterrupted):
    """SIGKILLed mid-GAN at step 6 (not 0: the gan-00000000 checkpoint at the end of pretraining
    would resume nothing of the GAN's own state) and resumed: weights and samples as if never killed.
    (A resume mid-MLE, mid-epoch even, is the Ctrl-C test's.)"""
    out = corpus.parent / "killed"
    status, _ = _kill_when(out, "gan-00000006")
    assert status == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (out / "generator.keras").exists()
    assert _latest_adversarial_step(out) >= 6
    _resume_and_compare(out, uninterrupted)


@contextlib.contextmanager
def _sigint_when(folder: Path, pattern: str, timeout=300):
    """Sends this process a real SIGINT as soon as a folder matching `pattern` exists in `folder` (a watcher
    thread; Python runs the handler in the main thread, where `cli.main` trains). A SIGINT that arrives outside
    the run's own handler is ignored instead of stopping the test session."""
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    done = threading.Event()

    def watch():
        deadline = time.monotonic() + timeout
        while not done.is_set() and time.monotonic() < deadline:
            if folder.is_dir() and list(folder.glob(pattern)):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_saves_a_checkpoint_says_how_to_resume_and_resumes_exactly(corpus, uninterrupted):
    """Ctrl-C during the second MLE epoch (after the first epoch's checkpoint): the interrupt's own
    checkpoint, mid-epoch, carries the data position and the best-epoch choice so far."""
    out = corpus.parent / "interrupted"
    with _sigint_when(out / "checkpoints", "mle-*[0-9]"):
        result = run_cli("train", "--corpus", corpus, "--out", out, *SETTINGS, *_keep_best(corpus))
    status, stderr = result.returncode, result.stderr
    assert status == 130, stderr
    assert "resume with: seqgan-gumbel train --resume --out" in stderr
    assert "Traceback" not in stderr
    saved = Path(re.search(r"checkpoint saved in (\S+);", stderr).group(1))
    assert saved.parent == out / "checkpoints" and (saved / "state.json").is_file()
    state = json.loads((saved / "state.json").read_text())
    steps_per_epoch = 1600 // 16
    assert state["phase"] == "mle" and steps_per_epoch <= state["mle_steps"] < 4 * steps_per_epoch, state
    assert not list((out / "checkpoints").glob("gan-*")), "interrupted after pretraining, not during it"
    # What users do: the very command that started the run, plus --resume.
    _resume_and_compare(out, uninterrupted, "--corpus", corpus, *SETTINGS, *_keep_best(corpus))


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(corpus):
    out = corpus.parent / "diverged"
    settings = SETTINGS + ["--pretrain-epochs", "1", "--set", "training.generator_learning_rate=1e30",
                           "--set", "training.discriminator_learning_rate=1e30", "--set", "training.grad_clip=0"]
    # In this process (the exit status and stderr are main's; signals are not the point here).
    result = run_cli("train", "--corpus", corpus, "--out", out, *settings)
    assert result.returncode == 1, result.stderr
    assert "at adversarial step" in result.stderr and "last good checkpoint is kept" in result.stderr
    assert "Traceback" not in result.stderr
    assert list((out / "checkpoints").glob("gan-00000000"))
    assert not (out / "generator.keras").exists()
