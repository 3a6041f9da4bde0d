"""benchmarks/results_table.py: the results page's table is regenerated from the records, not hand-edited."""

import importlib.util
import json
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "results_table", Path(__file__).resolve().parents[1] / "benchmarks" / "results_table.py")
results_table = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(results_table)


def test_write_replaces_only_the_text_between_the_markers_and_is_idempotent(tmp_path):
    page = tmp_path / "results.md"
    page.write_text(f"# Results\n\nbefore\n{results_table.BEGIN}\n| stale | table |\n{results_table.END}\nafter\n")
    results_table.write(page, "| new | table |")
    expected = f"# Results\n\nbefore\n{results_table.BEGIN}\n| new | table |\n{results_table.END}\nafter\n"
    assert page.read_text() == expected
    results_table.write(page, "| new | table |")
    assert page.read_text() == expected


def test_write_refuses_a_page_without_markers(tmp_path):
    page = tmp_path / "results.md"
    page.write_text("# Results\n")
    with pytest.raises(SystemExit, match="markers"):
        results_table.write(page, "| t |")
    assert page.read_text() == "# Results\n"


def test_the_docs_table_is_the_records_table():
    """docs/results.md holds exactly what `results_table.py --write docs/results.md` writes."""
    records = [json.loads(p.read_text()) for p in sorted(results_table.RESULTS.glob("*.json"))]
    table = "\n".join(results_table.rows(records))
    text = (Path(__file__).resolve().parents[1] / "docs" / "results.md").read_text()
    assert f"{results_table.BEGIN}\n{table}\n{results_table.END}" in text
