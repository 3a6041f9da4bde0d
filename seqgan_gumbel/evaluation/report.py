"""A run's report: loss, temperature and metric plots and a Markdown summary.

``seqgan-gumbel report RUN_DIR`` reads what training left in the run directory:

    metrics.jsonl         records written during training (see
                          `seqgan_gumbel.training.progress`): phase "mle"
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
metrics.png, monitor.png and report.md. A plot with nothing to show is skipped (an
interrupted run without adversarial records gets the MLE plots only).

Pure Python, numpy and matplotlib: TensorFlow is never imported.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.frontier import verdict_lines
from seqgan_gumbel.evaluation.plots import pyplot, save_png
from seqgan_gumbel.evaluation.scorer import bleu_signature
from seqgan_gumbel.fileio import atomic_write_text, read_json
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

MLE_PHASES = ("mle", "pretrain")
GAN_PHASES = ("gan", "adversarial")
EVAL_PHASES = ("eval",)
MONITOR_PHASES = ("monitor",)

_PANEL_SIZE = (6.4, 4.4)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def read_metrics_log(path: str | Path) -> list[dict]:
    """The records of a metrics.jsonl file, in file order.

    Blank lines, lines that do not parse (e.g. one cut short by a kill) and
    lines that are not JSON objects with a "phase" are skipped.

    Args:
        path: the JSON-lines file.

    Returns:
        The records.

    Raises:
        UserInputError: the file is missing or unreadable.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise UserInputError(f"{path}: metrics log not found (written while training; was the run trained?)") from None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read the metrics log ({exc.strerror or exc})") from None
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("phase"), str):
            records.append(record)
    return records


def phase_records(records: list[dict], phases: tuple[str, ...]) -> list[dict]:
    """The records of some phases, one per step, sorted by step.

    Records of the same step are merged, later values winning, so that the
    steps a resumed run repeated show its final values, and an epoch's
    validation record joins that step's training record.

    Args:
        records: as `read_metrics_log` returns.
        phases: the phase names to keep (compared lower-cased).

    Returns:
        Merged records with an integer "step".
    """
    merged: dict[int, dict] = {}
    for record in records:
        if record["phase"].lower() not in phases:
            continue
        try:
            step = int(record.get("step", 0))
        except (TypeError, ValueError):
            continue
        merged.setdefault(step, {}).update(record)
        merged[step]["step"] = step
    return [merged[step] for step in sorted(merged)]


