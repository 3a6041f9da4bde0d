"""Signatures: one string that records every setting a reported figure depends on.

As sacreBLEU's: ``metric|key:value|...|version:X``, printed beside each figure
so that two numbers can be compared only when their signatures match. Every
metric of the package (BLEU, Self-BLEU, NLL_test, NLL_oracle, grammar
validity) writes its signature here.
"""

from __future__ import annotations

from seqgan_gumbel.version import __version__


def signature(metric: str, **settings) -> str:
    """The signature of a figure.

    Args:
        metric: the metric's name, e.g. "nll_test".
        settings: every setting the figure depends on, in the order printed
            (the package version is appended).

    Returns:
        e.g. ``"nll_test|model:generator.keras|sentences:2000|...|version:0.1.0"``.
    """
    return "|".join([metric, *(f"{key}:{value}" for key, value in settings.items()), f"version:{__version__}"])
