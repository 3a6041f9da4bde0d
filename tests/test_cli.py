"""The command line end to end, as a user runs it: in this process through
`cli.main` (see conftest.run_cli), and in a real subprocess where the process
is the point."""

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, TINY_CLI, run_cli


def test_train_prints_samples_and_a_bleu_report(trained_run):
    folder, result = trained_run.folder, trained_run.result
    assert "Samples:" in result.stdout and "BLEU-5" in result.stdout and "NLL_test" in result.stdout
    assert "after MLE pretraining only" in result.stdout
    assert (folder / "run" / "generator.keras").exists()


def test_generate_then_evaluate(trained_run):
    folder = trained_run.folder
    out = folder / "samples.txt"
    gen = run_cli("generate", folder / "run", "--num", 30, "--seed", 1, "--output", out)
    assert gen.returncode == 0, gen.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 30
    again = run_cli("generate", folder / "run", "--num", 30, "--seed", 1)
    assert again.stdout.splitlines() == lines  # same seed, same sentences
    ev = run_cli("evaluate", "--samples", out, "--references", folder / "test.txt", "--json", "--self-bleu")
    assert ev.returncode == 0, ev.stderr
    report = json.loads(ev.stdout)
    assert set(report["bleu"]) == {"2", "3", "4", "5"} and set(report["self_bleu"]) == {"2", "3", "4", "5"}
    assert report["num_samples"] == 30 and report["num_references"] == 64
    from seqgan_gumbel.metrics.bleu import bleu

    expected = bleu(lines, (folder / "test.txt").read_text().splitlines()).scores
    assert {int(n): v for n, v in report["bleu"].items()} == pytest.approx(expected, rel=1e-12)
    table = run_cli("evaluate", "--samples", out, "--references", folder / "test.txt", "--n", 2, 4)
    assert "BLEU" in table.stdout and "refs_per_hyp:all" in table.stdout


def test_generate_from_the_mle_generator(trained_run):
    from seqgan_gumbel.generation import generate

    def sampled(*flags):
        result = run_cli("generate", trained_run.run, "--num", 30, "--seed", 2, "--format", "jsonl", *flags)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    mle, gan = sampled("--mle"), sampled()
    assert [r["text"] for r in mle] == generate(trained_run.run, 30, seed=2, model="generator_mle.keras")
    # A few adversarial steps may leave the sentences alike, never their log-probabilities:
    # each is scored by the generator that wrote it, so the flag is what chose.
    assert [r["log_prob"] for r in mle] != [r["log_prob"] for r in gan]


def test_existing_run_directory_is_refused_and_untouched(trained_run):
    folder = trained_run.folder
    before = (folder / "run" / "generator.keras").read_bytes()
    result = run_cli("train", "--corpus", folder / "train.txt", "--out", folder / "run", *TINY_CLI)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "already exists" in result.stderr
    assert "Traceback" not in result.stderr
    assert (folder / "run" / "generator.keras").read_bytes() == before


def test_damaged_model_file_is_reported(trained_run, tmp_path):
    import shutil

    folder = trained_run.folder
    copy = tmp_path / "run"
    shutil.copytree(folder / "run", copy)
    model = copy / "generator.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    result = run_cli("generate", copy, "--num", 3)
    assert result.returncode == 2
    assert "generator.keras: cannot load the model" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_shows_defaults():
    result = run_cli("train", "--help")
    assert result.returncode == 0
    assert "default: exp" in result.stdout and "--adversarial-steps" in result.stdout


def test_train_py_uses_the_embedded_corpus_by_default():
    sys.path.insert(0, str(REPO_ROOT))
    import train

    argv = train.with_defaults(["--adversarial-steps", "5"])
    assert argv[0] == "train"
    assert argv[argv.index("--corpus") + 1].endswith("data/simple_english/train.txt")
    assert argv[argv.index("--test") + 1].endswith("data/simple_english/test.txt")
    assert "/runs/run-" in argv[argv.index("--out") + 1]
    assert train.DEFAULT_CORPUS.exists()


