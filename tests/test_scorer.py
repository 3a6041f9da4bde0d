"""The one scorer of generated samples (evaluation/scorer.py) and the one shape of its scores."""

import json
from pathlib import Path

import pytest

from seqgan_gumbel.evaluation.scorer import SampleScorer, bleu_signature, format_scores
from seqgan_gumbel.metrics.bleu import BleuScorer, bleu, self_bleu

REFERENCES = [s.split() for s in ["the cat sat on the mat", "a dog ran in the park", "the dog sat on a log",
                                   "a cat ran on the mat"]]
SAMPLES = [s.split() for s in ["the cat sat on a log", "a dog sat on the mat", "the the the", "the cat sat on a log",
                                ""]]


def test_scores_equal_the_metrics_functions_exactly():
    scores = SampleScorer(REFERENCES, "none", (2, 3, 4, 5)).score(SAMPLES)
    assert scores.bleu.scores == bleu(SAMPLES, REFERENCES, (2, 3, 4, 5), "none").scores
    assert scores.self_bleu.scores == self_bleu(SAMPLES, (2, 3, 4, 5), "none").scores
    assert scores.bleu.signature == bleu(SAMPLES, REFERENCES, (2, 3, 4, 5), "none").signature
    assert scores.num_samples == 5 and scores.mean_length == (6 + 6 + 3 + 6 + 0) / 5
    assert scores.distinct == 4 / 5  # one sample repeats


def test_a_shared_bleu_scorer_gives_the_same_scores_and_must_reach_the_orders():
    shared = BleuScorer(REFERENCES, max_n=5)
    assert SampleScorer(shared, "none").score(SAMPLES) == SampleScorer(REFERENCES, "none").score(SAMPLES)
    with pytest.raises(ValueError, match="goes up to order 3, not 5"):
        SampleScorer(BleuScorer(REFERENCES, max_n=3), "none", (2, 5))


def test_the_serialised_form_holds_every_figure_with_its_signature():
    scores = SampleScorer(REFERENCES, "word", (2, 5)).score(SAMPLES)
    scores = scores.with_figure("nll_test", 3.25, "nll_test|model:generator.keras")
    out = json.loads(json.dumps(scores.to_dict()))
    assert list(out) == ["bleu", "self_bleu", "num_samples", "num_references", "mean_length", "distinct", "nll_test",
                         "signature"]
    assert set(out["bleu"]) == {"2", "5"} and out["num_references"] == 4 and out["nll_test"] == 3.25
    assert out["signature"] == {"bleu": scores.bleu.signature, "self_bleu": scores.self_bleu.signature,
                                "nll_test": "nll_test|model:generator.keras"}
    assert bleu_signature(out) == scores.bleu.signature
    assert bleu_signature({"bleu_signature": "old"}) == "old"  # a run written before the scorer
    assert format_scores(out).startswith(f"BLEU-2: {out['bleu']['2']:.3f}  BLEU-5: ")
    assert "NLL_test: 3.250" in format_scores(out)
    with pytest.raises(ValueError, match="not a model figure"):
        scores.with_figure("bleu", 1.0, "x")


def test_without_references_or_self_bleu_only_the_sample_figures_remain():
    scores = SampleScorer(None, "none", with_self_bleu=False).score(SAMPLES)
    assert scores.bleu is None and scores.self_bleu is None
    assert scores.to_dict() == {"num_samples": 5, "mean_length": 4.2, "distinct": 0.8, "signature": {}}


class _Checker:
    def validity(self, sentences):
        return sum(len(s) == 6 for s in sentences) / len(sentences)


class _Oracle:
    sequence_length = 6

    def nll_of_tokens(self, samples):
        scorable = [s for s in samples if len(s) == self.sequence_length]
        return (1.5 if scorable else None), len(scorable)


