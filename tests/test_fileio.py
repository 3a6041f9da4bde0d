import json
import re

import pytest

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.fileio import atomic_path, atomic_write_text


def test_atomic_write_replaces_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target, suffix=".keras") as tmp:
            assert tmp.name.endswith(".keras") and tmp.parent == tmp_path
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


@pytest.mark.parametrize("reader, format_name, message", [
    ("tokenizer", "seqgan_gumbel.tokenizer", "vocabulary format version 99 is not supported (this is version 1)"),
    ("sweep", "seqgan_gumbel.sweep", "sweep format version 99 is not supported (this is version 1)"),
])
def test_the_packages_json_formats_refuse_another_version_and_another_format(tmp_path, reader, format_name, message):
    from seqgan_gumbel.corpus.tokenizer import Tokenizer
    from seqgan_gumbel.evaluation.sweep import read_sweep

    read = {"tokenizer": Tokenizer.load, "sweep": read_sweep}[reader]
    path = tmp_path / "file.json"
    path.write_text(json.dumps({"format": format_name, "version": 99}))
    with pytest.raises(UserInputError, match=re.escape(f"{path}: {message}")):
        read(path)
    path.write_text(json.dumps({"format": "something.else", "version": 1}))
    with pytest.raises(UserInputError, match="not a seqgan_gumbel (vocabulary|temperature-sweep) file"):
        read(path)
