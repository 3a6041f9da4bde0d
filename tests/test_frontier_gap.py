"""benchmarks/frontier_gap.py: a GAN point against its MLE curve at equal Self-BLEU."""

import importlib.util
import json
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "frontier_gap", Path(__file__).resolve().parents[1] / "benchmarks" / "frontier_gap.py")
frontier_gap = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(frontier_gap)


def _curve(points, nll=None):
    """points: {temperature: (self_bleu, bleu)}."""
    curve = {"bleu": {t: {"5": b} for t, (_, b) in points.items()},
             "self_bleu": {t: {"5": s} for t, (s, _) in points.items()}}
    if nll is not None:
        curve["nll_oracle"] = {t: {"nll": v, "scored": 10} for t, v in nll.items()}
    return curve


def test_gap_is_measured_on_the_interpolated_mle_curve():
    mle = _curve({"1.0": (0.2, 0.10), "0.9": (0.4, 0.20)}, nll={"1.0": 9.0, "0.9": 8.0})
    gan = _curve({"1.0": (0.3, 0.17), "0.8": (0.9, 0.30)}, nll={"1.0": 8.2, "0.8": 7.0})
    rows = {row["temperature"]: row for row in frontier_gap.gaps(gan, mle)}
    # Halfway between the MLE points: BLEU 0.15, NLL_oracle 8.5.
    assert rows["1.0"]["mle_bleu"] == pytest.approx(0.15)
    assert rows["1.0"]["mle_nll_oracle"] == pytest.approx(8.5)
    assert rows["1.0"]["nll_oracle"] == 8.2
    # Beyond the MLE curve's most repetitive point: no comparison is made.
    assert rows["0.8"]["mle_bleu"] is None and "mle_nll_oracle" not in rows["0.8"]


def test_point_on_an_mle_point_and_curves_without_oracle():
    mle = _curve({"1.0": (0.2, 0.10), "0.9": (0.4, 0.20)})
    gan = _curve({"1.0": (0.4, 0.25)})
    (row,) = frontier_gap.gaps(gan, mle)
    assert row["mle_bleu"] == pytest.approx(0.20)
    assert "nll_oracle" not in row


def _record(seeds):
    """An ablation.py record: seeds -> {curve name: {temperature: (self_bleu, bleu)}}."""
    return {"runs": {seed: {name: {**_curve(points), "signatures": {"bleu": "refs:10"}}
                            for name, points in curves.items()} for seed, curves in seeds.items()}}


def test_cross_gaps_place_each_record_on_the_other_records_mle_curve():
    base = _record({"1": {"mle": {"1.0": (0.2, 0.10), "0.9": (0.4, 0.20)}, "gan": {"1.0": (0.3, 0.14)}},
                    "2": {"mle": {"1.0": (0.2, 0.10)}}})
    other = _record({"1": {"mle": {"1.0": (0.3, 0.16), "0.9": (0.5, 0.26)}, "gan": {"1.0": (0.4, 0.22)}}})
    found = {(c["seed"], c["curve"], c["against"]): c["rows"] for c in frontier_gap.cross_gaps(base, other)}
    # Only the seed both records hold; OTHER's curves on BASE's MLE curve, BASE's variants on OTHER's.
    assert set(found) == {("1", "other mle", "base mle"), ("1", "other gan", "base mle"),
                          ("1", "base gan", "other mle")}
    other_mle = {r["temperature"]: r for r in found[("1", "other mle", "base mle")]}
    assert other_mle["1.0"]["mle_bleu"] == pytest.approx(0.15)  # halfway along BASE's curve
    assert other_mle["0.9"]["mle_bleu"] is None  # Self-BLEU 0.5: beyond BASE's curve
    (base_gan,) = found[("1", "base gan", "other mle")]
    assert base_gan["bleu"] - base_gan["mle_bleu"] == pytest.approx(0.14 - 0.16)


def test_cross_gaps_refuse_records_scored_against_different_references():
    base = _record({"1": {"mle": {"1.0": (0.2, 0.10)}}})
    other = _record({"1": {"mle": {"1.0": (0.2, 0.10)}}})
    other["runs"]["1"]["mle"]["signatures"]["bleu"] = "refs:20"
    with pytest.raises(ValueError, match="seed 1"):
        frontier_gap.cross_gaps(base, other)


def test_each_gap_reports_both_generators_mean_length_at_its_temperature(tmp_path, monkeypatch, capsys):
    mle = {**_curve({"1.0": (0.2, 0.10), "0.9": (0.4, 0.20)}), "mean_length": {"1.0": 10.0, "0.9": 9.0},
           "run_dir": "runs/a", "label": "runs/a/mle"}
    gan = {**_curve({"1.0": (0.3, 0.17), "0.8": (0.9, 0.30)}), "mean_length": {"1.0": 8.0, "0.8": 7.0},
           "run_dir": "runs/a", "label": "runs/a/gan"}
    rows = {row["temperature"]: row for row in frontier_gap.gaps(gan, mle)}
    assert (rows["1.0"]["mean_length"], rows["1.0"]["mle_mean_length"]) == (8.0, 10.0)
    assert (rows["0.8"]["mean_length"], rows["0.8"]["mle_mean_length"]) == (7.0, None)  # no MLE point at T 0.8
    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps({"curves": [mle, gan]}), encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["frontier_gap.py", str(sweep)])
    frontier_gap.main()
    lines = {line.split(":")[0].strip(): line for line in capsys.readouterr().out.splitlines()}
    # A 20% shorter GAN says so beside its gap; without the MLE start's length, no length is claimed.
    assert lines["GAN T 1.0"].endswith("(+0.0200); length 8.00 (MLE 10.00, -20.0%)")
    assert lines["GAN T 0.8"].endswith("outside the MLE curve's range")
