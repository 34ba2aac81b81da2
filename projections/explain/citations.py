"""Where each rule comes from, as data: ``policies/citations.toml`` (or the file
``$REGLEDGER_CITATIONS`` names), which the firm's counsel corrects without touching code.

Checked whole when regledger starts (``install``): every rule of the registry exactly once, no
other, only the four keys, each of its kind. The rule modules' ``CITATION`` constants name the
document only; a finding's citation comes from here.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from domain.errors import CitationsInvalid
from policies.registry import RULES

KEYS = ("document", "paragraphs", "section", "note")
# Internal cross-references of the rule modules' docstrings, which an officer cannot follow:
# "(reading 11)" points into the rulebook's list of edge-case readings.
_READING = re.compile(r"\s*\(readings? [0-9, and]+\)")
_HEADING = re.compile(r"^[A-Z]+-[0-9]+ [^.]*\.\s+")  # the docstring's first line repeats id and title


class Citation(NamedTuple):
    document: str
    paragraphs: tuple[str, ...]
    section: str
    note: str

    def text(self) -> str:
        """The document and, as precisely as known, where in it; never a guessed paragraph."""
        if self.paragraphs:
            word = "paragraph" if len(self.paragraphs) == 1 else "paragraphs"
            return f"{self.document}, {word} {', '.join(self.paragraphs)}"
        if self.section:
            return f"{self.document}, section \u201c{self.section}\u201d (paragraph not known)"
        return f"{self.document} (paragraph not known)"

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text(), "document": self.document, "paragraphs": list(self.paragraphs),
                "section": self.section or None, "note": self.note or None}


def parse(raw: bytes, where: str) -> dict[str, Citation]:
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise CitationsInvalid(f"{where}: not TOML: {e}") from None
    expected = [rule.rule_id for rule in RULES]
    unknown = sorted(set(table) - set(expected))
    if unknown:
        raise CitationsInvalid(f"{where}: {', '.join(unknown)}: no such rule in the rulebook")
    missing = [rule_id for rule_id in expected if rule_id not in table]
    if missing:
        raise CitationsInvalid(f"{where}: no citation for {', '.join(missing)}")
    return {rule_id: _citation(table[rule_id], f"{where} [{rule_id}]") for rule_id in expected}


def _citation(entry: Any, where: str) -> Citation:
    if not isinstance(entry, dict):
        raise CitationsInvalid(f"{where}: a table of {', '.join(KEYS)} is expected")
    extra = sorted(set(entry) - set(KEYS))
    if extra:
        raise CitationsInvalid(f"{where}: unknown key {extra[0]!r} (the keys are {', '.join(KEYS)})")
    document, paragraphs = entry.get("document"), entry.get("paragraphs", [])
    section, note = entry.get("section", ""), entry.get("note", "")
    if not isinstance(document, str) or not document.strip():
        raise CitationsInvalid(f"{where}: document: a non-empty string is required")
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) and p.strip() for p in paragraphs):
        raise CitationsInvalid(f"{where}: paragraphs: a list of non-empty strings is required ([] when not known)")
    for key, value in (("section", section), ("note", note)):
        if not isinstance(value, str):
            raise CitationsInvalid(f"{where}: {key}: a string is required")
    return Citation(document.strip(), tuple(p.strip() for p in paragraphs), section.strip(), note.strip())


def packaged() -> bytes:
    return resources.files("policies").joinpath("citations.toml").read_bytes()


_installed: dict[str, Citation] = {}


def install(path: str | None = None) -> dict[str, Citation]:
    """Read and check the citations once, at start-up: a bad file stops regledger there."""
    if path is None:
        loaded = parse(packaged(), "policies/citations.toml")
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise CitationsInvalid(f"citations file {path}: {e.strerror}") from None
        loaded = parse(raw, f"citations file {path}")
    _installed.clear()
    _installed.update(loaded)
    return loaded


def citation(rule_id: str) -> Citation:
    if not _installed:
        install()
    return _installed[rule_id]


def plain_obligation(text: str) -> str:
    """A rule's docstring as an officer reads it: one paragraph, without the internal
    reading numbers or the code quotes around parameter names."""
    text = _HEADING.sub("", _READING.sub("", " ".join(text.split())))
    return text.replace("``", "").replace("`", "")
