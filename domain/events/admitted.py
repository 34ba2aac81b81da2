"""An admitted event read back from the ledger without validating it again: ``admitted_envelope``.

Every catalogue row of the ledger was validated before it was stored (ingest parses each
line with ``parse_line``; an import checks each row's chain hash and parses it in the stored
form), and the ledger is append-only. Reading such a row back only has to rebuild the
objects validation built: each field's JSON value converted as its validator converts it
(a Decimal from its text or integer, a timestamp or a date parsed, a parameter's list made a
tuple, a nested object built), the rest (ids, texts, literals, booleans, integers) taken as
they are, and each model built as validation leaves it (``domain.speedups.built_model``).
The result is equal to ``parse_line(line, stored=True)``'s, field for field and type for type
(Decimal exponents and offsets kept): ``tests/domain/test_admitted.py`` holds every event of
the scenarios and a generated set of every type so.

The JSON is read by orjson alone. ``parse_line`` takes the standard decoder where the two
could differ (``decoding._plain_object``): a key given twice (which ``parse_line`` has always
refused, so no admitted line holds one) and an integer beyond 64 bits, which orjson reads as a
float; the one field of an admitted line that can hold such an integer (a Decimal, a rule
parameter's value) refuses a float here, and the line takes the slow path.

What it skips is the checking: the patterns, the bounds, the ``check_*`` validators. So it is
only for rows the ledger itself admitted (``domain.ledger.decode_admitted``); whatever comes
from outside (input, an export being imported, a proposal) is parsed by ``parse_line``. A line
it cannot rebuild (JSON orjson refuses, a number only the standard decoder reads exactly, a field
it does not know, a value of the wrong JSON type) raises ``NotAdmitted``, and the caller
parses it the slow way, which decodes it or says what is wrong with it as before.

Measured: see ``domain/ledger/stored.py``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import orjson
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from domain.events.catalogue import EVENT_TYPES
from domain.events.envelope import Envelope
from domain.events.reference_data import _parameter_value
from domain.speedups import built_model
from domain.values import _date, _decimal, _timestamp, shared_zone


class NotAdmitted(ValueError):
    """A line this module cannot rebuild: the caller parses it with ``parse_line``."""


Convert = Callable[[Any], Any]
_MISSING: Final = object()


def _decimal_of(value: Any) -> Decimal:
    kind = type(value)
    if kind is str or kind is int:  # as ``decimal_from_json`` (whose checks it skips) reads them
        return Decimal(value)
    raise NotAdmitted("a decimal neither a string nor an integer")


def _timestamp_of(value: Any) -> datetime:
    """As ``parsed_timestamp(value, stored=True)`` reads an admitted value, without its grammar
    check: every form the stored grammar takes (``T``, ``t`` or a space between date and time,
    ``Z`` or an hh:mm offset, up to six fractional digits and zeros past them) reads the same
    with ``fromisoformat`` alone, but a ``z``, which it refuses: the line takes the slow path."""
    if type(value) is not str:
        raise NotAdmitted("a timestamp not a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:  # never admitted: the slow path says why
        raise NotAdmitted("a timestamp without an offset")
    return shared_zone(moment)


def _date_of(value: Any) -> date:
    if type(value) is not str:
        raise NotAdmitted("a date not a string")
    return date.fromisoformat(value)


def _parameter_value_of(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return tuple(value)
    if kind is float:  # orjson's reading of an integer beyond 64 bits: json's is exact
        raise NotAdmitted("an integer beyond 64 bits")
    return value


# The converting validators of ``domain.values`` and the catalogue, and how a stored value is
# converted as each converts it (the checks left out). A field validated by any other function
# is refused when the plans are built, at import: its conversion must be added here first.
_CONVERTERS: Final[dict[Callable[..., Any], Convert]] = {
    _decimal: _decimal_of,
    _timestamp: _timestamp_of,
    _date: _date_of,
    _parameter_value: _parameter_value_of,
}


def _nullable(convert: Convert) -> Convert:
    def convert_or_none(value: Any) -> Any:
        return None if value is None else convert(value)

    return convert_or_none


def _convert_of(annotation: Any, metadata: list[Any]) -> Convert | None:
    """How one field's JSON value becomes what validation makes of it; None: as it is."""
    validators = [m.func for m in metadata if hasattr(m, "func")]
    assert len(validators) <= 1, f"one converting validator per field: {validators}"
    if validators:
        return _CONVERTERS[validators[0]]
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        assert len(arguments) == 1 and len(arguments) < len(typing.get_args(annotation)), annotation
        inner = _convert_of(arguments[0], [])
        return None if inner is None else _nullable(inner)
    if origin is typing.Annotated:
        inner_type, *inner_metadata = typing.get_args(annotation)
        return _convert_of(inner_type, inner_metadata)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _builder(annotation)
    assert annotation in (str, bool, int) or origin is typing.Literal, f"no conversion known for {annotation}"
    return None


