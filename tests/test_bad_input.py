"""Every bad input through the command line (`cli.main`, in this process; test_cli
runs one in a real process): one line on stderr, exit status 2, no traceback,
nothing written or overwritten."""

import json
import shutil

import pytest

from conftest import run_cli, tiny_sentences

TINY = ["--max-length", "8", "--batch-size", "16", "--pretrain-epochs", "1", "--adversarial-steps", "2",
        "--set", "generator.hidden_dim=8", "--set", "generator.embedding_dim=4",
        "--set", "discriminator.num_filters=4", "--set", "training.num_eval_samples=10",
        "--set", "training.discriminator_steps=1", "-q"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, trained_run):
    """Good and bad files, and copies of a real trained run (conftest's) to damage."""
    ws = tmp_path_factory.mktemp("bad")
    good = "".join(s + "\n" for s in tiny_sentences(64, 0))
    (ws / "good.txt").write_text(good)
    (ws / "empty.txt").write_bytes(b"")
    (ws / "blank.txt").write_text("\n   \n\t\n")
    (ws / "latin1.txt").write_bytes(good.encode() + "caf\xe9\n".encode("latin-1"))
    (ws / "nul.txt").write_bytes(b"a b c\nd \x00 e\n")
    (ws / "huge_line.txt").write_text(good + "word " * 210_000 + "\n")
    (ws / "long.txt").write_text("one two three four five six seven eight nine ten\n" * 40)
    (ws / "few.txt").write_text("a b c\nd e f\n")
    (ws / "repeated_vocab.txt").write_text("the\ndog\nthe\n")
    (ws / "bad_config.json").write_text("{ not json")
    (ws / "unknown_key.json").write_text(json.dumps({"training": {"betamax": 2}}))
    (ws / "adir").mkdir()
    shutil.copytree(trained_run.run, ws / "run")
    for name in ["truncated_model", "vocab_mismatch", "future_config", "not_json_config"]:
        shutil.copytree(ws / "run", ws / name)
    model = ws / "truncated_model" / "generator.keras"
    model.write_bytes(model.read_bytes()[:1000])
    vocab = json.loads((ws / "vocab_mismatch" / "vocab.json").read_text())
    vocab["tokens"] = vocab["tokens"][:-3]
    (ws / "vocab_mismatch" / "vocab.json").write_text(json.dumps(vocab))
    config = json.loads((ws / "future_config" / "config.json").read_text())
    config["version"] = 99
    (ws / "future_config" / "config.json").write_text(json.dumps(config))
    (ws / "not_json_config" / "config.json").write_text("{")
    return ws


