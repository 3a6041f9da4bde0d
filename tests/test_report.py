"""The run report: plots and Markdown from a synthetic run directory (no training, no TensorFlow)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from seqgan_gumbel.config import Config
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.report import write_report
from seqgan_gumbel.evaluation.series import smooth
from seqgan_gumbel.runlog import phase_records, read_records

from conftest import REPO_ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MLE_STEPS = 120
GAN_STEPS = 200


def _scores(bleu2, nll):
    return {
        "bleu": {"2": bleu2, "3": bleu2 * 0.7, "4": bleu2 * 0.45, "5": bleu2 * 0.3},
        "bleu_signature": "nrefs:64|order:2-5|smooth:none|tok:word",
        "nll_test": nll, "nll_train": nll - 0.1, "num_samples": 200, "num_references": 64,
    }


def make_run(folder, adversarial=True, evals=True, final_metrics=True):
    """A run directory as training leaves it, with fake but plausible numbers."""
    folder.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.data.corpus = "data/train.txt"
    config.data.test = "data/test.txt"
    config.training.adversarial_steps = GAN_STEPS
    (folder / "config.json").write_text(config.to_json())
    rng = np.random.default_rng(0)
    records = []
    for step in range(1, MLE_STEPS + 1):
        records.append({"phase": "mle", "step": step, "time": step * 0.1,
                        "nll": 4.0 * math.exp(-step / 40) + 1.5 + rng.normal(0, 0.05)})
        if step % 30 == 0:
            records.append({"phase": "mle", "step": step, "time": step * 0.1, "epoch": step // 30,
                            "val_nll": 4.0 * math.exp(-step / 40) + 1.7})
    if evals:
        records.append({"phase": "eval", "step": 0, "bleu": _scores(0.6, 2.0)["bleu"], "nll_test": 2.0})
    if adversarial:
        for step in range(1, GAN_STEPS + 1):
            beta = 100.0 ** (step / GAN_STEPS)
            records.append({"phase": "gan", "step": step, "time": 20 + step * 0.2,
                            "d_loss": 0.69 - 0.1 * step / GAN_STEPS + rng.normal(0, 0.05),
                            "g_loss": 0.70 + 0.2 * step / GAN_STEPS + rng.normal(0, 0.08),
                            "beta": beta, "temperature": 1 / beta})
            if evals and step % 50 == 0:
                records.append({"phase": "eval", "step": step, "bleu": _scores(0.6 + step / 2000, 2.0)["bleu"],
                                "nll_test": 2.0 + step / 1000, "nll_train": 1.9 + step / 1000})
    with open(folder / "metrics.jsonl", "w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
        handle.write('{"phase": "gan", "step": 3, "d_lo')  # a line cut short by a kill
    mle_scores = _scores(0.60, 2.0)
    (folder / "metrics_mle.json").write_text(json.dumps(mle_scores))
    if final_metrics:
        final = _scores(0.70, 2.2)
        final.update(mle=mle_scores, references="test", pretrain_seconds=12.5, train_seconds=60.0, version="0.1.0")
        (folder / "metrics.json").write_text(json.dumps(final))
    (folder / "samples").mkdir(exist_ok=True)
    (folder / "samples" / "pretrained.txt").write_text("".join(f"pretrained sentence {i} .\n" for i in range(20)))
    if adversarial:
        (folder / "samples" / "final.txt").write_text("".join(f"final sentence {i} .\n" for i in range(30)))
    return folder


def _check_png(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300 and image.shape[2] in (3, 4)
    # Not blank: some pixels differ from the background.
    assert float(image[..., :3].std()) > 0.01


def test_full_report_writes_three_plots_and_markdown(tmp_path):
    run = make_run(tmp_path / "run")
    written = write_report(run)
    assert set(written) == {"losses", "temperature", "metrics", "report"}
    assert all(path.parent == run / "report" for path in written.values())
    for key in ("losses", "temperature", "metrics"):
        _check_png(written[key])
    report = written["report"].read_text()
    assert report.startswith("# Run report: run")
    # Settings, the final metrics table with both columns, training summary and links.
    assert "| GAN loss | rsgan |" in report
    assert "| adversarial steps | 200 |" in report
    assert "MLE-pretrained" in report and "after adversarial training (GAN)" in report
    assert "| BLEU-2 (higher = better) | 0.6000 | 0.7000 | +0.1000 |" in report
    assert "| BLEU-5 (higher = better) |" in report
    assert "NLL_test" in report and "2.2000" in report
    assert "BLEU signature: `nrefs:64|order:2-5|smooth:none|tok:word`" in report
    assert "200 steps logged" in report
    assert "1 unreadable line(s) of metrics.jsonl skipped" in report
    for name in ("losses.png", "temperature.png", "metrics.png"):
        assert f"]({name})" in report
    # Ten samples of each generator, not more.
    assert "pretrained sentence 9 ." in report and "pretrained sentence 10 ." not in report
    assert "final sentence 9 ." in report and "final sentence 10 ." not in report
    assert "../samples/final.txt" in report
    # No temporary files left behind by the atomic writes.
    assert sorted(p.name for p in (run / "report").iterdir()) == [
        "losses.png", "metrics.png", "report.md", "temperature.png"]


def test_the_bleu_signature_of_todays_score_records_is_shown(tmp_path):
    """Score records have held their signatures under "signature" since the one scorer (the runs above: before)."""
    run = make_run(tmp_path / "run")
    for name in ("metrics.json", "metrics_mle.json"):
        scores = json.loads((run / name).read_text())
        for record in (scores, scores.get("mle", {})):
            if "bleu_signature" in record:
                record["signature"] = {"bleu": "bleu|n:2,3,4,5|new", "self_bleu": "self_bleu|new"}
                del record["bleu_signature"]
        (run / name).write_text(json.dumps(scores))
    assert "BLEU signature: `bleu|n:2,3,4,5|new`" in write_report(run)["report"].read_text()


def test_bar_chart_when_there_are_no_eval_records(tmp_path):
    run = make_run(tmp_path / "run", evals=False)
    out = tmp_path / "elsewhere"
    written = write_report(run, out)
    assert written["metrics"] == out / "metrics.png"
    _check_png(written["metrics"])
    assert "Final metrics, MLE-pretrained vs after adversarial training" in written["report"].read_text()


def test_run_without_adversarial_records_still_gets_mle_plots(tmp_path):
    run = make_run(tmp_path / "run", adversarial=False, evals=False, final_metrics=False)
    written = write_report(run)
    assert "losses" in written and "temperature" not in written
    _check_png(written["losses"])
    _check_png(written["metrics"])  # MLE bars only, from metrics_mle.json
    report = written["report"].read_text()
    assert "Adversarial training: no records" in report
    assert "Adversarial training has not finished" in report
    assert "samples/final.txt not found" in report


def test_empty_log_gives_a_report_without_plots(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text("")
    written = write_report(run)
    assert set(written) == {"report"}
    assert "No evaluation results yet" in written["report"].read_text()


def test_missing_metrics_log_is_a_one_line_user_error(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "metrics.jsonl").unlink()
    with pytest.raises(UserInputError) as info:
        write_report(run)
    message = str(info.value)
    assert "metrics.jsonl" in message and "\n" not in message
    with pytest.raises(UserInputError, match="run directory not found"):
        write_report(tmp_path / "nowhere")


def test_corrupt_metrics_json_is_a_user_error(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "metrics.json").write_text("{not json")
    with pytest.raises(UserInputError, match="metrics.json"):
        write_report(run)


def test_resumed_steps_keep_the_last_record_and_validation_joins_its_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [
        {"phase": "gan", "step": 1, "d_loss": 1.0},
        {"phase": "gan", "step": 2, "d_loss": 2.0},
        {"phase": "gan", "step": 2, "d_loss": 3.0},  # repeated after a resume
        {"phase": "mle", "step": 5, "nll": 4.0},
        {"phase": "mle", "step": 5, "epoch": 1, "val_nll": 4.5},
        ["not", "a", "record"],
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    records = read_records(path)
    assert len(records) == 5
    assert [r["d_loss"] for r in phase_records(records, "gan")] == [1.0, 3.0]
    (mle,) = phase_records(records, "mle")
    assert mle["nll"] == 4.0 and mle["val_nll"] == 4.5


def test_the_phase_names_of_older_logs_are_read_as_todays(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"phase": "Pretrain", "step": 1, "nll": 4.0}\n{"phase": "adversarial", "step": 1, "d_loss": 1.0}\n')
    records = read_records(path)
    assert [r["phase"] for r in records] == ["mle", "gan"]
    assert phase_records(records, "pretrain") == [{"phase": "mle", "step": 1, "nll": 4.0}]


def test_smoothing_is_light_and_ignores_nans():
    values = np.r_[np.ones(50), np.full(50, 3.0)]
    values[10] = np.nan
    smoothed = smooth(values)
    assert smoothed.shape == values.shape and np.isfinite(smoothed).all()
    assert smoothed[0] == 1.0 and smoothed[-1] == 3.0
    np.testing.assert_array_equal(smooth(np.arange(5.0)), np.arange(5.0))


def test_report_module_does_not_import_tensorflow():
    code = ("import sys, seqgan_gumbel.evaluation.report; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_one_evaluation_and_no_final_metrics_yet(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    records = [{"phase": "gan", "step": s, "d_loss": 0.7, "g_loss": 0.7, "beta": 1.0 + s} for s in range(1, 6)]
    records.append({"phase": "eval", "step": 5, "bleu": {"2": 0.5, "3": 0.25}, "nll_test": 2.5})
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    written = write_report(run)
    assert set(written) == {"losses", "temperature", "metrics", "report"}
    for key in ("losses", "temperature", "metrics"):
        _check_png(written[key])
    report = written["report"].read_text()
    assert "the latest evaluation (step 5)" in report and "| BLEU-3 (higher = better) | 0.2500 |" in report
    assert "MLE pretraining: no records" in report and "No settings found" in report
