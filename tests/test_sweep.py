"""The temperature sweep and its quality-diversity frontier plot."""

import json
import math

import pytest

from seqgan_gumbel.config import Config
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.metrics.bleu import BleuScorer, self_bleu
from seqgan_gumbel.rundir import GENERATOR_FILE, MLE_GENERATOR_FILE, RunDirectory
from seqgan_gumbel.evaluation.figures import plot_frontier
from seqgan_gumbel.evaluation.sweep import (
    SweepCurve,
    read_sweep,
    sweep_run,
    temperature_sweep,
    write_sweep,
)
from seqgan_gumbel.training.run import train

from conftest import tiny_config

TEMPERATURES = [0.05, 1.0, 2.0]
ORDERS = (2, 3, 4, 5)
NUM = 50
SEED = 3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _tiny_config(corpus, test) -> Config:
    return tiny_config(corpus, test, adversarial_steps=3, discriminator_steps=1, every=3, num_eval_samples=20)


@pytest.fixture(scope="module")
def tiny_run(trained_run):
    """(run dir, reference file) of conftest's tiny trained run."""
    return trained_run.run, trained_run.test


@pytest.fixture(scope="module")
def swept(tiny_run, tmp_path_factory):
    """The curves of the tiny run, written as JSON and PNG."""
    run_dir, test_file = tiny_run
    curves = temperature_sweep([run_dir], test_file, TEMPERATURES, num_samples=NUM, orders=ORDERS, seed=SEED)
    folder = tmp_path_factory.mktemp("swept")
    json_path, png_path = folder / "sweep.json", folder / "sweep.png"
    write_sweep(curves, json_path, png_path, n=5)
    return curves, json_path, png_path


def _references(tiny_run):
    run_dir, test_file = tiny_run
    tokenizer = RunDirectory(run_dir).load_tokenizer()
    lines = [line for line in test_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tokenizer, [tokenizer.tokenize(line) for line in lines]


def test_sweep_writes_json_with_gan_and_mle_curves(swept, tiny_run):
    curves, json_path, _ = swept
    run_dir, _ = tiny_run
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["format"] == "seqgan_gumbel.sweep" and data["plotted_order"] == 5
    by_model = {c["model"]: c for c in data["curves"]}
    assert set(by_model) == {GENERATOR_FILE, MLE_GENERATOR_FILE}
    assert by_model[GENERATOR_FILE]["label"] == "run/gan"
    assert by_model[MLE_GENERATOR_FILE]["label"] == "run/mle"
    for curve in data["curves"]:
        assert curve["temperatures"] == TEMPERATURES
        assert curve["num_samples"] == NUM and curve["num_references"] == 64
        assert curve["orders"] == list(ORDERS)
        assert curve["run_dir"] == str(run_dir)
        for metric in ("bleu", "self_bleu"):
            assert set(curve[metric]) == {repr(t) for t in TEMPERATURES}
            for scores in curve[metric].values():
                assert set(scores) == {str(n) for n in ORDERS}
                assert all(0.0 <= s <= 1.0 for s in scores.values())
        assert "samples:50|refs:64" in curve["signatures"]["bleu"]
        assert "self_bleu|n:2,3,4,5|samples:50|refs:49" in curve["signatures"]["self_bleu"]
    # The file reads back into the same curves.
    assert read_sweep(json_path) == curves


def test_sweep_writes_a_readable_png(swept):
    import matplotlib.image

    _, _, png_path = swept
    raw = png_path.read_bytes()
    assert raw[:8] == PNG_SIGNATURE
    assert 10_000 < len(raw) < 2_000_000
    image = matplotlib.image.imread(png_path)
    assert image.shape[:2] == (720, 960) and image.shape[2] in (3, 4)
    # Not a blank canvas.
    assert image[..., :3].std() > 0.01
    assert not list(png_path.parent.glob(".sweep.png.tmp-*"))


def test_same_seed_same_curve_and_bleu_equals_the_direct_computation(swept, tiny_run):
    from seqgan_gumbel.generation import sample_ids

    curves, _, _ = swept
    run_dir, _ = tiny_run
    tokenizer, references = _references(tiny_run)
    gan = next(c for c in curves if c.model == GENERATOR_FILE)

    again = sweep_run(run_dir, model=GENERATOR_FILE, references=references, temperatures=TEMPERATURES,
                      num_samples=NUM, orders=ORDERS, seed=SEED)
    assert again == gan

    generator = RunDirectory(run_dir).load_model(GENERATOR_FILE)
    scorer = BleuScorer(references, max_n=5)
    for t in TEMPERATURES:
        ids = sample_ids(generator, NUM, temperature=t, seed=SEED)
        hyps = [tokenizer.ids_to_tokens(row) for row in ids]
        assert gan.bleu[t] == scorer.score(hyps, ORDERS)
        assert gan.self_bleu[t] == self_bleu(hyps, ORDERS).scores


def test_temperature_changes_diversity(swept):
    # Near-greedy sampling (T=0.05) repeats itself more than T=2, which flattens the softmax (the
    # same seed at every temperature: a sweep that ignored T would write the same samples). Self-BLEU
    # need not follow on a barely trained model: its near-greedy sentences are one or two tokens.
    curves, _, _ = swept
    for curve in curves:
        assert curve.distinct[0.05] < curve.distinct[2.0] and curve.distinct[2.0] > 0.5


def test_labels_order_and_plot_order_checks(swept, tiny_run, tmp_path):
    curves, _, _ = swept
    _, references = _references(tiny_run)
    run_dir, _ = tiny_run
    curve = sweep_run(run_dir, model=MLE_GENERATOR_FILE, references=references, temperatures=[1.0, 0.5, 1.0],
                      num_samples=2, orders=(2,), seed=0, label="baseline")
    assert curve.label == "baseline" and curve.temperatures == [0.5, 1.0] and curve.kind == "mle"
    assert set(curve.bleu[0.5]) == {2}
    with pytest.raises(UserInputError, match="not 5"):
        plot_frontier([curve], tmp_path / "x.png", n=5)
    with pytest.raises(UserInputError, match="no sweep curves"):
        plot_frontier([], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    assert SweepCurve.from_dict(json.loads(json.dumps(curve.to_dict()))) == curve


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(run_dirs=[]), "at least one run directory"),
        (dict(temperatures=[]), "at least one temperature"),
        (dict(temperatures=[0.0, 1.0]), "> 0"),
        (dict(temperatures=[1.0, -0.5]), "> 0"),
        (dict(temperatures=[math.nan]), "> 0"),
        (dict(temperatures=["hot"]), "not a number"),
        (dict(num_samples=1), ">= 2"),
        (dict(num_samples=0), ">= 2"),
    ],
)
def test_bad_arguments_are_user_errors(tiny_run, kwargs, message):
    run_dir, test_file = tiny_run
    args = dict(run_dirs=[run_dir], references_path=test_file, temperatures=[1.0], num_samples=10)
    args.update(kwargs)
    with pytest.raises(UserInputError, match=message) as info:
        temperature_sweep(**args)
    assert "\n" not in str(info.value)