def _series(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of the records that have a number under `key` (null becomes NaN)."""
    steps, values = [], []
    for record in records:
        if key not in record:
            continue
        value = record[key]
        if value is None:
            value = math.nan
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        steps.append(record["step"])
        values.append(float(value))
    return np.asarray(steps, dtype=float), np.asarray(values, dtype=float)


def _temperature_series(records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, tau): "temperature" where logged, else 1/"beta"."""
    steps, values = [], []
    for record in records:
        tau = record.get("temperature")
        if not isinstance(tau, (int, float)) or isinstance(tau, bool):
            beta = record.get("beta")
            if isinstance(beta, (int, float)) and not isinstance(beta, bool) and beta > 0:
                tau = 1.0 / beta
            else:
                continue
        if tau > 0 and math.isfinite(tau):
            steps.append(record["step"])
            values.append(float(tau))
    return np.asarray(steps, dtype=float), np.asarray(values, dtype=float)


def smooth(values: np.ndarray, window: int | None = None) -> np.ndarray:
    """A light centred moving average that ignores NaNs.

    Args:
        values: the raw series.
        window: odd window length; None picks about 1/25 of the series (at least 3).

    Returns:
        The smoothed series, same length (the raw one when it is shorter than 10).
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 10:
        return values.copy()
    if window is None:
        window = max(3, n // 25)
    window = max(1, int(window)) | 1
    finite = np.isfinite(values)
    kernel = np.ones(window)
    sums = np.convolve(np.where(finite, values, 0.0), kernel, mode="same")
    counts = np.convolve(finite.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


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
# Plotting
# --------------------------------------------------------------------------


def _plot_raw_and_smoothed(ax, steps, values, colour, label) -> None:
    smoothed = smooth(values)
    if len(values) >= 10:
        ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
        ax.plot(steps, smoothed, color=colour, linewidth=1.8, label=f"{label} (smoothed; raw faint)")
    else:
        ax.plot(steps, values, color=colour, linewidth=1.6, marker="o", markersize=3, label=label)


def plot_losses(plt, mle: list[dict], gan: list[dict], path: Path, loss_name: str | None = None) -> bool:
    """losses.png: MLE nll/val_nll per step, and the GAN's d_loss and g_loss per step.

    Returns:
        False (and no file) when neither phase has a loss to plot.
    """
    mle_nll = _series(mle, "nll")
    mle_val = _series(mle, "val_nll")
    gan_d = _series(gan, "d_loss")
    gan_g = _series(gan, "g_loss")
    panels = []
    if len(mle_nll[0]) or len(mle_val[0]):
        panels.append("mle")
    if len(gan_d[0]) or len(gan_g[0]):
        panels.append("gan")
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(_PANEL_SIZE[0] * len(panels), _PANEL_SIZE[1]), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "mle":
            if len(mle_nll[0]):
                _plot_raw_and_smoothed(ax, *mle_nll, "C0", "train NLL")
            if len(mle_val[0]):
                ax.plot(*mle_val, color="C3", marker="o", markersize=4, linewidth=1.4,
                        label="held-out NLL (val_nll, per epoch)")
            ax.set_title("MLE pretraining")
            ax.set_xlabel("MLE step (batch)")
            ax.set_ylabel("NLL per token (nats)")
        else:
            if len(gan_d[0]):
                _plot_raw_and_smoothed(ax, *gan_d, "C0", "discriminator loss")
            if len(gan_g[0]):
                _plot_raw_and_smoothed(ax, *gan_g, "C1", "generator loss")
            ax.set_title("Adversarial training" + (f" ({loss_name} loss)" if loss_name else ""))
            ax.set_xlabel("adversarial step")
            ax.set_ylabel("loss")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best", framealpha=0.85)
    fig.suptitle("Training losses", fontsize=12)
    save_png(plt, fig, path)
    return True


def plot_temperature(plt, gan: list[dict], path: Path, schedule: str | None = None,
                     beta_max: float | None = None) -> bool:
    """temperature.png: tau = 1/beta over the adversarial steps (log scale when it spans > 10x).

    Returns:
        False (and no file) when no record carries a temperature.
    """
    steps, tau = _temperature_series(gan)
    if not len(steps):
        return False
    fig, ax = plt.subplots(figsize=_PANEL_SIZE)
    ax.plot(steps, tau, color="C2", linewidth=1.8, marker="o" if len(steps) < 20 else None, markersize=3)
    log_scale = tau.max() / tau.min() > 10
    if log_scale:
        ax.set_yscale("log")
        inverse = (lambda x: 1.0 / np.maximum(x, 1e-12))
        secondary = ax.secondary_yaxis("right", functions=(inverse, inverse))
        secondary.set_ylabel("inverse temperature \u03b2 = 1/\u03c4")
    ax.set_xlabel("adversarial step")
    ax.set_ylabel("temperature \u03c4" + (" (log scale)" if log_scale else ""))
    details = ", ".join(part for part in (
        f"{schedule} schedule" if schedule else "",
        f"\u03b2 1 \u2192 {beta_max:g}" if beta_max else "",
    ) if part)
    ax.set_title("Gumbel-softmax temperature" + (f"\n{details}" if details else ""), fontsize=11)
    ax.grid(True, which="both", alpha=0.3)
    save_png(plt, fig, path)
    return True


def _bleu_orders(*dicts) -> list[str]:
    orders = set()
    for data in dicts:
        if isinstance(data, dict) and isinstance(data.get("bleu"), dict):
            orders.update(str(k) for k in data["bleu"])
    return sorted(orders, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def plot_eval_curves(plt, evals: list[dict], path: Path) -> bool:
    """metrics.png from "eval" records: BLEU-n and NLL against the step.

    Returns:
        False (and no file) when the records hold no numbers to plot.
    """
    orders = _bleu_orders(*evals)
    nll_keys = [k for k in ("nll_test", "nll_train") if any(_number(r.get(k)) is not None for r in evals)]
    if not orders and not nll_keys:
        return False
    panels = (["bleu"] if orders else []) + (["nll"] if nll_keys else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(_PANEL_SIZE[0] * len(panels), _PANEL_SIZE[1]), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "bleu":
            for i, n in enumerate(orders):
                points = [(r["step"], _number(r["bleu"].get(n))) for r in evals if isinstance(r.get("bleu"), dict)]
                points = [(s, v) for s, v in points if v is not None]
                if points:
                    ax.plot(*zip(*points), marker="o", markersize=4, linewidth=1.6, color=f"C{i}", label=f"BLEU-{n}")
            ax.set_title("BLEU of generated samples (higher = better)", fontsize=11)
            ax.set_ylabel("BLEU")
            ax.margins(y=0.15)
        else:
            for i, key in enumerate(nll_keys):
                points = [(r["step"], _number(r.get(key))) for r in evals]
                points = [(s, v) for s, v in points if v is not None]
                ax.plot(*zip(*points), marker="s", markersize=4, linewidth=1.6, color=f"C{i + 4}",
                        label=key.replace("nll_", "NLL_"))
            ax.set_title("NLL of real sentences (lower = better)", fontsize=11)
            ax.set_ylabel("NLL per token (nats)")
        ax.set_xlabel("adversarial step (0 = after MLE pretraining)")
        ax.grid(True, alpha=0.3)
        # Beside the axes: the lines of a good run fill the whole plot area.
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), framealpha=0.85)
    fig.suptitle("Evaluation during training", fontsize=12)
    save_png(plt, fig, path)
    return True


def _self_bleu_5(record: dict) -> float | None:
    value = record.get("self_bleu")
    return _number(value.get("5")) if isinstance(value, dict) else None


# The collapse monitor's panels: (title, value of a record, y label, the warning's threshold from the start's value).
_MONITOR_PANELS = [
    ("Mean sample length", lambda r: _number(r.get("mean_length")), "tokens", lambda v: v / 2),
    ("Distinct samples", lambda r: _number(r.get("distinct")), "fraction", lambda v: v / 2),
    ("Self-BLEU-5 (lower = more diverse)", _self_bleu_5, "Self-BLEU-5", lambda v: 1 - (1 - v) / 2),
    ("Frontier gap (--keep-best-gan)", lambda r: _number(r.get("frontier_gap")), "BLEU-5 above the MLE curve", None),
]


def plot_monitor(plt, monitors: list[dict], path: Path, kept_step: int | None = None) -> bool:
    """monitor.png from "monitor" records: length, distinct fraction, Self-BLEU-5 (and frontier gap) per step.

    Step 0 is the MLE start; dashed lines mark the collapse warning's
    thresholds (half its length, distinct fraction and 1 - Self-BLEU-5), a
    star the step kept by --keep-best-gan.

    Returns:
        False (and no file) without monitor records.
    """
    panels = [panel for panel in _MONITOR_PANELS if any(panel[1](r) is not None for r in monitors)]
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), _PANEL_SIZE[1]), squeeze=False)
    start = next((r for r in monitors if r["step"] == 0), None)
    for ax, (title, value, label, threshold) in zip(axes[0], panels):
        points = [(r["step"], value(r)) for r in monitors if value(r) is not None]
        ax.plot(*zip(*points), marker="o", markersize=4, linewidth=1.6, color="C0")
        start_value = value(start) if start is not None else None
        if start_value is not None and threshold is not None:
            ax.axhline(threshold(start_value), color="C3", linestyle="--", linewidth=1,
                       label="collapse warning threshold")
            ax.legend(fontsize=8, loc="best")
        if kept_step is not None:
            kept = [(s, v) for s, v in points if s == kept_step]
            if kept:
                ax.plot(*kept[0], marker="*", markersize=14, color="C1", linestyle="none")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("adversarial step (0 = MLE start)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    fig.suptitle("Collapse monitor (samples at temperature 1)", fontsize=12)
    save_png(plt, fig, path)
    return True


def plot_final_bars(plt, mle_metrics: dict | None, gan_metrics: dict | None, path: Path,
                    gan_label: str = "after adversarial training") -> bool:
    """metrics.png without "eval" records: BLEU-n and NLL bars, MLE-pretrained vs after adversarial training.

    Args:
        plt: matplotlib.pyplot.
        mle_metrics: the MLE-pretrained generator's scores, or None.
        gan_metrics: the final scores (or the latest evaluation's), or None.
        path: the PNG.
        gan_label: the legend entry of `gan_metrics`.

    Returns:
        False (and no file) when neither report has a number to plot.
    """
    columns = [(name, data) for name, data in (("MLE", mle_metrics), ("GAN", gan_metrics)) if isinstance(data, dict)]
    if not columns:
        return False
    orders = _bleu_orders(*(data for _, data in columns))
    nll_keys = [k for k in ("nll_test", "nll_train") if any(_number(d.get(k)) is not None for _, d in columns)]
    panels = (["bleu"] if orders else []) + (["nll"] if nll_keys else [])
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(_PANEL_SIZE[0] * len(panels), _PANEL_SIZE[1]), squeeze=False)
    width = 0.8 / len(columns)
    colours = {"MLE": "C0", "GAN": "C1"}
    labels = {"MLE": "MLE-pretrained", "GAN": gan_label}
    for ax, panel in zip(axes[0], panels):
        keys = orders if panel == "bleu" else nll_keys
        x = np.arange(len(keys))
        for i, (name, data) in enumerate(columns):
            source = data.get("bleu", {}) if panel == "bleu" else data
            source = source if isinstance(source, dict) else {}
            heights = [_number(source.get(k)) for k in keys]
            heights = [h if h is not None else np.nan for h in heights]
            bars = ax.bar(x + (i - (len(columns) - 1) / 2) * width, heights, width, color=colours[name],
                          label=labels[name])
            ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
        ax.set_xticks(x)
        if panel == "bleu":
            ax.set_xticklabels([f"BLEU-{n}" for n in keys])
            ax.set_ylabel("BLEU (higher = better)")
            ax.set_title("BLEU of generated samples", fontsize=11)
        else:
            ax.set_xticklabels([k.replace("nll_", "NLL_") for k in keys])
            ax.set_ylabel("NLL per token, nats (lower = better)")
            ax.set_title("NLL of real sentences", fontsize=11)
        ax.margins(y=0.12)
        ax.grid(True, axis="y", alpha=0.3)
    # One legend for both panels, between the title and the axes, clear of the bars.
    handles, names = axes[0][0].get_legend_handles_labels()
    if len(columns) == 2:
        title = "Final metrics: MLE vs GAN"
    elif columns[0][0] == "MLE":
        title = "Final metrics: MLE-pretrained generator only"
    else:
        title = f"Metrics: {gan_label}"
    fig.suptitle(title, fontsize=12, y=0.98)
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.925), ncol=len(columns), fontsize=9,
               frameon=False)
    save_png(plt, fig, path, rect=(0, 0, 1, 0.89))
    return True


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
    for n in _bleu_orders(mle, gan):
        def bleu_of(data, n=n):
            return _number(data["bleu"].get(n)) if isinstance(data, dict) and isinstance(data.get("bleu"), dict) else None
        rows.append((f"BLEU-{n} (higher = better)", bleu_of(mle), bleu_of(gan), "{:.4f}"))
    for key, label, fmt in (("nll_test", "NLL_test (nats/token, lower = better)", "{:.4f}"),
                            ("nll_train", "NLL_train (nats/token)", "{:.4f}"),
                            ("grammar_validity", "grammar-valid samples", "{:.1%}"),
                            ("num_samples", "samples scored", "{:.0f}"),
                            ("num_references", "reference sentences", "{:.0f}")):
        values = [_number(d.get(key)) if isinstance(d, dict) else None for d in (mle, gan)]
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
    steps, nll = _series(mle, "nll")
    if len(steps):
        text = f"- MLE pretraining: {int(steps[-1])} steps logged; final train NLL {nll[-1]:.4f}"
        val_steps, val = _series(mle, "val_nll")
        if len(val_steps):
            text += f"; held-out NLL {val[-1]:.4f} (best {np.nanmin(val):.4f})"
        lines.append(text)
    else:
        lines.append("- MLE pretraining: no records.")
    d_steps, d = _series(gan, "d_loss")
    g_steps, g = _series(gan, "g_loss")
    if len(d_steps) or len(g_steps):
        last = int(max(d_steps[-1] if len(d_steps) else 0, g_steps[-1] if len(g_steps) else 0))
        parts = [f"- Adversarial training: {last} steps logged"]
        if len(d):
            parts.append(f"final d_loss {smooth(d)[-1]:.4f}")
        if len(g):
            parts.append(f"g_loss {smooth(g)[-1]:.4f} (smoothed)")
        _, tau = _temperature_series(gan)
        if len(tau):
            parts.append(f"temperature \u03c4 {tau[0]:.3g} \u2192 {tau[-1]:.3g}")
        lines.append("; ".join(parts))
    else:
        lines.append("- Adversarial training: no records (not started, or the run was interrupted before it).")
    return lines


_MONITOR_ROWS = 40


def _kept_note(gan_metrics: dict | None) -> list[str]:
    kept = (gan_metrics or {}).get("keep_best_gan") if isinstance(gan_metrics, dict) else None
    if not isinstance(kept, dict) or _number(kept.get("step")) is None:
        return []
    gap = _number(kept.get("frontier_gap"))
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
    drifted = [r for r in monitors if _number(r.get("length_drift")) is not None]
    if drifted:
        first = drifted[0]
        lines += [f"**Length drift** from step {first['step']}: the mean length moved "
                  f"{_number(first['length_drift']):+.0%} from the MLE start's (sentence length moves BLEU and "
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
        if _number(r.get("length_drift")) is not None:
            notes.append(f"length {_number(r['length_drift']):+.0%}")
        if r.get("refused"):
            notes.append(f"refused: {_cell(r['refused'])}")
        cells = [str(r["step"]) + (" (MLE)" if r["step"] == 0 else ""), show(_number(r.get("mean_length")), "{:.2f}"),
                 show(_number(r.get("distinct")), "{:.1%}"), show(_self_bleu_5(r), "{:.4f}")]
        if has_bleu:
            bleu = r.get("bleu")
            cells.append(show(_number(bleu.get("5")) if isinstance(bleu, dict) else None, "{:.4f}"))
        if has_gap:
            cells.append(show(_number(r.get("frontier_gap")), "{:+.4f}"))
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
    records = read_metrics_log(log_path)
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
    mle_records = phase_records(records, MLE_PHASES)
    gan_records = phase_records(records, GAN_PHASES)
    evals = phase_records(records, EVAL_PHASES)
    monitors = phase_records(records, MONITOR_PHASES)

    plt = pyplot("the report")
    written: dict[str, Path] = {}
    if plot_losses(plt, mle_records, gan_records, out / "losses.png", _get(config, "training.loss")):
        written["losses"] = out / "losses.png"
    if plot_temperature(plt, gan_records, out / "temperature.png", _get(config, "training.schedule"),
                        _number(_get(config, "training.beta_max"))):
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
