"""The one plotting helper: matplotlib loaded headless, figures written as PNG atomically.

matplotlib is imported only when something is plotted, so that scoring and
reading runs work without it.
"""

from __future__ import annotations

from pathlib import Path

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.fileio import atomic_path

DPI = 120


def pyplot(needed_by: str):
    """matplotlib.pyplot on the Agg backend (no display needed).

    Args:
        needed_by: what plots, for the error when matplotlib is missing
            (e.g. "the report").

    Returns:
        The `matplotlib.pyplot` module.

    Raises:
        UserInputError: matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        raise UserInputError(f"{needed_by} needs matplotlib (pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(plt, fig, path: str | Path, rect=None) -> None:
    """Lays the figure out, writes it to `path` as a PNG (never half-written), and closes it.

    Args:
        plt: the module from `pyplot`.
        fig: the figure.
        path: the PNG's path.
        rect: `tight_layout`'s rectangle (None: the whole figure).
    """
    try:
        fig.tight_layout(rect=rect)
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", dpi=DPI)
    finally:
        plt.close(fig)