def test_evaluate_grammar_validity(tmp_path):
    samples = tmp_path / "s.txt"
    samples.write_text("x + x\nx x +\nx * x / x\n+\n")
    result = run_cli("evaluate", "--samples", samples, "--grammar", REPO_ROOT / "data" / "arithmetic.pcfg", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["grammar_validity"] == 0.5


def test_oracle_sample_and_score(tmp_path):
    from conftest import shared_dataset

    weights = shared_dataset("oracle", "seqgan_oracle_params.npz")
    made = run_cli("oracle", "sample", "--weights", weights, "--out", tmp_path, "--num-train", 300, "--num-test", 300)
    assert made.returncode == 0, made.stderr
    assert len((tmp_path / "train.txt").read_text().splitlines()) == 300
    scored = run_cli("oracle", "score", "--weights", weights, "--samples", tmp_path / "test.txt", "--json")
    assert scored.returncode == 0, scored.stderr
    assert abs(json.loads(scored.stdout)["nll_oracle"] - 5.75) < 0.15  # 300 samples: sampling noise
    bad = run_cli("oracle", "score", "--weights", weights, "--samples", REPO_ROOT / "data" / "arithmetic" / "test.txt")
    assert bad.returncode == 2 and "expected exactly 20 tokens" in bad.stderr
    assert bad.stderr.strip().count("\n") == 0


def test_evaluate_sweep_writes_json_and_png(trained_run):
    folder = trained_run.folder
    prefix = folder / "sweep"
    result = run_cli("evaluate-sweep", folder / "run", "--references", folder / "test.txt",
                     "--temperatures", 0.5, 1.5, "--num", 20, "--out", prefix)
    assert result.returncode == 0, result.stderr
    document = json.loads((folder / "sweep.json").read_text())
    assert [c["label"] for c in document["curves"]] == ["run/gan", "run/mle"]
    assert (folder / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "run/mle" in result.stdout
    bad = run_cli("evaluate-sweep", folder / "nowhere", "--references", folder / "test.txt", "--out", prefix)
    assert bad.returncode == 2 and "run directory not found" in bad.stderr


def test_evaluate_sweep_with_an_oracle_reports_nll_oracle(trained_run):
    from conftest import shared_dataset

    weights = shared_dataset("oracle", "seqgan_oracle_params.npz")
    folder = trained_run.folder
    prefix = folder / "oracle-sweep"
    result = run_cli("evaluate-sweep", folder / "run", "--references", folder / "test.txt", "--temperatures", 1.0,
                     "--num", 20, "--no-mle", "--oracle", weights, "--out", prefix)
    assert result.returncode == 0, result.stderr
    assert "NLL_oracle" in result.stdout.splitlines()[0]
    # Word samples are not oracle ids: nothing can be scored, and the table says so.
    assert result.stdout.splitlines()[1].split()[-2:] == ["-", "0"]
    document = json.loads((folder / "oracle-sweep.json").read_text())
    assert document["curves"][0]["nll_oracle"] == {"1.0": {"nll": None, "scored": 0}}
    bad = run_cli("evaluate-sweep", folder / "run", "--references", folder / "test.txt", "--oracle",
                  folder / "none.npz", "--out", prefix)
    assert bad.returncode == 2 and "none.npz: oracle weights file not found" in bad.stderr


def test_evaluate_with_run_reports_nll_test(trained_run):
    folder = trained_run.folder
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    result = run_cli("evaluate", "--samples", folder / "run" / "samples" / "final.txt",
                     "--references", folder / "test.txt", "--run", folder / "run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["nll_test"] == pytest.approx(metrics["nll_test"], rel=1e-5)


def test_deterministic_flag_is_recorded_in_the_config():
    # That a deterministic run repeats exactly is test_training's; here, that the flag reaches the config.
    from seqgan_gumbel.cli import build_parser, config_from_args

    config = config_from_args(build_parser().parse_args(["train", "--out", "x", "--deterministic"]))
    assert config.training.deterministic is True
    assert config_from_args(build_parser().parse_args(["train", "--out", "x"])).training.deterministic is False


@pytest.mark.parametrize("flags, decay", [
    ([], 0.1),  # the default: keep-best MLE with the decay
    (["--no-keep-best-mle"], 0.0),  # the default decay goes with keep-best
    (["--mle-lr-decay", "0.5"], 0.5),
    (["--preset", "quick-coco"], 0.0),  # the presets' fixed-epoch protocol: no keep-best, no decay
])
def test_mle_lr_decay_follows_keep_best_mle_unless_given(flags, decay):
    # An explicit decay without keep-best is refused (test_bad_input); the default one is simply off.
    from seqgan_gumbel.cli import build_parser, config_from_args

    config = config_from_args(build_parser().parse_args(["train", "--out", "x", *flags]))
    assert config.training.pretrain_lr_decay == decay


def test_the_installed_entry_point_runs_in_a_real_process(tmp_path, tiny_corpus):
    """`python -m seqgan_gumbel` as a process, with TensorFlow's log level not set: bad input is one line on
    stderr (no traceback) and exit status 2; --help exits 0; a training run's stderr holds its own lines only,
    none of TensorFlow's C++ log (e.g. "E0000 ... oneDNN supports DT_INT32 only on platforms with AVX-512",
    which TensorFlow logs at the first adversarial step on CPUs without AVX-512 int32 kernels)."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    command = [sys.executable, "-m", "seqgan_gumbel"]
    bad = subprocess.run([*command, "generate", tmp_path / "nowhere", "--num", "3"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0, bad.stderr
    assert "nowhere: run directory not found" in bad.stderr
    assert subprocess.run([*command, "--help"], capture_output=True, env=env, timeout=300).returncode == 0
    train, test = tiny_corpus
    run = subprocess.run([*command, "train", "--corpus", train, "--out", tmp_path / "run", *TINY_CLI,
                          "--pretrain-epochs", "1", "--adversarial-steps", "1", "--log-format", "jsonl"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    tensorflow_log = [line for line in run.stderr.splitlines() if re.match(r"[IWEF]\d{4} ", line)]
    assert not tensorflow_log, tensorflow_log


def test_show_prints_the_resolved_config(trained_run):
    folder = trained_run.folder
    result = run_cli("show", folder / "run")
    assert result.returncode == 0, result.stderr
    config_text = result.stdout.split("# newest")[0]
    assert json.loads(config_text)["training"]["seed"] == 3
    assert "# newest checkpoint: gan-" in result.stdout and "finished" in result.stdout


def test_config_precedence_defaults_file_set_flags(tmp_path):
    from seqgan_gumbel.cli import build_parser, config_from_args

    path = tmp_path / "c.json"
    path.write_text(json.dumps({"training": {"beta_max": 7.0, "seed": 1, "batch_size": 8}}))
    args = build_parser().parse_args(["train", "--out", "x", "--config", str(path), "--set", "training.seed=2",
                                      "--set", "training.batch_size=16", "--batch-size", "32"])
    config = config_from_args(args)
    assert config.training.beta_max == 7.0  # file over default
    assert config.training.seed == 2  # --set over file
    assert config.training.batch_size == 32  # flag over --set


def test_generate_with_prefix_sampling_options_and_jsonl(trained_run):
    folder = trained_run.folder
    result = run_cli("generate", folder / "run", "--num", 12, "--seed", 4, "--prefix", "the old", "--top-k", 5,
                     "--top-p", 0.9, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 12
    assert all(r["text"].startswith("the old") for r in records)
    assert all(r["log_prob"] <= 0 and r["num_tokens"] >= 2 for r in records)
    unique = run_cli("generate", folder / "run", "--num", 20, "--seed", 4, "--unique", "--temperature", 0.3)
    lines = unique.stdout.splitlines()
    assert unique.returncode == 0 and len(lines) == len(set(lines))
    # The filters reach the sampler: top-k 1 is greedy, so every sentence is the same one.
    greedy = run_cli("generate", folder / "run", "--num", 8, "--seed", 4, "--top-k", 1, "--top-p", 0.9)
    assert greedy.returncode == 0 and len(set(greedy.stdout.splitlines())) == 1
    assert len(set(run_cli("generate", folder / "run", "--num", 8, "--seed", 4).stdout.splitlines())) > 1
    bad = run_cli("generate", folder / "run", "--prefix", "a zebra")
    assert bad.returncode == 2 and "'zebra' not in the run's vocabulary" in bad.stderr


def test_report_writes_valid_pngs_and_markdown(trained_run):
    folder = trained_run.folder
    result = run_cli("report", folder / "run")
    assert result.returncode == 0, result.stderr
    report = folder / "run" / "report"
    for name in ("losses.png", "temperature.png", "metrics.png"):
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "BLEU-5" in (report / "report.md").read_text()
    assert list((folder / "run" / "tensorboard").glob("events.out.tfevents*"))


def test_jsonl_progress_lines_parse_and_stdout_has_only_results(trained_run):
    result = trained_run.result  # trained with --log-format jsonl
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {r["phase"] for r in records} == {"mle", "gan"}
    assert all(isinstance(r["step"], int) for r in records)
    assert "Epoch" not in result.stdout and not any(line.startswith("{") for line in result.stdout.splitlines())
    assert result.stdout.startswith("Run directory:")


def test_the_vocabulary_flags_shape_the_vocabulary(tmp_path):
    """--min-frequency and --max-vocab reach the tokenizer a run is prepared with (no training needed)."""
    from seqgan_gumbel.cli import build_parser, config_from_args
    from seqgan_gumbel.training.prepare import prepare_run

    corpus = tmp_path / "c.txt"
    corpus.write_text("a a a b b c\na b d\n")  # a 4, b 3, c 1, d 1

    def vocabulary(*flags):
        args = build_parser().parse_args(["train", "--corpus", str(corpus), "--out", str(tmp_path / "r"),
                                          "--batch-size", "2", "--validation-split", "0", "--no-keep-best-mle", *flags])
        return prepare_run(config_from_args(args), tmp_path / "r").tokenizer.vocabulary.tokens[4:]

    assert vocabulary() == ["a", "b", "c", "d"]
    assert vocabulary("--min-frequency", "2") == ["a", "b"]
    assert vocabulary("--max-vocab", "5") == ["a"]


def test_a_run_reports_its_vocabulary_and_the_test_corpus_unknown_fraction(trained_run):
    run = trained_run.run
    size = len(json.loads((run / "vocab.json").read_text())["tokens"])
    test = json.loads((run / "corpus_stats.json").read_text())["test"]
    expected = (f"vocabulary: {size} tokens (word level), "
                f"{test['unknown_tokens'] / test['tokens']:.1%} of the test corpus's tokens unknown")
    assert expected in trained_run.result.stderr.splitlines()
    assert f"run directory: {run}" in trained_run.result.stderr.splitlines()