def test_grammar_validity_and_nll_oracle_come_with_their_signatures():
    scores = SampleScorer(REFERENCES, "none", grammar_checker=_Checker(), grammar_name="g.pcfg", oracle=_Oracle(),
                          oracle_name="w.npz").score(SAMPLES)
    assert scores.grammar_validity == 3 / 5 and scores.nll_oracle == 1.5 and scores.nll_oracle_scored == 3
    out = scores.to_dict()
    assert out["nll_oracle_scored_samples"] == 3
    assert out["signature"]["grammar_validity"].startswith("grammar_validity|grammar:g.pcfg|samples:5|tok:none")
    assert out["signature"]["nll_oracle"].startswith("nll_oracle|oracle:seqgan|weights:w.npz|length:6|samples:3")


def _final_report(trained_run) -> dict:
    return json.loads((trained_run.run / "metrics.json").read_text())


def _report_tokens(trained_run) -> tuple[list[list[str]], list[list[str]]]:
    """The final report's samples (sampled again as the report samples them) and its references, as tokens."""
    from seqgan_gumbel.generation import sample_ids
    from seqgan_gumbel.rundir import RunDirectory

    run = RunDirectory(trained_run.run)
    config, tokenizer = run.load_config(), run.load_tokenizer()
    ids = sample_ids(run.load_generator("generator.keras", tokenizer), config.training.num_eval_samples,
                     seed=config.training.seed)
    references = [tokenizer.tokenize(s) for s in trained_run.test.read_text().splitlines()]
    return [tokenizer.ids_to_tokens(row) for row in ids], references


def _cli_scores(trained_run, tmp_path) -> dict:
    """`seqgan-gumbel evaluate` of the report's tokens written one sentence a line (--tokenize none reads them
    back exactly; samples/final.txt is detokenized text, which need not split back into the same tokens)."""
    from conftest import run_cli

    samples, references = _report_tokens(trained_run)
    (tmp_path / "samples.txt").write_text("".join(" ".join(s) + "\n" for s in samples))
    (tmp_path / "references.txt").write_text("".join(" ".join(s) + "\n" for s in references))
    result = run_cli("evaluate", "--samples", tmp_path / "samples.txt", "--references", tmp_path / "references.txt",
                     "--tokenize", "none", "--self-bleu", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _sweep_scores(trained_run, tmp_path) -> dict:
    from seqgan_gumbel.evaluation.sweep import sweep_run
    from seqgan_gumbel.rundir import RunDirectory

    config = RunDirectory(trained_run.run).load_config()
    curve = sweep_run(trained_run.run, references=trained_run.test.read_text().splitlines(), temperatures=[1.0],
                      num_samples=config.training.num_eval_samples, seed=config.training.seed)
    return {"bleu": {str(n): v for n, v in curve.bleu[1.0].items()},
            "self_bleu": {str(n): v for n, v in curve.self_bleu[1.0].items()},
            "mean_length": curve.mean_length[1.0], "distinct": curve.distinct[1.0]}


def _benchmark_scores(trained_run, tmp_path) -> dict:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "run_preset", Path(__file__).resolve().parents[1] / "benchmarks" / "run_preset.py")
    run_preset = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_preset)
    config = json.loads((trained_run.run / "config.json").read_text())["training"]
    scorer = run_preset.make_scorer(trained_run.run, str(trained_run.test), None)
    return run_preset.evaluate(trained_run.run, "generator.keras", str(trained_run.test), scorer,
                               config["num_eval_samples"], config["seed"])


@pytest.mark.parametrize("path", [_cli_scores, _sweep_scores, _benchmark_scores],
                         ids=["evaluate-cli", "sweep", "benchmark"])
def test_every_path_scores_as_the_training_report_does(trained_run, tmp_path, path):
    """The report's samples, scored by the CLI, the temperature sweep and the benchmarks' recorder, give the
    report's figures exactly: one scorer behind all four."""
    report, scores = _final_report(trained_run), path(trained_run, tmp_path)
    for key in ("bleu", "self_bleu", "mean_length", "distinct"):
        assert scores[key] == pytest.approx(report[key], rel=1e-12), key
    if "nll_test" in scores:
        assert scores["signature"]["bleu"] == report["signature"]["bleu"]
        assert scores["nll_test"] == pytest.approx(report["nll_test"], rel=1e-5)
