"""The exceptions regledger raises for expected conditions.

Programmer errors are ``assert``s; everything a user, an upstream system or the environment
can cause is one of these, translated into a clear message at the edge (``ops``).
"""

from __future__ import annotations

from dataclasses import dataclass


class RegledgerError(Exception):
    """Base of every expected failure."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one field of an event was refused, in words a person understands."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class EventRejected(RegledgerError):
    """An event failed validation; it is quarantined, never stored as a fact."""

    def __init__(self, reasons: list[Reason] | tuple[Reason, ...], event_id: str | None = None):
        self.reasons = tuple(reasons)
        self.event_id = event_id
        assert self.reasons, "a rejection needs at least one reason"
        super().__init__("; ".join(str(r) for r in self.reasons))


class EventConflict(EventRejected):
    """An ``event_id`` already stored with different content."""


class InputUnreadable(RegledgerError):
    """The input as a whole could not be read (missing file, not UTF-8 at all ...)."""


class StoreUnavailable(RegledgerError):
    """The database could not be reached or opened."""


class StoreCorrupted(RegledgerError):
    """The store is not what regledger expects (unknown schema version, broken chain ...)."""


class NotFound(RegledgerError):
    """A finding, case, event or entity that was asked for does not exist."""


class InvalidRequest(RegledgerError):
    """A command-line or API request whose arguments make no sense."""


class CaseActionRefused(InvalidRequest):
    """An officer's action that the case workflow does not allow now (resolve without a code,
    reopen a case that is not resolved ...), or that lost a race with another officer's."""


class UnknownOfficer(CaseActionRefused):
    """An actor or assignee who is not a known officer (an active officer token's name, or a
    name in the configured list of officers)."""


class EvidenceUnreadable(InvalidRequest):
    """A digest, proof or key file that is not well-formed: not what regledger writes, so it
    cannot even be checked (a well-formed one that does not verify is a verdict, not this)."""


class CitationsInvalid(RegledgerError):
    """The citations file (``policies/citations.toml`` or ``$REGLEDGER_CITATIONS``) is not
    what counsel's corrections may make of it: a rule missing or unknown, a key misspelt, a
    field of the wrong kind. regledger refuses to start rather than cite wrongly."""
