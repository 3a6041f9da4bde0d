"""The final verdict: a run's GAN against its own MLE temperature curve, with the sampling noise (issue 13)."""

import json
import math
import shutil

import numpy as np
import pytest

from seqgan_gumbel.evaluation.frontier import (
    FRONTIER_TEMPERATURES,
    NOISE_Z,
    VERDICTS,
    frontier_gap,
    frontier_verdict,
    point_statistics,
    verdict_lines,
)
from seqgan_gumbel.metrics.bleu import BleuScorer, bleu, self_bleu, self_bleu_sentence_scores
from seqgan_gumbel.evaluation.report import write_report


def _point(self_bleu_value, bleu_value, length=10.0, bleu_se=0.0, self_bleu_se=0.0, temperature=1.0, samples=1000,
           covariance=0.0):
    return {"temperature": temperature, "samples": samples, "mean_length": length, "bleu": bleu_value,
            "bleu_se": bleu_se, "self_bleu": self_bleu_value, "self_bleu_se": self_bleu_se, "covariance": covariance}


# A straight MLE curve, BLEU = 0.5 * Self-BLEU, from Self-BLEU 0.2 to 0.6, given in no particular order.
CURVE = [_point(0.4, 0.20, temperature=1.0), _point(0.6, 0.30, temperature=0.8), _point(0.2, 0.10, temperature=1.2)]


# -- point_statistics: the same means as the metrics, and their standard errors -----------------------------


def test_point_statistics_equal_the_metrics_and_give_standard_errors():
    rng = np.random.default_rng(0)
    words = "a b c d e f g h".split()
    hypotheses = [list(rng.choice(words, size=rng.integers(1, 9))) for _ in range(60)]
    references = [list(rng.choice(words, size=rng.integers(2, 9))) for _ in range(40)]
    scorer = BleuScorer(references, max_n=5)
    stats = point_statistics(hypotheses, scorer)
    # Bit-equal to what the report prints for the same samples.
    assert stats["bleu"] == bleu(hypotheses, references, orders=(5,), tokenization="none").scores[5]
    assert stats["self_bleu"] == self_bleu(hypotheses, orders=(5,), tokenization="none").scores[5]
    assert stats["mean_length"] == pytest.approx(np.mean([len(h) for h in hypotheses]))
    assert stats["samples"] == 60
    per_sentence = scorer.sentence_scores(hypotheses, 5)
    assert stats["bleu_se"] == pytest.approx(np.std(per_sentence, ddof=1) / math.sqrt(60))
    per_sample = self_bleu_sentence_scores(hypotheses, (5,))[5]
    assert stats["self_bleu_se"] == pytest.approx(np.std(per_sample, ddof=1) / math.sqrt(60))
    assert stats["covariance"] == pytest.approx(np.cov(per_sentence, per_sample)[0, 1] / 60)
    assert stats["bleu_se"] > 0 and stats["self_bleu_se"] > 0


def test_standard_errors_shrink_with_more_samples():
    rng = np.random.default_rng(1)
    words = "a b c d e f".split()
    references = [list(rng.choice(words, size=6)) for _ in range(50)]
    scorer = BleuScorer(references, max_n=5)
    small = point_statistics([list(rng.choice(words, size=6)) for _ in range(50)], scorer)
    large = point_statistics([list(rng.choice(words, size=6)) for _ in range(800)], scorer)
    # About 1/sqrt(16) = 1/4 of the error at 16 times the samples.
    assert 0.15 < large["bleu_se"] / small["bleu_se"] < 0.4


# -- frontier_verdict on hand-built curves ------------------------------------------------------------------


@pytest.mark.parametrize("bleu_value, expected", [(0.20 + 0.05, "above"), (0.20 - 0.05, "below"),
                                                  (0.20 + 0.005, "level"), (0.20 - 0.005, "level")])
def test_the_verdict_compares_the_gap_with_its_noise(bleu_value, expected):
    # Slope 0.5 between the curve's points; a GAN at Self-BLEU 0.4 is compared with the curve's 0.20.
    curve = [dict(p, bleu_se=0.006, self_bleu_se=0.004) for p in CURVE]
    point = _point(0.4, bleu_value, bleu_se=0.006, self_bleu_se=0.004)
    verdict = frontier_verdict(curve, point, start_length=10.0)
    assert verdict["verdict"] == expected
    assert verdict["gap"] == pytest.approx(bleu_value - 0.20)
    assert verdict["mle_bleu"] == pytest.approx(0.20)
    # At a curve point exactly: both BLEU errors, and both Self-BLEU errors times the slope 0.5.
    expected_noise = NOISE_Z * math.sqrt(0.006 ** 2 + 0.006 ** 2 + 0.5 ** 2 * (0.004 ** 2 + 0.004 ** 2))
    assert verdict["noise"] == pytest.approx(expected_noise)


