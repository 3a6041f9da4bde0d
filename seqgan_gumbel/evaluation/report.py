"""A run's report: loss, temperature and metric plots and a Markdown summary.

``seqgan-gumbel report RUN_DIR`` reads what training left in the run directory:

    metrics.jsonl         records written during training (see
                          `seqgan_gumbel.runlog`): phase "mle"
                          (nll, val_nll), "gan" (d_loss, g_loss, beta,
                          temperature), "eval" (bleu, nll_test, ...) and
                          "monitor" (the collapse monitor: mean_length,
                          distinct, self_bleu; frontier_gap with
                          --keep-best-gan)
    config.json           the run's settings
    metrics_mle.json      the MLE-pretrained generator's scores
    metrics.json          the final scores (the MLE ones inside, under "mle")
    samples/pretrained.txt, samples/final.txt

and writes, by default into RUN_DIR/report/: losses.png, temperature.png,
metrics.png, monitor.png (drawn by `evaluation.figures`) and report.md. A plot with nothing to show is skipped (an
interrupted run without adversarial records gets the MLE plots only).

Pure Python, numpy and matplotlib: TensorFlow is never imported.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.frontier import verdict_lines
from seqgan_gumbel.evaluation.plots import pyplot
from seqgan_gumbel.evaluation.figures import (
    plot_eval_curves,
    plot_final_bars,
    plot_losses,
    plot_monitor,
    plot_temperature,
)
from seqgan_gumbel.evaluation.series import bleu_orders, number, self_bleu_5, series, smooth, temperature_series
from seqgan_gumbel.evaluation.scorer import bleu_signature
from seqgan_gumbel.fileio import atomic_write_text, read_json
from seqgan_gumbel.runlog import EVAL_RECORD, GAN_PHASE, MLE_PHASE, MONITOR_RECORD, phase_records, read_records
from seqgan_gumbel.rundir import (
    CONFIG_FILE,
    FINAL_SAMPLES_FILE,
    METRICS_FILE,
    METRICS_LOG_FILE,
    MLE_METRICS_FILE,
    PRETRAINED_SAMPLES_FILE,
)

REPORT_DIR = "report"
SAMPLES_SHOWN = 10


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _optional_json(path: Path, what: str):
    return read_json(path, what) if path.is_file() else None


def _read_samples(path: Path, count: int = SAMPLES_SHOWN) -> list[str] | None:
    if not path.is_file():
        return None
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return lines[:count]


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _cell(value) -> str:
    if value is None or value == "":
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _get(config: dict | None, dotted: str):
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


_SETTINGS = [
    ("corpus", "data.corpus"),
    ("test corpus", "data.test"),
    ("tokens", "data.level"),
    ("max length", "data.max_length"),
    ("generator (embedding / hidden)", ("generator.embedding_dim", "generator.hidden_dim")),
    ("soft feedback", "generator.soft_feedback"),
    ("discriminator filters (widths x count)", ("discriminator.filter_sizes", "discriminator.num_filters")),
    ("batch size", "training.batch_size"),
    ("MLE epochs (learning rate)", ("training.pretrain_epochs", "training.pretrain_learning_rate")),
    ("adversarial steps", "training.adversarial_steps"),
    ("GAN loss", "training.loss"),
    ("discriminator steps per generator step", "training.discriminator_steps"),
    ("learning rates (generator / discriminator)",
     ("training.generator_learning_rate", "training.discriminator_learning_rate")),
    ("temperature schedule (beta_max)", ("training.schedule", "training.beta_max")),
    ("straight-through", "training.straight_through"),
    ("seed", "training.seed"),
]


def _settings_table(config: dict | None, metrics: dict | None) -> list[str]:
    rows = []
    for label, keys in _SETTINGS:
        if isinstance(keys, tuple):
            values = [_get(config, k) for k in keys]
            if all(v is None for v in values):
                continue
            if label.startswith("discriminator filters"):
                text = f"[{_cell(values[0])}] x {_cell(values[1])}"
            elif label.startswith("temperature"):
                text = f"{_cell(values[0])} ({_cell(values[1])})"
            elif label.startswith("MLE epochs"):
                text = f"{_cell(values[0])} ({_cell(values[1])})"
            else:
                text = " / ".join(_cell(v) for v in values)
        else:
            value = _get(config, keys)
            if value is None:
                continue
            text = _cell(value)
        rows.append(f"| {label} | {text} |")
    if isinstance(metrics, dict):
        for label, key in (("BLEU references", "references"), ("MLE time (s)", "pretrain_seconds"),
                           ("total training time (s)", "train_seconds"), ("package version", "version")):
            if metrics.get(key) is not None:
                rows.append(f"| {label} | {_cell(metrics[key])} |")
    if not rows:
        return ["No settings found (config.json missing)."]
    return ["| setting | value |", "|---|---|", *rows]


def _metric_rows(mle: dict | None, gan: dict | None) -> list[tuple[str, float | None, float | None, str]]:
    """(label, MLE value, GAN value, format) rows of the final metrics table."""
    rows = []
    for n in bleu_orders(mle, gan):
        def bleu_of(data, n=n):
            return number(data["bleu"].get(n)) if isinstance(data, dict) and isinstance(data.get("bleu"), dict) else None
        rows.append((f"BLEU-{n} (higher = better)", bleu_of(mle), bleu_of(gan), "{:.4f}"))
    for key, label, fmt in (("nll_test", "NLL_test (nats/token, lower = better)", "{:.4f}"),
                            ("nll_train", "NLL_train (nats/token)", "{:.4f}"),
                            ("grammar_validity", "grammar-valid samples", "{:.1%}"),
                            ("num_samples", "samples scored", "{:.0f}"),
                            ("num_references", "reference sentences", "{:.0f}")):
        values = [number(d.get(key)) if isinstance(d, dict) else None for d in (mle, gan)]
        if any(v is not None for v in values):
            rows.append((label, values[0], values[1], fmt))
    return rows


def _metrics_table(mle: dict | None, gan: dict | None, latest_eval: dict | None) -> list[str]:
    if mle is None and gan is None:
        if latest_eval is None:
            return ["No evaluation results yet (metrics.json and metrics_mle.json are missing)."]
        rows = _metric_rows(None, latest_eval)
        lines = [f"No final metrics yet; the latest evaluation (step {latest_eval.get('step')}):", "",
                 "| metric | value |", "|---|---|"]
        return lines + [f"| {label} | {fmt.format(g) if g is not None else chr(0x2014)} |"
                        for label, _, g, fmt in rows]
    lines = ["| metric | MLE-pretrained | after adversarial training (GAN) | GAN \u2212 MLE |", "|---|---|---|---|"]
    for label, m, g, fmt in _metric_rows(mle, gan):
        def show(v, fmt=fmt):
            return fmt.format(v) if v is not None else "\u2014"
        if m is not None and g is not None and fmt != "{:.0f}":
            delta = g - m
            change = ("{:+.1%}".format(delta) if fmt == "{:.1%}" else f"{delta:+.4f}")
        else:
            change = "\u2014"
        lines.append(f"| {label} | {show(m)} | {show(g)} | {change} |")
    if gan is None:
        lines.append("")
        lines.append("Adversarial training has not finished: no metrics.json yet.")
    signature = bleu_signature(gan or {}) or bleu_signature(mle or {})
    if signature:
        lines += ["", f"BLEU signature: `{signature}`"]
    return lines


def _training_summary(mle: list[dict], gan: list[dict]) -> list[str]:
    lines = []
    steps, nll = series(mle, "nll")
    if len(steps):
        text = f"- MLE pretraining: {int(steps[-1])} steps logged; final train NLL {nll[-1]:.4f}"
        val_steps, val = series(mle, "val_nll")
        if len(val_steps):
            text += f"; held-out NLL {val[-1]:.4f} (best {np.nanmin(val):.4f})"
        lines.append(text)
    else:
        lines.append("- MLE pretraining: no records.")
    d_steps, d = series(gan, "d_loss")
    g_steps, g = series(gan, "g_loss")
    if len(d_steps) or len(g_steps):
        last = int(max(d_steps[-1] if len(d_steps) else 0, g_steps[-1] if len(g_steps) else 0))
        parts = [f"- Adversarial training: {last} steps logged"]
        if len(d):
            parts.append(f"final d_loss {smooth(d)[-1]:.4f}")
        if len(g):
            parts.append(f"g_loss {smooth(g)[-1]:.4f} (smoothed)")
        _, tau = temperature_series(gan)
        if len(tau):
            parts.append(f"temperature \u03c4 {tau[0]:.3g} \u2192 {tau[-1]:.3g}")
        lines.append("; ".join(parts))
    else:
        lines.append("- Adversarial training: no records (not started, or the run was interrupted before it).")
    return lines


_MONITOR_ROWS = 40


def _kept_note(gan_metrics: dict | None) -> list[str]:
    kept = (gan_metrics or {}).get("keep_best_gan") if isinstance(gan_metrics, dict) else None
    if not isinstance(kept, dict) or number(kept.get("step")) is None:
        return []
    gap = number(kept.get("frontier_gap"))
    return [f"--keep-best-gan kept adversarial step {kept['step']}"
            + (" (the MLE start)" if kept["step"] == 0 else "")
            + (f", frontier gap {gap:+.4f} BLEU-5 against the {kept.get('references')} sentences at equal "
               f"Self-BLEU-5" if gap is not None else "")
            + ": the GAN column and final samples are that step's generator."]


def _frontier_note(gan_metrics: dict | None) -> list[str]:
    """The final verdict against the MLE curve (metrics.json "frontier"), as the train command printed it."""
    verdict = gan_metrics.get("frontier") if isinstance(gan_metrics, dict) else None
    if not isinstance(verdict, dict):
        return []
    try:
        heading, conclusion, figures = verdict_lines(verdict)
    except (KeyError, TypeError, ValueError, IndexError):  # a metrics.json from elsewhere: no verdict, no crash
        return []
    return [f"**{heading}** {conclusion}; {figures}.", ""]


def _monitor_section(monitors: list[dict], gan_metrics: dict | None) -> list[str]:
    """The collapse monitor's table (thinned to about 40 rows), its warning and the kept step."""
    if not monitors:
        return []
    kept = ((gan_metrics or {}).get("keep_best_gan") or {}).get("step") if isinstance(gan_metrics, dict) else None
    lines = ["## Collapse monitor", "",
             "Samples at temperature 1 every `training.sample_every` adversarial steps (step 0: the MLE "
             "start). A warning is logged when the mean length, the distinct fraction or 1 \u2212 Self-BLEU-5 "
             "falls below half the MLE start's, and when the mean length moves by more than 20% from it.", ""]
    collapsed = [r for r in monitors if r.get("collapse")]
    if collapsed:
        first = collapsed[0]
        lines += [f"**Possible collapse** from step {first['step']} "
                  f"({', '.join(str(c) for c in first['collapse'])} below half the MLE start's).", ""]
    drifted = [r for r in monitors if number(r.get("length_drift")) is not None]
    if drifted:
        first = drifted[0]
        lines += [f"**Length drift** from step {first['step']}: the mean length moved "
                  f"{number(first['length_drift']):+.0%} from the MLE start's (sentence length moves BLEU and "
                  "Self-BLEU together: not an improvement).", ""]
    has_bleu = any(isinstance(r.get("bleu"), dict) for r in monitors)
    has_gap = any("frontier_gap" in r for r in monitors)
    references = next((r["references"] for r in monitors if isinstance(r.get("references"), str)), None)
    if has_gap:
        lines += [f"BLEU-5 against the {references or 'held-out'} sentences; frontier gap: BLEU-5 minus the MLE "
                  "temperature curve's at the same Self-BLEU-5 (\u2014: refused, see the note).", ""]
    special = {0, kept, monitors[-1]["step"], *(r["step"] for r in collapsed[:1]), *(r["step"] for r in drifted[:1])}
    stride = max(1, -(-len(monitors) // _MONITOR_ROWS))
    rows = [r for i, r in enumerate(monitors) if i % stride == 0 or r["step"] in special]
    lines += ["| step | mean length | distinct | Self-BLEU-5 |" + (" BLEU-5 |" if has_bleu else "")
              + (" frontier gap |" if has_gap else "") + " note |",
              "|---|---|---|---|" + ("---|" if has_bleu else "") + ("---|" if has_gap else "") + "---|"]
    for r in rows:
        def show(value, fmt):
            return fmt.format(value) if value is not None else "\u2014"
        notes = []
        if r["step"] == kept:
            notes.append("**kept** (--keep-best-gan)")
        if r.get("collapse"):
            notes.append("collapse: " + ", ".join(str(c) for c in r["collapse"]))
        if number(r.get("length_drift")) is not None:
            notes.append(f"length {number(r['length_drift']):+.0%}")
        if r.get("refused"):
            notes.append(f"refused: {_cell(r['refused'])}")
        cells = [str(r["step"]) + (" (MLE)" if r["step"] == 0 else ""), show(number(r.get("mean_length")), "{:.2f}"),
                 show(number(r.get("distinct")), "{:.1%}"), show(self_bleu_5(r), "{:.4f}")]
        if has_bleu:
            bleu = r.get("bleu")
            cells.append(show(number(bleu.get("5")) if isinstance(bleu, dict) else None, "{:.4f}"))
        if has_gap:
            cells.append(show(number(r.get("frontier_gap")), "{:+.4f}"))
        lines.append("| " + " | ".join(cells + ["; ".join(notes)]) + " |")
    if stride > 1:
        lines.append(f"\n(every {stride}th monitored step shown, and the MLE start, the kept, the first "
                     "collapsed and the last step)")
    return lines + [""]


def _sample_block(title: str, lines: list[str] | None, source: str) -> list[str]:
    out = [f"### {title}", ""]
    if lines is None:
        return out + [f"No samples ({source} not found).", ""]
    if not lines:
        return out + [f"No samples ({source} is empty).", ""]
    fence = "```"
    while any(fence in line for line in lines):  # a fence no sample line can close
        fence += "`"
    return out + [f"From `{source}`:", "", fence + "text", *lines, fence, ""]


def _markdown(run_dir: Path, out_dir: Path, config, mle_records, gan_records, evals, mle_metrics, gan_metrics,
              pretrained, final, images: dict[str, Path], skipped_lines: int, monitors=()) -> str:
    name = run_dir.resolve().name
    lines = [f"# Run report: {name}", "", f"Run directory: `{run_dir}`", ""]
    lines += ["## Settings", "", *_settings_table(config, gan_metrics), ""]
    lines += ["## Final metrics", "", *_metrics_table(mle_metrics, gan_metrics, evals[-1] if evals else None), ""]
    if _kept_note(gan_metrics):
        lines += [*_kept_note(gan_metrics), ""]
    lines += _frontier_note(gan_metrics)
    lines += _monitor_section(list(monitors), gan_metrics)
    lines += ["## Training", "", *_training_summary(mle_records, gan_records)]
    if skipped_lines:
        lines.append(f"- {skipped_lines} unreadable line(s) of metrics.jsonl skipped.")
    lines.append("")
    captions = {
        "losses": "Losses: MLE NLL per step; discriminator and generator loss per adversarial step",
        "temperature": "Gumbel-softmax temperature over adversarial training",
        "metrics": "BLEU and NLL over training" if len({r["step"] for r in evals}) >= 2
        else "BLEU and NLL of the latest evaluation" if gan_metrics is None and evals
        else "Final metrics, MLE-pretrained vs after adversarial training",
        "monitor": "Collapse monitor: mean length, distinct fraction, Self-BLEU-5 (and frontier gap) per monitored step",
    }
    shown = [key for key in ("losses", "temperature", "metrics", "monitor") if key in images]
    lines += ["## Plots", ""]
    if not shown:
        lines += ["Nothing to plot yet.", ""]
    lines += [f"- [{images[key].name}]({images[key].name}): {captions[key]}" for key in shown]
    lines.append("")
    for key in shown:
        lines += [f"![{captions[key]}]({images[key].name})", ""]
    lines += ["## Samples", ""]
    lines += _sample_block("MLE-pretrained generator", pretrained, _relative(run_dir / PRETRAINED_SAMPLES_FILE, out_dir))
    lines += _sample_block("After adversarial training", final, _relative(run_dir / FINAL_SAMPLES_FILE, out_dir))
    return "\n".join(lines).rstrip() + "\n"


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------


def write_report(run_dir: str | Path, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Writes a run's plots and Markdown report.

    Args:
        run_dir: the run directory (it must hold metrics.jsonl).
        out_dir: where the files go; default RUN_DIR/report.

    Returns:
        The files written, by kind: "losses", "temperature", "metrics",
        "monitor" (PNGs; each absent when there was nothing to plot) and
        "report" (report.md, always).

    Raises:
        UserInputError: the run directory or its metrics.jsonl is missing, a
            JSON file of the run is unreadable, or matplotlib is missing.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserInputError(f"{run_dir}: run directory not found")
    log_path = run_dir / METRICS_LOG_FILE
    if not log_path.is_file():
        raise UserInputError(f"{log_path}: metrics log not found (it is written while training; was the run trained?)")
    records = read_records(log_path)
    skipped = _count_skipped(log_path, len(records))
    config = _optional_json(run_dir / CONFIG_FILE, "config")
    gan_metrics = _optional_json(run_dir / METRICS_FILE, "metrics")
    mle_metrics = _optional_json(run_dir / MLE_METRICS_FILE, "MLE metrics")
    if mle_metrics is None and isinstance(gan_metrics, dict) and isinstance(gan_metrics.get("mle"), dict):
        mle_metrics = gan_metrics["mle"]
    pretrained = _read_samples(run_dir / PRETRAINED_SAMPLES_FILE)
    final = _read_samples(run_dir / FINAL_SAMPLES_FILE)

    out = Path(out_dir) if out_dir is not None else run_dir / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    mle_records = phase_records(records, MLE_PHASE)
    gan_records = phase_records(records, GAN_PHASE)
    evals = phase_records(records, EVAL_RECORD)
    monitors = phase_records(records, MONITOR_RECORD)

    plt = pyplot("the report")
    written: dict[str, Path] = {}
    if plot_losses(plt, mle_records, gan_records, out / "losses.png", _get(config, "training.loss")):
        written["losses"] = out / "losses.png"
    if plot_temperature(plt, gan_records, out / "temperature.png", _get(config, "training.schedule"),
                        number(_get(config, "training.beta_max"))):
        written["temperature"] = out / "temperature.png"
    metrics_png = out / "metrics.png"
    if len({r["step"] for r in evals}) >= 2:
        plotted = plot_eval_curves(plt, evals, metrics_png)
    else:
        # At most one evaluation: bars, of the final scores or else the evaluation's.
        if gan_metrics is None and evals:
            plotted = plot_final_bars(plt, mle_metrics, evals[-1], metrics_png,
                                      gan_label=f"evaluation at adversarial step {evals[-1]['step']}")
        else:
            plotted = plot_final_bars(plt, mle_metrics, gan_metrics, metrics_png)
    if plotted:
        written["metrics"] = metrics_png
    kept = (gan_metrics.get("keep_best_gan") or {}).get("step") if isinstance(gan_metrics, dict) else None
    if plot_monitor(plt, monitors, out / "monitor.png", kept):
        written["monitor"] = out / "monitor.png"
    text = _markdown(run_dir, out, config, mle_records, gan_records, evals, mle_metrics, gan_metrics,
                     pretrained, final, written, skipped, monitors)
    atomic_write_text(out / "report.md", text)
    written["report"] = out / "report.md"
    return written


def _count_skipped(path: Path, parsed: int) -> int:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if line.strip()) - parsed
