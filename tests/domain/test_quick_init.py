"""``quick_init``: the same constructor as the dataclass's, faster; the class still frozen."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from domain.book import book, changes, entities
from domain.speedups import quick_init


def _plain_and_quick() -> tuple[type, type]:
    def define() -> type:
        @dataclass(frozen=True, slots=True)
        class Row:
            a: str
            b: Decimal
            c: int = 7
            d: bool = field(default=False, compare=False)
        return Row
    return define(), quick_init(define())


def _parameters(cls: type) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]


def test_the_constructor_takes_the_same_arguments_and_sets_the_same_fields() -> None:
    plain, quick = _plain_and_quick()
    assert _parameters(quick) == _parameters(plain)
    for args, kwargs in [(("x", Decimal("1.50")), {}), (("x", Decimal(2), 3, True), {}),
                         ((), {"b": Decimal(1), "a": "y", "d": True})]:
        made, expected = quick(*args, **kwargs), plain(*args, **kwargs)
        assert [getattr(made, f.name) for f in dataclasses.fields(made)] == [
            getattr(expected, f.name) for f in dataclasses.fields(expected)
        ]
    with pytest.raises(TypeError):
        quick("x")  # a required field missing, as the dataclass's
    with pytest.raises(TypeError):
        quick("x", Decimal(1), e=2)


def test_the_class_stays_frozen_and_replace_equality_and_hash_work() -> None:
    _, quick = _plain_and_quick()
    row = quick("x", Decimal(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.a = "y"
    assert dataclasses.replace(row, c=8) == quick("x", Decimal(1), 8)
    assert row == quick("x", Decimal(1), d=True)  # d is not compared
    assert hash(row) == hash(quick("x", Decimal(1)))
    assert repr(row).endswith("Row(a='x', b=Decimal('1'), c=7, d=False)")


def test_every_frozen_row_of_the_book_uses_it() -> None:
    frozen = [
        cls for module in (entities, book, changes) for cls in vars(module).values()
        if dataclasses.is_dataclass(cls) and isinstance(cls, type) and cls.__module__ == module.__name__
        and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    ]
    assert len(frozen) >= 8
    for cls in frozen:
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
        assert "_set_" in " ".join(cls.__init__.__code__.co_names), cls  # the quick one


@pytest.mark.parametrize("decorate", ["not frozen", "post init", "factory", "keyword only"])
def test_what_it_cannot_build_the_same_is_refused(decorate: str) -> None:
    with pytest.raises(AssertionError):
        if decorate == "not frozen":
            @quick_init
            @dataclass(slots=True)
            class A:
                a: int
        elif decorate == "post init":
            @quick_init
            @dataclass(frozen=True, slots=True)
            class B:
                a: int

                def __post_init__(self) -> None: ...
        elif decorate == "factory":
            @quick_init
            @dataclass(frozen=True, slots=True)
            class C:
                a: tuple[int, ...] = field(default_factory=tuple)
        else:
            @quick_init
            @dataclass(frozen=True, slots=True, kw_only=True)
            class D:
                a: int


def test_an_accounts_reported_figures_are_replace_spelled_out() -> None:
    account = entities.Account("A1", "K1", Decimal("500"), open=False,
                               marginable_value=Decimal("1"), loan_balance=Decimal("2"))
    assert [f.name for f in dataclasses.fields(entities.Account)] == [
        "account_id", "client_id", "credit_limit", "open", "marginable_value", "loan_balance",
    ]  # a new field must be carried by ``Account.reported`` too
    assert account.reported(Decimal("10.5"), Decimal("3")) == dataclasses.replace(
        account, marginable_value=Decimal("10.5"), loan_balance=Decimal("3"),
    )
