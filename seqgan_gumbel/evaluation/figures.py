"""Every figure the package draws: a run's report and the quality-diversity frontier of sweeps.

The report's figures (losses, the temperature, the metrics, the collapse
monitor) each draw one PNG from records read by `seqgan_gumbel.runlog` (and
the run's score files) and return False, writing nothing, when there is
nothing to show; `plot_frontier` draws temperature-sweep curves. All write
through `evaluation.plots` (headless matplotlib, atomic PNGs, one DPI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.plots import DPI, pyplot, save_png
from seqgan_gumbel.evaluation.series import bleu_orders, number, self_bleu_5, series, smooth, temperature_series

_PANEL_SIZE = (6.4, 4.4)
_FRONTIER_SIZE = (8.0, 6.0)


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
    mle_nll = series(mle, "nll")
    mle_val = series(mle, "val_nll")
    gan_d = series(gan, "d_loss")
    gan_g = series(gan, "g_loss")
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
    steps, tau = temperature_series(gan)
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


def plot_eval_curves(plt, evals: list[dict], path: Path) -> bool:
    """metrics.png from "eval" records: BLEU-n and NLL against the step.

    Returns:
        False (and no file) when the records hold no numbers to plot.
    """
    orders = bleu_orders(*evals)
    nll_keys = [k for k in ("nll_test", "nll_train") if any(number(r.get(k)) is not None for r in evals)]
    if not orders and not nll_keys:
        return False
    panels = (["bleu"] if orders else []) + (["nll"] if nll_keys else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(_PANEL_SIZE[0] * len(panels), _PANEL_SIZE[1]), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "bleu":
            for i, n in enumerate(orders):
                points = [(r["step"], number(r["bleu"].get(n))) for r in evals if isinstance(r.get("bleu"), dict)]
                points = [(s, v) for s, v in points if v is not None]
                if points:
                    ax.plot(*zip(*points), marker="o", markersize=4, linewidth=1.6, color=f"C{i}", label=f"BLEU-{n}")
            ax.set_title("BLEU of generated samples (higher = better)", fontsize=11)
            ax.set_ylabel("BLEU")
            ax.margins(y=0.15)
        else:
            for i, key in enumerate(nll_keys):
                points = [(r["step"], number(r.get(key))) for r in evals]
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


# The collapse monitor's panels: (title, value of a record, y label, the warning's threshold from the start's value).
_MONITOR_PANELS = [
    ("Mean sample length", lambda r: number(r.get("mean_length")), "tokens", lambda v: v / 2),
    ("Distinct samples", lambda r: number(r.get("distinct")), "fraction", lambda v: v / 2),
    ("Self-BLEU-5 (lower = more diverse)", self_bleu_5, "Self-BLEU-5", lambda v: 1 - (1 - v) / 2),
    ("Frontier gap (--keep-best-gan)", lambda r: number(r.get("frontier_gap")), "BLEU-5 above the MLE curve", None),
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
    orders = bleu_orders(*(data for _, data in columns))
    nll_keys = [k for k in ("nll_test", "nll_train") if any(number(d.get(k)) is not None for _, d in columns)]
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
            heights = [number(source.get(k)) for k in keys]
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


def plot_frontier(curves: Sequence, png_path: str | Path, n: int = 5) -> None:
    """Plots BLEU-n against Self-BLEU-n, one line per curve, as a PNG.

    Up and to the left is better: higher quality at more diversity.  Each
    point is labelled with its temperature (GAN labels above the point, MLE
    labels below); GAN curves are solid with squares, MLE curves dashed with
    circles, in a dark and a light shade of one colour per run.

    Args:
        curves: `evaluation.sweep.SweepCurve`s (see `temperature_sweep`).
        png_path: the image, written atomically.
        n: the BLEU order plotted.

    Raises:
        UserInputError: no curves, order n missing from a curve, or
            matplotlib not installed.
    """
    if not curves:
        raise UserInputError("nothing to plot: no sweep curves")
    points = [curve.points(n) for curve in curves]
    plt = pyplot("plotting the frontier")

    # tab20 comes in (dark, light) pairs: a run's GAN curve dark, its MLE curve light.
    palette = plt.get_cmap("tab20").colors
    run_index: dict[str, int] = {}
    fig, ax = plt.subplots(figsize=_FRONTIER_SIZE, dpi=DPI)
    try:
        for curve, pts in zip(curves, points):
            index = run_index.setdefault(curve.run_dir, len(run_index)) % (len(palette) // 2)
            mle = curve.kind == "mle"
            colour = palette[2 * index + (1 if mle else 0)]
            text_colour = palette[2 * index]
            xs = [p[1] for p in pts]
            ys = [p[2] for p in pts]
            ax.plot(
                xs, ys,
                linestyle="--" if mle else "-",
                marker="o" if mle else "s",
                markersize=6,
                linewidth=1.6,
                color=colour,
                label=curve.label,
                zorder=2 if mle else 3,
            )
            # GAN labels above their points, MLE labels below: the two curves
            # of a run often nearly coincide.
            for temperature, x, y in pts:
                ax.annotate(
                    f"{temperature:g}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(4, -7) if mle else (4, 6),
                    ha="left",
                    va="top" if mle else "bottom",
                    fontsize=8,
                    color=text_colour,
                    alpha=0.75 if mle else 1.0,
                )
        ax.set_xlabel(f"Self-BLEU-{n}  (lower = more diverse)")
        ax.set_ylabel(f"BLEU-{n}  (higher = better quality)")
        sample_counts = sorted({curve.num_samples for curve in curves})
        counts = "/".join(str(c) for c in sample_counts)
        ax.set_title(
            f"Quality-diversity frontier: BLEU-{n} vs Self-BLEU-{n}\n"
            f"temperature sweep, {counts} samples per point (labels = temperature)",
            fontsize=11,
        )
        ax.text(
            0.02, 0.98, "better \u2196", transform=ax.transAxes,
            ha="left", va="top", fontsize=9, color="0.35",
        )
        ax.grid(True, alpha=0.3)
        ax.margins(0.08)
        ax.legend(fontsize=8, loc="best", framealpha=0.85)
        save_png(plt, fig, png_path)
    finally:  # the figure is closed also when drawing fails
        plt.close(fig)
