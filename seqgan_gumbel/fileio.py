"""Crash-safe file writing: a temporary file beside the target, fsync, rename."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from seqgan_gumbel.errors import UserInputError


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    A kill at any moment leaves either the old file or the new one, never a
    half-written file. On an exception the temporary file is removed.

    Args:
        path: the final file.
        suffix: the temporary file's suffix (Keras insists on ".keras" or
            ".weights.h5" endings).

    Yields:
        The temporary path to write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Writes UTF-8 text to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_json(path: str | Path, what: str) -> Any:
    """Parses a JSON file (never evaluates it).

    Args:
        path: the file.
        what: names the file's role in error messages, e.g. "config".

    Returns:
        The parsed data.

    Raises:
        UserInputError: missing, unreadable, not UTF-8 or not JSON.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserInputError(f"{path}: not a readable JSON {what} file ({exc})") from None


def read_format_json(path: str | Path, what: str, format_name: str, version: int, kind: str,
                     version_label: str) -> dict:
    """Parses a JSON document the package wrote with {"format": format_name, "version": version, ...}.

    Args:
        path: the file.
        what: the file's role in `read_json`'s messages, e.g. "vocabulary".
        format_name: the document's "format", e.g. "seqgan_gumbel.tokenizer".
        version: the one "version" this package reads.
        kind: names the file in "not a seqgan_gumbel <kind> file".
        version_label: names the format in "<label> format version N is not supported".

    Returns:
        The document.

    Raises:
        UserInputError: unreadable (see `read_json`), another format, or another version.
    """
    data = read_json(path, what)
    if not isinstance(data, dict) or data.get("format") != format_name:
        raise UserInputError(f"{path}: not a seqgan_gumbel {kind} file")
    if data.get("version") != version:
        raise UserInputError(f"{path}: {version_label} format version {data.get('version')!r} is not supported "
                             f"(this is version {version})")
    return data