def test_sweep_run_checks_its_arguments(tiny_run):
    run_dir, _ = tiny_run
    with pytest.raises(UserInputError, match="> 0"):
        sweep_run(run_dir, references=[["a"]], temperatures=[-1.0])
    with pytest.raises(UserInputError, match=">= 2"):
        sweep_run(run_dir, references=[["a"]], temperatures=[1.0], num_samples=1)
    with pytest.raises(UserInputError, match="reference"):
        sweep_run(run_dir, references=[], temperatures=[1.0])


def test_not_a_run_directory(tiny_run, tmp_path):
    _, test_file = tiny_run
    with pytest.raises(UserInputError, match="not a run directory"):
        temperature_sweep([tmp_path], test_file, [1.0], num_samples=10)
    with pytest.raises(UserInputError, match="run directory not found"):
        temperature_sweep([tmp_path / "missing"], test_file, [1.0], num_samples=10)
    with pytest.raises(UserInputError, match="not a run directory"):
        sweep_run(tmp_path, references=[["a"]], temperatures=[1.0])


def test_missing_references_file(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    with pytest.raises(UserInputError, match="reference file not found"):
        temperature_sweep([run_dir], tmp_path / "nope.txt", [1.0], num_samples=10)


def test_an_oracle_adds_nll_oracle_to_every_point(tmp_path):
    import numpy as np

    from seqgan_gumbel.generation import sample_ids
    from seqgan_gumbel.corpus.oracle import Oracle, write_sequences
    from test_oracle import random_weights

    weights = random_weights(vocab_size=12, hidden_size=6, seed=0)
    oracle = Oracle(weights, sequence_length=8)
    train_file, test_file = tmp_path / "train.txt", tmp_path / "test.txt"
    write_sequences(train_file, oracle.sample(256, seed=0))
    write_sequences(test_file, oracle.sample(64, seed=1))
    config = _tiny_config(train_file, test_file)
    config.data.fixed_length = True
    train(config, tmp_path / "run", log=lambda m: None, progress="none")
    curves = temperature_sweep([tmp_path / "run"], test_file, [0.5, 1.0], num_samples=NUM, orders=ORDERS,
                               seed=SEED, oracle_weights=weights)
    run = RunDirectory(tmp_path / "run")
    tokenizer = run.load_tokenizer()
    for curve in curves:
        generator = run.load_generator(curve.model, tokenizer)
        for temperature in (0.5, 1.0):
            samples = [tokenizer.ids_to_tokens(row) for row in sample_ids(generator, NUM, temperature, seed=SEED)]
            scorable = np.array([[int(t) for t in s] for s in samples if len(s) == 8 and all(t.isdigit() for t in s)])
            assert curve.nll_oracle[temperature] == {"nll": oracle.nll(scorable), "scored": len(scorable)}
            assert len(scorable) > NUM // 2
    write_sweep(curves, tmp_path / "sweep.json", tmp_path / "sweep.png")
    assert [c.nll_oracle for c in read_sweep(tmp_path / "sweep.json")] == [c.nll_oracle for c in curves]