Plan = tuple[tuple[str, Convert | None, Any], ...]  # (field, conversion, default or _MISSING)


def _plan(model: type[BaseModel]) -> Plan:
    """Each field of ``model`` in order, with its conversion and its default. Only models whose
    validators all check (``check_*``, by the rules' convention) and never convert qualify."""
    decorators = model.__pydantic_decorators__
    names = [*decorators.field_validators, *decorators.model_validators, *decorators.validators]
    assert all(n.startswith("check_") for n in names), f"{model.__name__}: a validator that may convert"
    assert model.model_config.get("extra") == "forbid" and not model.__private_attributes__, model
    return tuple((name, _field_convert(field), _default_of(field)) for name, field in model.model_fields.items())


def _field_convert(field: FieldInfo) -> Convert | None:
    return _convert_of(field.annotation, list(field.metadata))


def _default_of(field: FieldInfo) -> Any:
    if field.is_required():
        return _MISSING
    assert field.default_factory is None, "a default factory is not supported"
    default = field.default
    assert default is None or type(default) in (str, bool, int), "an immutable default only"
    return default


def _generated(model: type[BaseModel], plan: Plan, given: str | None = None) -> Callable[..., Any]:
    """A function building ``model`` from a JSON object by ``plan``, generated (with ``exec``,
    from the field names only, as ``domain.speedups.quick_init``) so that each field costs one
    look-up, and its conversion a call; a loop over the plan cost about as much again.
    ``given``: a field whose value is passed as a second argument (the envelope's payload).
    A required field missing raises ``KeyError``, a field the model lacks ``NotAdmitted``."""
    namespace: dict[str, Any] = {"_model": model, "_built_model": built_model, "NotAdmitted": NotAdmitted}
    items: list[str] = []
    for i, (name, convert, default) in enumerate(plan):
        assert name.isidentifier(), name
        namespace[f"_convert_{i}"], namespace[f"_default_{i}"] = convert, default
        if name == given:
            value = "given"
        elif default is _MISSING:
            value = f"obj[{name!r}]" if convert is None else f"_convert_{i}(obj[{name!r}])"
        elif convert is None:
            value = f"obj.get({name!r}, _default_{i})"
        else:
            value = f"_convert_{i}(obj[{name!r}]) if {name!r} in obj else _default_{i}"
        items.append(f"        {name!r}: {value},")
    source = "\n".join([
        f"def build(obj{', given' if given else ''}):",
        "    if type(obj) is not dict:",
        "        raise NotAdmitted('an object that is not a JSON object')",
        "    values = {", *items, "    }",
        "    if len(values) < len(obj):  # a key that is no field: validation would refuse it",
        "        raise NotAdmitted('a field the model does not know')",
        "    return _built_model(_model, values, set(obj))",
    ])
    exec(source, namespace)  # built from field names only
    build: Callable[..., Any] = namespace["build"]
    return build


def _builder(model: type[BaseModel]) -> Convert:
    return _generated(model, _plan(model))


_PAYLOAD_BUILDERS: Final[Mapping[str, Convert]] = MappingProxyType(
    {name: _builder(model) for name, model in EVENT_TYPES.items()}
)
assert tuple(Envelope.model_fields)[-1] == "data"
_build_envelope: Final = _generated(Envelope, _plan(Envelope), given="data")


def admitted_envelope(line: bytes | str) -> Envelope:
    """The envelope of a line the ledger admitted, rebuilt as ``parse_line(line, stored=True)``
    builds it, without checking it again; ``NotAdmitted`` when it cannot be rebuilt so."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:  # a line only the standard decoder reads (or refuses)
        raise NotAdmitted("not read by orjson") from None
    if type(obj) is not dict:
        raise NotAdmitted("not a JSON object")
    build_payload = _PAYLOAD_BUILDERS.get(obj.get("type"))  # type: ignore[arg-type]
    if build_payload is None:
        raise NotAdmitted("not an event type of the catalogue")
    try:
        envelope: Envelope = _build_envelope(obj, build_payload(obj["data"]))
    except NotAdmitted:
        raise
    except (LookupError, ValueError, TypeError, ArithmeticError) as error:  # what validation would refuse
        raise NotAdmitted(repr(error)) from None
    return envelope
