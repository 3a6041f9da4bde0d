"""Numbers out of a run's records, for its plots and its report.

Series of one value against the step (null becomes NaN), the temperature
(1/beta where only beta was logged), light smoothing, and the few readings
both the plots and the Markdown make of a score record.
"""

from __future__ import annotations

import math

import numpy as np


def series(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
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


def temperature_series(records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
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


def bleu_orders(*dicts) -> list[str]:
    orders = set()
    for data in dicts:
        if isinstance(data, dict) and isinstance(data.get("bleu"), dict):
            orders.update(str(k) for k in data["bleu"])
    return sorted(orders, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))


def number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def self_bleu_5(record: dict) -> float | None:
    value = record.get("self_bleu")
    return number(value.get("5")) if isinstance(value, dict) else None
