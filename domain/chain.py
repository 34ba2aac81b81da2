"""The ledger's hash chain: the canonical encoding every stored event is hashed with.

Each stored event carries ``hash_n = SHA-256(encoding_n)`` where ``encoding_n`` is the bytes

    b"regledger-chain-v1\\n"
    + decimal ASCII of the position n            + b"\\n"
    + recorded_at as UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ" + b"\\n"
    + lower-case hex of hash_{n-1}               + b"\\n"
    + byte length of originator_id (UTF-8), b":", originator_id + b"\\n"
    + decimal ASCII of originator_version        + b"\\n"
    + byte length of the topic (UTF-8), b":", the topic + b"\\n"
    + the stored state bytes (for a catalogue event: the envelope exactly as sent)

and ``hash_0`` is 32 zero bytes. ``ops/VERIFYING.md`` restates this for regulators; change
both together, and only with a new version tag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.speedups import quick_init

CHAIN_VERSION_TAG = b"regledger-chain-v1\n"
GENESIS_HASH = bytes(32)


def format_recorded_at(recorded_at: datetime) -> str:
    """The one textual form of ``recorded_at`` that enters the hash (microseconds, UTC)."""
    assert recorded_at.tzinfo is not None, "recorded_at must be timezone-aware"
    return recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_hash(
    position: int,
    recorded_at: datetime,
    previous: bytes,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
    *,
    recorded_at_text: bytes = b"",
) -> bytes:
    """``recorded_at_text`` may pass the formatted time in, when a whole batch shares it."""
    assert position >= 1 and len(previous) == 32
    identifier, kind = originator_id.encode(), topic.encode()
    head = b"%s%d\n%s\n%s\n%d:%s\n%d\n%d:%s\n" % (
        CHAIN_VERSION_TAG, position, recorded_at_text or format_recorded_at(recorded_at).encode("ascii"),
        previous.hex().encode("ascii"), len(identifier), identifier, originator_version, len(kind), kind,
    )  # fmt: skip
    return hashlib.sha256(head + state).digest()  # one call: on every event, each update cost


@dataclass(frozen=True, slots=True)
class Tip:
    """The last stored event: where the next one continues the chain."""

    position: int
    chain_hash: bytes
    recorded_at: datetime | None

    @classmethod
    def empty(cls) -> Tip:
        return cls(0, GENESIS_HASH, None)


@quick_init  # built for every event appended
@dataclass(frozen=True, slots=True)
class ChainedRow:
    """An event numbered and hashed, ready to insert."""

    position: int
    event_id: str
    version: int
    type: str
    state: bytes
    recorded_at: datetime
    chain_hash: bytes


def chain_rows(
    tip: Tip, entries: Sequence[tuple[str, int, str, bytes]], recorded_at: datetime
) -> list[ChainedRow]:
    """Number and hash entries after the tip; ``recorded_at`` never goes back in time."""
    if tip.recorded_at is not None and recorded_at < tip.recorded_at:
        recorded_at = tip.recorded_at
    rows = []
    previous, position = tip.chain_hash, tip.position
    text = format_recorded_at(recorded_at).encode("ascii")
    for event_id, version, topic, state in entries:
        position += 1
        previous = chain_hash(
            position, recorded_at, previous, event_id, version, topic, state, recorded_at_text=text
        )
        rows.append(ChainedRow(position, event_id, version, topic, state, recorded_at, previous))
    return rows