TRAIN = ["train", "--out", "new_run"]
CASES = {
    # corpus
    "corpus missing": (TRAIN + ["--corpus", "missing.txt"], "missing.txt: corpus file not found"),
    "corpus is a directory": (TRAIN + ["--corpus", "adir"], "adir: is a directory"),
    "corpus empty": (TRAIN + ["--corpus", "empty.txt"], "empty.txt: corpus file is empty"),
    "corpus only blank lines": (TRAIN + ["--corpus", "blank.txt"], "blank.txt: corpus file is empty"),
    "corpus not UTF-8": (TRAIN + ["--corpus", "latin1.txt"], "latin1.txt: line 65 is not valid UTF-8"),
    "corpus with NUL bytes": (TRAIN + ["--corpus", "nul.txt"], "nul.txt: line 2 contains a NUL byte"),
    "corpus with a 1 MB line": (TRAIN + ["--corpus", "huge_line.txt"], "huge_line.txt: line 65 is 1,049,999 characters"),
    "every sentence too long": (TRAIN + ["--corpus", "long.txt", "--max-length", "5"], "every sentence is longer than the maximum length 5"),
    "fewer sentences than a batch": (TRAIN + ["--corpus", "few.txt"], "fewer than one batch"),
    "test corpus not UTF-8": (TRAIN + ["--corpus", "good.txt", "--test", "latin1.txt"], "latin1.txt: line 65 is not valid UTF-8"),
    "validation corpus missing": (TRAIN + ["--corpus", "good.txt", "--validation", "missing.txt"], "missing.txt: validation corpus file not found"),
    "keep-best-mle without a validation corpus": (TRAIN + ["--corpus", "good.txt", "--test", "good.txt", "--validation-split", "0"], "training.pretrain_keep_best needs a validation corpus (--validation FILE, or --validation-split F > 0)"),
    "validation split too large": (TRAIN + ["--corpus", "good.txt", "--validation-split", "0.6"], "data.validation_split must be in [0, 0.5], got 0.6"),
    "validation split leaves less than a batch": (TRAIN + ["--corpus", "good.txt", "--batch-size", "64", "--validation-split", "0.5"], "too few to hold out 0.5 of them for validation and keep a batch of 64"),
    # settings
    "beta_max zero": (TRAIN + ["--corpus", "good.txt", "--beta-max", "0"], "--beta-max: must be > 0"),
    "beta_max negative via --set": (TRAIN + ["--corpus", "good.txt", "--set", "training.beta_max=-1"], "beta_max must be > 0"),
    "max length zero": (TRAIN + ["--corpus", "good.txt", "--max-length", "0"], "--max-length: must be a positive integer"),
    "batch size zero": (TRAIN + ["--corpus", "good.txt", "--batch-size", "0"], "--batch-size: must be a positive integer"),
    "adversarial steps negative": (TRAIN + ["--corpus", "good.txt", "--adversarial-steps", "-3"], "--adversarial-steps: must be a positive integer"),
    "pretrain epochs negative": (TRAIN + ["--corpus", "good.txt", "--pretrain-epochs", "-1"], "--pretrain-epochs: must be >= 0"),
    "adversarial weight negative": (TRAIN + ["--corpus", "good.txt", "--set", "training.adversarial_weight=-1"], "training.adversarial_weight must be >= 0, got -1.0"),
    "MLE learning-rate decay of 1": (TRAIN + ["--corpus", "good.txt", "--mle-lr-decay", "1"], "training.pretrain_lr_decay must be in [0, 1) (0: off), got 1.0"),
    "MLE learning-rate decay without keep-best-mle": (TRAIN + ["--corpus", "good.txt", "--mle-lr-decay", "0.5", "--no-keep-best-mle"], "training.pretrain_lr_decay goes back to the best MLE epoch's weights: it needs training.pretrain_keep_best"),
    "nothing trains the generator": (TRAIN + ["--corpus", "good.txt", "--set", "training.adversarial_weight=0", "--set", "training.mle_weight=0"], "training.adversarial_weight and training.mle_weight are both 0"),
    "hidden size zero via --set": (TRAIN + ["--corpus", "good.txt", "--set", "generator.hidden_dim=0"], "generator.hidden_dim must be positive"),
    "unknown schedule": (TRAIN + ["--corpus", "good.txt", "--schedule", "cosine"], "choose from 'no', 'lin', 'exp', 'log', 'sigmoid', 'quad', 'sqrt'"),
    "unknown loss": (TRAIN + ["--corpus", "good.txt", "--loss", "wgan"], "choose from 'standard', 'rsgan', 'hinge', 'lsgan'"),
    "vocabulary missing": (TRAIN + ["--corpus", "good.txt", "--vocabulary", "missing.txt"], "missing.txt: vocabulary file not found"),
    "vocabulary repeats a token": (TRAIN + ["--corpus", "good.txt", "--vocabulary", "repeated_vocab.txt"], "repeated_vocab.txt: line 3 repeats the token 'the' of line 1"),
    "unknown precision via --set": (TRAIN + ["--corpus", "good.txt", "--set", "training.precision=float16"], "valid: float32, mixed_bfloat16"),
    "unknown loss via --set": (TRAIN + ["--corpus", "good.txt", "--set", "training.loss=wgan"], "valid: standard, rsgan, hinge, lsgan"),
    "malformed --set": (TRAIN + ["--corpus", "good.txt", "--set", "training.beta_max"], "expected KEY=VALUE"),
    "--set of an unknown key": (TRAIN + ["--corpus", "good.txt", "--set", "training.betamax=2"], "unknown setting 'training.betamax'; valid:"),
    "--set of a wrong type": (TRAIN + ["--corpus", "good.txt", "--set", "training.batch_size=big"], "must be of type int"),
    "config file not JSON": (TRAIN + ["--corpus", "good.txt", "--config", "bad_config.json"], "bad_config.json: not a readable JSON config file"),
    "config file unknown key": (TRAIN + ["--corpus", "good.txt", "--config", "unknown_key.json"], "unknown_key.json: unknown setting 'training.betamax'"),
    "config file missing": (TRAIN + ["--corpus", "good.txt", "--config", "nope.json"], "nope.json: config file not found"),
    "existing run directory": (["train", "--out", "run", "--corpus", "good.txt"], "run: run directory already exists"),
    "max vocabulary below the special tokens": (TRAIN + ["--corpus", "good.txt", "--max-vocab", "3"], "data.max_vocab_size must be 0 (no limit) or at least 5"),
    "min frequency with a vocabulary file": (TRAIN + ["--corpus", "good.txt", "--vocabulary", "good.txt", "--min-frequency", "2"], "with data.vocabulary (--vocabulary FILE) the file is the vocabulary"),
    # resume: the command that started the run may be repeated; a setting that differs is refused
    "resume: a missing run": (["train", "--resume", "--out", "nowhere"], "nowhere: run directory not found"),
    "resume: a changed flag": (["train", "--resume", "--out", "run", "--beta-max", "3"], "--beta-max sets training.beta_max = 3.0, the run has 100.0"),
    "resume: a changed --set": (["train", "--resume", "--out", "run", "--set", "training.discriminator_steps=3"], "--set training.discriminator_steps=3 sets training.discriminator_steps = 3, the run has 2"),
    "resume: another preset": (["train", "--resume", "--out", "run", "--preset", "quick-gsgan"], "--preset quick-gsgan sets "),
    "resume: another corpus": (["train", "--resume", "--out", "run", "--corpus", "good.txt"], "--corpus sets data.corpus = 'good.txt', the run has "),
    "resume: with --overwrite": (["train", "--resume", "--out", "run", "--overwrite"], "--overwrite would replace it"),
    # generate
    "generate: run missing": (["generate", "nowhere", "--num", "2"], "nowhere: run directory not found"),
    "generate: not a run directory": (["generate", "adir", "--num", "2"], "adir: not a run directory"),
    "generate: --num 0": (["generate", "run", "--num", "0"], "--num: must be a positive integer"),
    "generate: temperature 0": (["generate", "run", "--temperature", "0"], "--temperature: must be > 0"),
    "generate: truncated model": (["generate", "truncated_model"], "generator.keras: cannot load the model"),
    "generate: vocabulary does not match": (["generate", "vocab_mismatch"], "vocabulary and model do not match"),
    "generate: config from an unknown version": (["generate", "future_config"], "config version 99 is not supported"),
    "generate: config not JSON": (["generate", "not_json_config"], "config.json: not a readable JSON config file"),
    # evaluate
    "evaluate: samples missing": (["evaluate", "--samples", "missing.txt", "--references", "good.txt"], "missing.txt: samples file not found"),
    "evaluate: samples empty": (["evaluate", "--samples", "empty.txt", "--references", "good.txt"], "empty.txt: samples file is empty"),
    "evaluate: samples not UTF-8": (["evaluate", "--samples", "latin1.txt", "--references", "good.txt"], "latin1.txt: line 65 is not valid UTF-8"),
    "evaluate: references missing": (["evaluate", "--samples", "good.txt", "--references", "missing.txt"], "missing.txt: references file not found"),
    "evaluate: references empty": (["evaluate", "--samples", "good.txt", "--references", "blank.txt"], "blank.txt: references file is empty"),
    "evaluate: references not UTF-8": (["evaluate", "--samples", "good.txt", "--references", "latin1.txt"], "latin1.txt: line 65 is not valid UTF-8"),
    "evaluate: --run not a run": (["evaluate", "--samples", "good.txt", "--references", "good.txt", "--run", "adir"], "adir: not a run directory"),
    "evaluate: BLEU order 0": (["evaluate", "--samples", "good.txt", "--references", "good.txt", "--n", "0"], "--n: must be a positive integer"),
}


