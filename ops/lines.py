"""Reading JSON Lines input in constant memory, with a bound on one line's length."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from domain.errors import InputUnreadable
from domain.ledger import InputLine

LINE_BYTES_MAX = 1 << 20  # 1 MiB: no legitimate event comes near it
RAW_KEPT_BYTES_MAX = 4_096  # what the quarantine keeps of an over-long line
READ_CHUNK_BYTES = 1 << 16


def over_limit(origin: str, line_no: int, head: bytes, length: int) -> InputLine:
    """A line refused for its length (``length`` bytes, its line break not counted): the same
    refusal for a file and for HTTP ingest (ops.api.bodies)."""
    refusal = (
        f"is {length} bytes long, over the limit of {LINE_BYTES_MAX} bytes;"
        f" refused unparsed (its first {RAW_KEPT_BYTES_MAX} bytes are kept)"
    )
    return InputLine(origin, line_no, head[:RAW_KEPT_BYTES_MAX], refusal)


def check_readable(paths: list[str]) -> None:
    """Fail before anything is ingested when an input cannot be read at all (exit code 2)."""
    for path in paths:
        if path == "-":
            continue
        p = Path(path)
        if not p.exists():
            raise InputUnreadable(f"cannot read {path}: no such file")
        if p.is_dir():
            raise InputUnreadable(f"cannot read {path}: it is a directory")
        if not os.access(p, os.R_OK):
            raise InputUnreadable(f"cannot read {path}: permission denied")


def read_lines(
    stream: BinaryIO, origin: str, on_bytes: Callable[[int], None] | None = None
) -> Iterator[InputLine]:
    """Yield non-blank lines with their 1-based numbers. A line longer than the bound is
    never held whole: its first bytes are kept, marked, and the rest is skipped."""
    line_no = 0
    while True:
        line = stream.readline(LINE_BYTES_MAX + 1)
        if not line:
            return
        line_no += 1
        if on_bytes is not None:
            on_bytes(len(line))
        if len(line) > LINE_BYTES_MAX and not line.endswith(b"\n"):
            yield over_limit(origin, line_no, line, len(line) + _skip_rest_of_line(stream, on_bytes))
            continue
        stripped = line.strip()
        if stripped:
            yield InputLine(origin, line_no, stripped)


def _skip_rest_of_line(stream: BinaryIO, on_bytes: Callable[[int], None] | None) -> int:
    """The bytes skipped up to the end of the line, its line break not counted."""
    skipped = 0
    while True:
        chunk = stream.readline(READ_CHUNK_BYTES)
        if on_bytes is not None:
            on_bytes(len(chunk))
        if not chunk:
            return skipped
        if chunk.endswith(b"\n"):
            return skipped + len(chunk) - 1
        skipped += len(chunk)


def open_inputs(
    paths: list[str], on_bytes: Callable[[int], None] | None = None
) -> Iterator[InputLine]:
    for path in paths:
        if path == "-":
            yield from read_lines(sys.stdin.buffer, "-", on_bytes)
            continue
        try:
            stream = open(path, "rb")  # noqa: SIM115  # closed below, generator-scoped
        except OSError as e:
            raise InputUnreadable(f"cannot read {path}: {e.strerror}") from e
        with stream:
            yield from read_lines(stream, path, on_bytes)


def total_bytes(paths: list[str]) -> int | None:
    if "-" in paths:
        return None
    return sum(Path(p).stat().st_size for p in paths)
