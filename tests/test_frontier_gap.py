"""benchmarks/frontier_gap.py: a GAN point against its MLE curve at equal Self-BLEU."""

import importlib.util
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
