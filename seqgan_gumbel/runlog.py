"""A run's log, metrics.jsonl: its record shapes, written while training and read by the report.

One JSON object a line, appended as the run goes (a resumed run appends to
the same file, repeating the steps it redoes)::

    {"phase": "mle", "step": 120, "time": 3.52, "nll": 2.91}
    {"phase": "mle", "step": 120, "time": 3.71, "epoch": 3, "val_nll": 3.02}
    {"phase": "gan", "step": 40, "time": 9.1, "d_loss": 1.2, "g_loss": 0.7, "beta": 4.1, "temperature": 0.244}
    {"phase": "eval", "step": 150, "generator": "gan", "bleu": {"2": 0.97, ...}, "nll_test": 1.59}
    {"phase": "monitor", "step": 50, "generator": "gan", "temperature": 1.0, "samples": 200,
     "mean_length": 9.42, "distinct": 0.995, "self_bleu": {"5": 0.287}}

With --keep-best-gan a monitor record also has "bleu": {"5": ...},
"frontier_gap" (null when refused, with "refused": the reason) and
"best_so_far"; one whose measures fell below half the MLE start's has
"collapse": ["mean_length", "distinct", "diversity"] (those that did).

"phase" is one of the run's two phases (`MLE_PHASE`, `GAN_PHASE`: the names
the checkpoints, TensorBoard and the report use too) for training steps, or
`EVAL_RECORD` / `MONITOR_RECORD` for whole-generator evaluations and the
collapse monitor (`training/monitor.py`; step 0 is the MLE start). "time" is
seconds since the run (or the resumed part) started. Non-finite numbers are
written as null, so that every line is strict JSON. Logs of runs written
before the phases had one name say "pretrain" and "adversarial"; they are
read as "mle" and "gan" (`phase_name`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from seqgan_gumbel.errors import UserInputError

MLE_PHASE = "mle"
GAN_PHASE = "gan"
PHASES = (MLE_PHASE, GAN_PHASE)
EVAL_RECORD = "eval"
MONITOR_RECORD = "monitor"
# The two phases' names in runs written before they had one vocabulary (logs and checkpoints).
LEGACY_PHASE_NAMES = {"pretrain": MLE_PHASE, "adversarial": GAN_PHASE}


def phase_name(name: str) -> str:
    """A record's (or a checkpoint's) phase in today's vocabulary: lower-cased, older names mapped."""
    lowered = name.lower()
    return LEGACY_PHASE_NAMES.get(lowered, lowered)


def step_record(phase: str, step: int, seconds: float, values: dict) -> dict:
    """The record of one logged training step (or an epoch's validation).

    Args:
        phase: `MLE_PHASE` or `GAN_PHASE` (any case).
        step: the phase's global step.
        seconds: seconds since the run started.
        values: the logged numbers, e.g. {"nll": 2.91}.

    Returns:
        {"phase", "step", "time", **values}.
    """
    return {"phase": phase_name(phase), "step": int(step), "time": round(seconds, 3), **values}


def encode_record(record: dict) -> str:
    """One line of strict JSON (non-finite floats and numpy scalars made plain), without the newline."""
    return json.dumps(_strict(record), ensure_ascii=False, allow_nan=False)


def append_record(path: str | Path, record: dict) -> None:
    """Appends one record to a metrics.jsonl file (created, with its folder, if missing).

    Args:
        path: the JSON-lines file.
        record: a JSON-serialisable dict, e.g. ``{"phase": "eval", "step": 150, "bleu": {"2": 0.8}}``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(encode_record(record) + "\n")
        handle.flush()


def read_records(path: str | Path) -> list[dict]:
    """The records of a metrics.jsonl file, in file order, phases in today's vocabulary.

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
            records.append({**record, "phase": phase_name(record["phase"])})
    return records


def phase_records(records: list[dict], phase: str) -> list[dict]:
    """The records of one phase (or record kind), one per step, sorted by step.

    Records of the same step are merged, later values winning, so that the
    steps a resumed run repeated show its final values, and an epoch's
    validation record joins that step's training record.

    Args:
        records: as `read_records` returns.
        phase: `MLE_PHASE`, `GAN_PHASE`, `EVAL_RECORD` or `MONITOR_RECORD`
            (older names are accepted).

    Returns:
        Merged records with an integer "step".
    """
    wanted = phase_name(phase)
    merged: dict[int, dict] = {}
    for record in records:
        if phase_name(record["phase"]) != wanted:
            continue
        try:
            step = int(record.get("step", 0))
        except (TypeError, ValueError):
            continue
        merged.setdefault(step, {}).update(record)
        merged[step]["step"] = step
    return [merged[step] for step in sorted(merged)]


def _strict(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        try:
            return _strict(value.item())
        except (TypeError, ValueError):
            return value
    return value