def test_the_noise_between_curve_points_weights_their_errors():
    curve = [_point(0.2, 0.10, bleu_se=0.01, temperature=1.2), _point(0.4, 0.20, bleu_se=0.03, temperature=1.0)]
    point = _point(0.25, 0.125, bleu_se=0.02)  # a quarter of the way from the first point to the second
    verdict = frontier_verdict(curve, point, start_length=10.0)
    assert verdict["gap"] == pytest.approx(0.0) and verdict["verdict"] == "level"
    assert verdict["noise"] == pytest.approx(NOISE_Z * math.sqrt(0.02 ** 2 + (0.75 * 0.01) ** 2 + (0.25 * 0.03) ** 2))


def test_errors_along_the_curve_cancel_and_errors_across_it_add():
    # A point's BLEU and Self-BLEU errors that move it along the curve's slope (0.5) do not move its gap:
    # var(BLEU - 0.5 Self-BLEU) = 0.01^2 + 0.25 * 0.02^2 - 2 * 0.5 * cov, zero at cov = 0.0002.
    along = _point(0.4, 0.2, bleu_se=0.01, self_bleu_se=0.02, covariance=0.0002)
    against = _point(0.4, 0.2, bleu_se=0.01, self_bleu_se=0.02, covariance=-0.0002)
    independent = _point(0.4, 0.2, bleu_se=0.01, self_bleu_se=0.02)
    assert frontier_verdict(CURVE, along, 10.0)["noise"] == pytest.approx(0.0, abs=1e-12)
    assert frontier_verdict(CURVE, independent, 10.0)["noise"] == pytest.approx(NOISE_Z * math.sqrt(2e-4))
    assert frontier_verdict(CURVE, against, 10.0)["noise"] == pytest.approx(NOISE_Z * math.sqrt(4e-4))


def test_a_gan_that_changed_its_length_is_not_called_better():
    # Far above the curve, but with sentences 28% shorter (the COCO defaults' 1,800-step run).
    verdict = frontier_verdict(CURVE, _point(0.4, 0.30, length=8.2), start_length=11.38)
    assert verdict["verdict"] == "length"
    assert verdict["length_change"] == pytest.approx(8.2 / 11.38 - 1)
    assert verdict["gap"] == pytest.approx(0.10)  # still reported
    conclusion = verdict_lines(verdict)[1]
    assert conclusion.startswith("not an improvement: its sentences are 28% shorter")
    # Within 10% it is compared.
    assert frontier_verdict(CURVE, _point(0.4, 0.30, length=10.5), start_length=11.38)["verdict"] == "above"


def test_a_point_outside_the_curve_is_not_compared():
    verdict = frontier_verdict(CURVE, _point(0.75, 0.9), start_length=10.0)
    assert verdict["verdict"] == "outside" and verdict["gap"] is None and verdict["noise"] is None
    assert verdict["self_bleu_range"] == [0.2, 0.6]
    assert "outside the MLE curve's range [0.200, 0.600]" in verdict_lines(verdict)[1]


def test_verdict_lines_say_what_each_verdict_means():
    texts = {}
    for bleu_value, length in ((0.25, 10.0), (0.15, 10.0), (0.20, 10.0), (0.25, 5.0)):
        verdict = frontier_verdict([dict(p, bleu_se=0.006) for p in CURVE], _point(0.4, bleu_value, length=length,
                                                                                  bleu_se=0.006), 10.0)
        texts[verdict["verdict"]] = verdict_lines(verdict)
    texts["outside"] = verdict_lines(frontier_verdict(CURVE, _point(0.9, 0.5), 10.0))
    assert set(texts) == set(VERDICTS)
    assert texts["above"][1].startswith("above its MLE curve: better than its MLE start")
    assert texts["below"][1].startswith("below its MLE curve: worse than its MLE start")
    assert texts["level"][1].startswith("on its MLE curve: no gain")
    assert texts["above"][2].startswith("gap +0.0500 BLEU-5 (sampling noise +-0.0170, 2 standard errors at 1000 ")
    assert "mean length 10.00, +0.0% against the MLE start's 10.00" in texts["above"][2]
    assert texts["level"][0].startswith("Against its MLE start (BLEU-5 at equal Self-BLEU-5")
    assert "T 0.8-1.2" in texts["level"][0]


