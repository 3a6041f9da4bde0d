#!/usr/bin/env python3
"""Prints the Markdown table of benchmarks/results/*.json (the README's results table).

    python benchmarks/results_table.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}".lstrip("0") if abs(value) < 1 else f"{value:.{digits}f}"


def _minutes(record: dict) -> str:
    # A resumed run's own clock saw only its last part; its phases are in the note.
    if record.get("resumed"):
        return f"~{record.get('measured_minutes', '?')} min (resumed, see note)"
    seconds = record["total_seconds"]
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def rows(records: list[dict]) -> list[str]:
    lines = [
        "| preset | seed | generator | BLEU-2..5 | Self-BLEU-2..5 | NLL_test | NLL_oracle | grammar-valid | wall time | machine |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for record in records:
        for generator in ("mle", "gan"):
            m = record["metrics"][generator]
            bleu = "/".join(_fmt(m["bleu"][n]) for n in ("2", "3", "4", "5"))
            self_bleu = "/".join(_fmt(m["self_bleu"][n]) for n in ("2", "3", "4", "5"))
            oracle = m.get("nll_oracle")
            label = generator.upper()
            if generator == "mle" and record.get("mle_best_epoch"):
                label += f" (epoch {record['mle_best_epoch']} of {record['config']['training']['pretrain_epochs']})"
            lines.append(
                f"| {record['preset']} | {record['seed']} | {label} | {bleu} | {self_bleu} | "
                f"{_fmt(m['nll_test'])} | {_fmt(oracle) if oracle is not None else '-'} | "
                f"{_fmt(m['grammar_validity']) if 'grammar_validity' in m else '-'} | "
                f"{_minutes(record)} | {record['machine']} |"
            )
    return lines


def main() -> int:
    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    if not records:
        print("no results yet: run benchmarks/run_preset.py", file=sys.stderr)
        return 1
    print("\n".join(rows(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
