"""The value types of the event contract (events.md, "Value conventions").

Each type is an ``Annotated`` alias for pydantic. Python-level checks run as
``BeforeValidator``s and leave the final type check, the bounds and the serialisation to
pydantic's core, so a ``Decimal`` still dumps to JSON as an exact string.

Every message is addressed to the person who fixes the upstream system; the edge prints it
after the field's dotted path.

Two forms are read. Ingest (the default) holds a new line to events.md as it stands: a
Timestamp in [1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z) to the microsecond, a Decimal in
plain notation of at most 40 digits. The stored form (``STORED``, the validation context of
every reader of the ledger) is what earlier versions accepted: the ledger is never rewritten,
so an event stored before the bounds (``"1E-8"``, a year-1 timestamp) must still decode, and
whatever cannot be evaluated downstream is reported as such (``SYS-01``), never a crash.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timezone, tzinfo
from decimal import Decimal
from typing import Annotated, Final

from annotated_types import Ge, Gt, Le
from pydantic import AwareDatetime, BeforeValidator, StringConstraints, ValidationInfo
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
ASSET_PATTERN = r"^[A-Z0-9._-]{1,32}$"
SOURCE_CHARS_MAX = 64
ACTOR_CHARS_MAX = 128  # who acts on a case or a quarantined line: an officer's or a system's name
NOTE_CHARS_MAX = 4_000  # what an officer writes: a comment, a note, a reason
POSITION_MAX = 2**62  # a ledger position: far beyond any ledger, within every database's BIGINT
TEXT_CHARS_MAX = 1000
DECIMAL_TEXT_CHARS_MAX = 64  # the stored form's bound (ingest's is DECIMAL_DIGITS_MAX)
DECIMAL_DIGITS_MAX = 40
DECIMAL_INTEGER_DIGITS_MAX = DECIMAL_DIGITS_MAX
# events.md: every Timestamp converted to UTC lies in [TIME_MIN, TIME_END).
TIME_MIN: Final = datetime(1970, 1, 1, tzinfo=UTC)
TIME_END: Final = datetime(2200, 1, 1, tzinfo=UTC)
TIME_RANGE_TEXT = "[1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z)"

# The validation context of a stored event (see the module's docstring).
STORED: Final = {"stored_form": True}

REASON_ERROR = "regledger_reason"  # pydantic error type of ``invalid``

ID_RULE = "must be an id: 1-128 characters of A-Za-z0-9._:-"
ASSET_RULE = "must be an asset symbol: 1-32 characters of A-Z0-9._- (upper case)"
DECIMAL_RULE = "must be a decimal written as a string or an integer"
FLOAT_RULE = f"{DECIMAL_RULE}, not a floating-point number"
TIMESTAMP_EXAMPLE = "2026-03-02T09:00:00+08:00"

# Tab, line feed and carriage return may appear in free text; other control characters
# (NUL above all) cannot be stored or shown safely. The pattern also makes pydantic refuse
# strings with unpaired surrogates, which cannot be encoded as UTF-8.
_TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"

# Ingest: plain notation (events.md). The stored form also takes the short exponent earlier
# versions accepted (Python's ``str(Decimal)`` writes ``1E-8``).
_DECIMAL_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,2})?")
_DECIMAL_INTEGER_LIMIT = 10**DECIMAL_INTEGER_DIGITS_MAX

_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<micro>[0-9]{1,6})(?P<beyond>[0-9]*))?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_CANONICAL_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def invalid(message: str) -> PydanticCustomError:
    """A validation error whose message is already a reason, passed on word for word."""
    return PydanticCustomError(REASON_ERROR, message)


def decimal_from_json(value: object, stored: bool = False) -> Decimal:
    """The exact ``Decimal`` of a JSON string or integer; ``ValueError`` for anything else.
    ``stored``: the stored form's grammar (see the module's docstring)."""
    if type(value) is str:
        if stored:
            if len(value) > DECIMAL_TEXT_CHARS_MAX or not _DECIMAL_TEXT.fullmatch(value):
                raise ValueError(f'{DECIMAL_RULE}, like "1234.5"')
            return Decimal(value)
        if not _DECIMAL_PLAIN.fullmatch(value):
            raise ValueError(
                f'{DECIMAL_RULE} in plain notation, like "1234.5" (no exponent, NaN or Infinity)'
            )
        if len(value) - value.startswith("-") - ("." in value) > DECIMAL_DIGITS_MAX:
            raise ValueError(f"has more than {DECIMAL_DIGITS_MAX} digits")
        return Decimal(value)
    if type(value) is int:
        if not -_DECIMAL_INTEGER_LIMIT < value < _DECIMAL_INTEGER_LIMIT:
            raise ValueError(f"has more than {DECIMAL_INTEGER_DIGITS_MAX} digits")
        return Decimal(value)
    if type(value) is float:
        raise ValueError(FLOAT_RULE)
    if type(value) is bool:
        raise ValueError(f"{DECIMAL_RULE}, not true or false")
    raise ValueError(DECIMAL_RULE)


def is_stored_form(info: ValidationInfo) -> bool:
    context = info.context
    return context is not None and context.get("stored_form") is True


def _decimal(value: object, info: ValidationInfo) -> object:
    if type(value) is Decimal:  # built in Python (tests, the registry): pydantic checks it
        return value
    try:
        return decimal_from_json(value, is_stored_form(info))
    except ValueError as error:
        raise invalid(str(error)) from None


def time_in_range(moment: datetime) -> bool:
    """True when an aware ``moment`` lies in events.md's [1970, 2200) UTC range (an aware
    comparison never converts, so year 1 at +08:00 or 9999-12-31 at -23:59 cannot overflow).

    A local year in 1971-2198 lies in range whatever the offset (offsets are under a day),
    and reading it is cheaper than an aware comparison, which asks both sides for offsets."""
    return 1970 < moment.year < 2199 or TIME_MIN <= moment < TIME_END


def time_text(moment: datetime, zone: tzinfo) -> str:
    """``moment`` in ISO 8601 in ``zone``; as it was sent when it cannot be converted (a time
    stored by an earlier version, as early as year 1 or as late as 9999, may not be)."""
    try:
        return moment.astimezone(zone).isoformat()
    except OverflowError:
        return moment.isoformat()


def _timestamp(value: object, info: ValidationInfo) -> object:
    if type(value) is datetime:
        return value
    stored = is_stored_form(info)
    moment = parsed_timestamp(value, stored)
    if not stored and not time_in_range(moment):
        raise invalid(f"must lie in {TIME_RANGE_TEXT} once converted to UTC")
    return moment


# One ``timezone`` object per UTC offset, for every timestamp parsed (``shared_zone``). The
# grammar takes hh:mm offsets under a day: at most 2 * 24 * 60 - 1 entries.
_ZONES: Final[dict[tzinfo, tzinfo]] = {UTC: UTC}


def shared_zone(moment: datetime) -> datetime:
    """``moment`` (just parsed) with the one ``timezone`` object kept for its UTC offset, equal
    to its own: the same instant, offset and name. Two aware datetimes that share their tzinfo
    object compare by their fields alone; with equal but distinct ones Python asks each for its
    offset first (measured 2026-12-06, CPU time: 31 ns against 678 ns a comparison), and the
    monitor compares times on every event. ``fromisoformat`` gives UTC's own object already,
    and a new ``timezone`` for every other offset.

    Rebuilt by ``astimezone`` to the shared zone (same offset, so the same fields): about 270 ns
    against 840 ns for ``replace(tzinfo=...)``, which parses its keywords in Python 3.11."""
    zone = moment.tzinfo
    if zone is UTC or zone is None:
        return moment
    shared = _ZONES.get(zone)
    if shared is None:
        shared = _ZONES.setdefault(zone, timezone(zone.utcoffset(None)))  # type: ignore[arg-type]
    if shared is zone:
        return moment
    try:
        return moment.astimezone(shared)
    except OverflowError:  # near year 1 or 9999 (stored by an earlier version): UTC is out of reach
        return moment.replace(tzinfo=shared)


def parsed_timestamp(value: object, stored: bool) -> datetime:
    """The aware datetime of an RFC 3339 string (the stored form's grammar when ``stored``),
    not checked against events.md's range, with its offset's shared tzinfo (``shared_zone``);
    ``invalid`` says why it is not one."""
    # The usual form (upper-case T, at most six fractional digits, Z or an hh:mm offset) is
    # the very text ``fromisoformat`` is given below, so it goes there directly; anything
    # else, or a date that is not real, takes the full path, which says what is wrong.
    if type(value) is str and _CANONICAL_TIMESTAMP.fullmatch(value):
        try:
            return shared_zone(datetime.fromisoformat(value))
        except ValueError:
            pass
    if type(value) is not str:
        raise invalid(f"must be an RFC 3339 timestamp string, like {TIMESTAMP_EXAMPLE}")
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise invalid(f"must be an RFC 3339 timestamp with offset, like {TIMESTAMP_EXAMPLE}")
    if match["offset"] is None:
        raise invalid("timestamp must include a UTC offset")
    # Earlier versions took trailing zeros past the microsecond; events.md now refuses them.
    if match["beyond"] and (match["beyond"].strip("0") or not stored):
        raise invalid("has more than six fractional digits (times are kept to the microsecond)")
    offset = "+00:00" if match["offset"] in ("Z", "z") else match["offset"]
    micro = f".{match['micro']}" if match["micro"] else ""
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}{micro}{offset}")
    except ValueError:
        raise invalid("is not a real date and time (or its offset is out of range)") from None
    return shared_zone(moment)


def _date(value: object) -> object:
    if type(value) is date:
        return value
    if type(value) is not str or not _DATE.fullmatch(value):
        raise invalid("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid("is not a real calendar date") from None


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Asset = Annotated[str, StringConstraints(pattern=ASSET_PATTERN)]
Text = Annotated[str, StringConstraints(max_length=TEXT_CHARS_MAX, pattern=_TEXT_PATTERN)]
Source = Annotated[
    str, StringConstraints(min_length=1, max_length=SOURCE_CHARS_MAX, pattern=_TEXT_PATTERN)
]

DecimalValue = Annotated[Decimal, BeforeValidator(_decimal)]
PositiveDecimal = Annotated[Decimal, BeforeValidator(_decimal), Gt(0)]
NonNegativeDecimal = Annotated[Decimal, BeforeValidator(_decimal), Ge(0)]
Rate = Annotated[Decimal, BeforeValidator(_decimal), Ge(0), Le(1)]

Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp)]
Date = Annotated[date, BeforeValidator(_date)]

# Messages for the pattern-constrained strings, keyed by the pattern pydantic reports.
PATTERN_RULES = {
    ID_PATTERN: ID_RULE,
    ASSET_PATTERN: ASSET_RULE,
    _TEXT_PATTERN: "must not contain control characters other than tab and line breaks",
}