# -- in a real run: the train command and the report say it ------------------------------------------------


def test_a_trained_run_reports_its_verdict(trained_run):
    metrics = json.loads((trained_run.run / "metrics.json").read_text())
    curve = metrics["mle"]["frontier_curve"]
    assert [p["temperature"] for p in curve] == list(FRONTIER_TEMPERATURES)
    # The curve's temperature-1 point is the MLE report's own samples, the verdict's point the GAN report's.
    at_1 = next(p for p in curve if p["temperature"] == 1.0)
    assert at_1["bleu"] == metrics["mle"]["bleu"]["5"] and at_1["self_bleu"] == metrics["mle"]["self_bleu"]["5"]
    assert at_1["mean_length"] == metrics["mle"]["mean_length"]
    verdict = metrics["frontier"]
    assert verdict["bleu"] == metrics["bleu"]["5"] and verdict["self_bleu"] == metrics["self_bleu"]["5"]
    assert verdict["samples"] == metrics["num_samples"] and verdict["verdict"] in VERDICTS
    # Cooler samples repeat more: the curve's Self-BLEU rises as the temperature falls.
    assert curve[0]["self_bleu"] > curve[-1]["self_bleu"]
    # The stored verdict is the one its stored inputs give.
    expected_gap = frontier_gap([(p["self_bleu"], p["bleu"]) for p in curve], verdict["self_bleu"], verdict["bleu"])
    if expected_gap is None:
        assert verdict["verdict"] == "outside" and verdict["gap"] is None
    else:
        assert verdict["gap"] == pytest.approx(expected_gap) and verdict["noise"] > 0
    heading, conclusion, figures = verdict_lines(verdict)
    stdout = trained_run.result.stdout
    assert f"{heading}\n  {conclusion}\n  {figures}" in stdout


def test_the_report_has_the_verdict(trained_run, tmp_path):
    out = tmp_path / "report"
    write_report(trained_run.run, out)
    text = (out / "report.md").read_text()
    heading, conclusion, figures = verdict_lines(json.loads((trained_run.run / "metrics.json").read_text())["frontier"])
    assert f"**{heading}** {conclusion}; {figures}." in text


def test_a_malformed_verdict_leaves_the_report_without_it(trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run.run, run)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["frontier"] = {"verdict": "above"}  # written by hand or by another tool
    (run / "metrics.json").write_text(json.dumps(metrics))
    write_report(run, tmp_path / "report")
    assert "Against its MLE start" not in (tmp_path / "report" / "report.md").read_text()


def test_the_noise_check_draws_the_mle_generator_against_fresh_curves(trained_run, tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "verdict_noise.py"
    spec = importlib.util.spec_from_file_location("verdict_noise", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(trained_run.run), "--draws", "3", "--out", str(tmp_path / "noise.json")]) == 0
    result = json.loads((tmp_path / "noise.json").read_text())
    assert sum(result["verdicts"].values()) == 3 and result["samples"] == 40
    assert result["gap_sd"] >= 0 and result["estimated_se_mean"] > 0
    assert 0 <= result["false_alarms"] <= 1 and result["self_bleu_se_mean"] > 0
    # The gap's two parts add up to it, draw by draw and so on average.
    assert result["linear_gap_mean"] + result["kink_gap_mean"] == pytest.approx(result["gap_mean"], abs=1e-12)
    # On a straight curve the kink part vanishes; off it, it is what the chord misses.
    straight = [{"temperature": t, "self_bleu": 0.5 - t / 4, "bleu": 0.9 - t / 2} for t in (0.9, 1.0, 1.1)]
    point = {"self_bleu": 0.255, "bleu": 0.41}
    assert module.linear_gap(straight, point) == pytest.approx(0.41 - (0.9 - 1.0 / 2 + 2 * (0.255 - 0.25)))
    bent = [dict(p) for p in straight]
    bent[1]["bleu"] += 0.01  # the T 1 point above the chord of its neighbours
    assert module.linear_gap(bent, point) == pytest.approx(module.linear_gap(straight, point) - 0.01)