@pytest.mark.parametrize("args, message", CASES.values(), ids=CASES.keys())
def test_bad_input(workspace, args, message):
    before = {p: p.stat().st_mtime_ns for p in workspace.rglob("*")}
    result = run_cli(*args, cwd=workspace)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    after = {p: p.stat().st_mtime_ns for p in workspace.rglob("*")}
    assert after == before  # nothing created, changed or removed


def test_bom_and_crlf_corpus_is_accepted(tmp_path):
    from seqgan_gumbel.cli import build_parser, config_from_args
    from seqgan_gumbel.training.prepare import prepare_run

    corpus = tmp_path / "windows.txt"
    sentences = tiny_sentences(64, 3)
    corpus.write_bytes("\ufeff".encode() + "".join(s + "\r\n" for s in sentences).encode())
    # The train command's settings and the run's own reading of the corpus; what is checked
    # is how the corpus was read, so nothing is trained.
    config = config_from_args(build_parser().parse_args(["train", "--corpus", str(corpus), "--out", "run", *TINY]))
    prepared = prepare_run(config, tmp_path / "run")
    assert prepared.sentences == sentences
    assert set(prepared.tokenizer.vocabulary.tokens[4:]) == {w for s in sentences for w in s.split()}


def test_fixed_length_needs_sentences_of_exactly_max_length(workspace, tmp_path):
    result = run_cli("train", "--corpus", workspace / "good.txt", "--out", tmp_path / "r", "--max-length", "8",
                     "--set", "data.fixed_length=true", cwd=tmp_path)
    assert result.returncode == 2 and "exactly 8 tokens" in result.stderr
    assert not (tmp_path / "r").exists()
