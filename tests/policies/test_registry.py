"""The registry is the rulebook: every ``### XX-NN`` heading of rulebook.md, once, with its
severity, title and parameters; every rule module declares what STYLE.md asks."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from policies.registry import RULES, RULES_BY_ID, default_parameters, parameter_catalogue

ROOT = Path(__file__).resolve().parents[2]
RULEBOOK = ROOT / "tests" / "fixtures" / "spec" / "rulebook.md"  # the project's copy of the contract
HEADING = re.compile(r"^### ([A-Z]+-\d\d) (.+) — (critical|high|medium|low)$", re.MULTILINE)


def rulebook() -> str:
    return RULEBOOK.read_text(encoding="utf-8")


def sections() -> dict[str, tuple[str, str, str]]:
    """rule id -> (title, severity, the text of its section)."""
    text = rulebook()
    heads = list(HEADING.finditer(text))
    found = {}
    for head, after in zip(heads, [*heads[1:], None], strict=True):
        end = after.start() if after else text.index("## Readings")
        found[head[1]] = (head[2], head[3], text[head.end():end])
    return found


def test_the_registry_holds_exactly_the_rulebooks_rules_once_each_with_their_severity() -> None:
    book = sections()
    assert [r.rule_id for r in RULES] == list(book)
    assert {r.rule_id: r.severity for r in RULES} == {k: v[1] for k, v in book.items()}
    assert {r.rule_id: r.title for r in RULES} == {k: v[0] for k, v in book.items()}


def test_every_declared_parameter_and_its_default_is_in_the_rule_text() -> None:
    book = sections()
    for rule in RULES:
        text = book[rule.rule_id][2]
        for parameter in rule.parameters:
            default = parameter.default
            shown = json.dumps(list(default)) if isinstance(default, tuple) else str(default)
            declared = rf"`{parameter.name}` (\(default `)?{re.escape(shown)}"
            assert re.search(declared, text), f"{rule.rule_id} {parameter.name} default {shown}"


def test_parameter_names_are_unique_across_the_rulebook() -> None:
    names = [name for _, name in default_parameters()]
    assert len(names) == len(set(names))
    assert sum(len(p) for p in parameter_catalogue().values()) == len(names)


def test_rules_borrow_only_declared_parameters() -> None:
    for rule in RULES:
        for rule_id, name in rule.uses:
            assert name in parameter_catalogue()[rule_id], rule.rule_id


@pytest.mark.parametrize("rule_id", list(RULES_BY_ID))
def test_each_rule_module_declares_its_metadata_and_obligation(rule_id: str) -> None:
    module = importlib.import_module(_module_of(rule_id))
    assert module.RULE is RULES_BY_ID[rule_id]
    declared = {name: getattr(module, name.upper()) for name in
                ("rule_id", "title", "severity", "citation", "parameters")}
    assert declared == {name: getattr(module.RULE, name) for name in declared}
    assert module.__doc__ and module.__doc__.startswith(f"{module.RULE_ID} {module.TITLE}.")
    assert module.RULE.triggers or module.RULE.status_watch


def _module_of(rule_id: str) -> str:
    prefix = rule_id.lower().replace("-", "_") + "_"
    for package in ("professional_investors", "margin_financing", "perpetuals", "market_making"):
        for path in (ROOT / "policies" / package).glob(f"{prefix}*.py"):
            return f"policies.{package}.{path.stem}"
    raise AssertionError(f"no module for {rule_id}")
