import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seqgan_gumbel.config import Config
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.rundir import RunDirectory

PACKAGE = Path(__file__).resolve().parents[1] / "seqgan_gumbel"


def test_create_refuses_existing_runs_unless_overwrite(tmp_path):
    run = RunDirectory(tmp_path / "run")
    run.create()
    run.save_config(Config())
    with pytest.raises(UserInputError, match="already exists"):
        RunDirectory(tmp_path / "run").create()
    RunDirectory(tmp_path / "run").create(overwrite=True)
    assert not (tmp_path / "run" / "config.json").exists()


def test_overwrite_never_deletes_a_directory_that_is_not_a_run(tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("years of work")
    with pytest.raises(UserInputError, match="not a run directory"):
        RunDirectory(tmp_path / "precious").create(overwrite=True)
    assert (tmp_path / "precious" / "thesis.tex").exists()


def test_files_cannot_escape_the_run_directory(tmp_path):
    run = RunDirectory(tmp_path / "run")
    assert run.file("samples/final.txt") == tmp_path / "run" / "samples" / "final.txt"
    for name in ["../outside.txt", "/etc/passwd", "samples/../../x"]:
        with pytest.raises(UserInputError, match="outside the run directory"):
            run.file(name)


def test_require_run(tmp_path):
    with pytest.raises(UserInputError, match="run directory not found"):
        RunDirectory(tmp_path / "none").require_run()
    with pytest.raises(UserInputError, match="not a run directory"):
        RunDirectory(tmp_path).require_run()


def test_no_unsafe_loading_anywhere_in_the_package():
    source = {p: p.read_text() for p in PACKAGE.rglob("*.py")}
    for path, text in source.items():
        assert not re.search(r"\bimport pickle\b|\bpickle\.load|\beval\(|\bexec\(|allow_pickle=True", text), path
        for call in re.findall(r"keras\.(?:saving|models)\.load_model\([^)]*\)", text):
            assert "safe_mode=True" in call, (path, call)
    assert any("safe_mode=True" in text for text in source.values())


@pytest.mark.parametrize("imports", [
    "import seqgan_gumbel; import keras",  # Keras imports TensorFlow halfway through its own import
    "import seqgan_gumbel; import tensorflow; import keras",  # and TensorFlow imports Keras halfway through its own
    "import keras; import seqgan_gumbel",  # already loaded: registered at once
])
def test_a_runs_models_load_with_plain_keras_after_importing_the_package(trained_run, imports):
    """What a user writes: no `import seqgan_gumbel.models` needed (a fresh interpreter: nothing imported yet)."""
    code = (f"{imports}\n"
            "import sys\n"
            "for name in ('generator.keras', 'generator_mle.keras', 'discriminator.keras'):\n"
            "    model = keras.models.load_model(sys.argv[1] + '/' + name, safe_mode=True, compile=False)\n"
            "    assert model.count_params() > 0, name\n"
            "print(type(model).__name__, 'seqgan_gumbel.models' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code, str(trained_run.run)], capture_output=True, text=True,
                            cwd=PACKAGE.parent, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["CNNDiscriminator", "True"]


def test_the_newest_checkpoint_is_the_most_advanced_complete_one(tmp_path):
    """What `show` prints and `--resume` continues from: adversarial after every MLE step, by progress, never a
    temporary, incomplete or damaged folder."""
    import json

    from seqgan_gumbel.rundir import TrainingState, read_checkpoint_state

    run = RunDirectory(tmp_path)
    assert run.newest_checkpoint() is None
    for state in (TrainingState("mle", 400, 0), TrainingState("gan", 400, 2),
                  TrainingState("gan", 400, 10), TrainingState("mle", 900, 0)):
        folder = run.checkpoints / state.folder_name
        folder.mkdir(parents=True)
        (folder / "state.json").write_text(json.dumps(state.__dict__))
    (run.checkpoints / "gan-00000099").mkdir()  # killed before its state.json
    (run.checkpoints / ".gan-00000050.tmp-x").mkdir()
    damaged = run.checkpoints / "gan-00000077"
    damaged.mkdir()
    (damaged / "state.json").write_text('{"phase": "gan"')
    folder, state = run.newest_checkpoint()
    assert folder.name == "gan-00000010" and state == TrainingState("gan", 400, 10)
    assert read_checkpoint_state(damaged) is None and TrainingState("mle", 900, 0).folder_name == "mle-00000900"
    # A run written before the phases had one name: its checkpoints say "pretrain" and "adversarial".
    legacy = run.checkpoints / "adversarial-00000020"
    legacy.mkdir()
    (legacy / "state.json").write_text('{"phase": "adversarial", "mle_steps": 400, "adversarial_steps": 20}')
    assert run.newest_checkpoint() == (legacy, TrainingState("gan", 400, 20))


def test_a_config_written_before_the_validation_split_loads_without_one(tmp_path):
    """An older run resumes as it started: no sentences held out of its corpus, every MLE epoch run at one rate."""
    import json

    run = RunDirectory(tmp_path)
    config = Config()
    config.data.corpus = "train.txt"
    config.training.pretrain_keep_best = False
    run.save_config(config)

    def loaded():
        config = run.load_config()
        return config.data.validation_split, config.training.pretrain_patience, config.training.pretrain_lr_decay

    assert loaded() == (0.05, 2, 0.1)
    written = json.loads((tmp_path / "config.json").read_text())
    for section, name in (("data", "validation_split"), ("training", "pretrain_patience"),
                          ("training", "pretrain_lr_decay")):
        del written[section][name]
    (tmp_path / "config.json").write_text(json.dumps(written))
    assert loaded() == (0.0, 0, 0.0)
