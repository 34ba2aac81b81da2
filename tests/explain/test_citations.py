"""Citations are data counsel corrects without code, checked whole at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.errors import CitationsInvalid
from policies.registry import RULES
from projections.explain import citations
from projections.explain.citations import Citation, packaged, parse, plain_obligation


def test_the_packaged_file_cites_every_rule_once_and_never_an_unknown_paragraph() -> None:
    loaded = parse(packaged(), "packaged")
    assert list(loaded) == [rule.rule_id for rule in RULES]
    assert loaded["MF-06"].text() == "SFC circular 26EC5 (11 Feb 2026), VA margin financing, paragraphs 4(b), 7(b), 10"
    assert loaded["PERP-03"].paragraphs == ()  # the rulebook says "not known"
    assert loaded["PERP-03"].text().endswith("(paragraph not known)")


def test_a_section_heading_is_cited_where_the_paragraph_is_not_known() -> None:
    assert Citation("Doc", (), "Margin", "").text() == "Doc, section \u201cMargin\u201d (paragraph not known)"
    assert Citation("Doc", ("7(a)",), "", "").text() == "Doc, paragraph 7(a)"


@pytest.mark.parametrize(("edit", "reason"), [
    (lambda t: t.replace("[MF-06]", "[MF-66]"), "MF-66: no such rule in the rulebook"),
    (lambda t: t.replace('paragraphs = ["10(c)"]', 'paragraph = ["10(c)"]'), "[MF-10]: unknown key 'paragraph'"),
    (lambda t: t.replace('paragraphs = ["10(c)"]', 'paragraphs = "10(c)"'), "[MF-10]: paragraphs: a list"),
    (lambda t: t.replace('paragraphs = ["10(c)"]', 'paragraphs = [""]'), "[MF-10]: paragraphs: a list"),
    (lambda t: t.replace("[MF-10]\ndocument", "[MF-10]\nxdocument", 1), "[MF-10]: unknown key 'xdocument'"),
    (lambda t: t + "\n[", "not TOML"),
])
def test_a_bad_citations_file_is_refused_naming_the_rule_and_the_field(
    tmp_path: Path, edit: object, reason: str,
) -> None:
    text = edit(packaged().decode())  # type: ignore[operator]  # the parametrised edit
    path = tmp_path / "citations.toml"
    path.write_text(text)
    with pytest.raises(CitationsInvalid, match=re.escape(reason)):
        citations.install(str(path))
    citations.install()


def test_a_missing_rule_is_named(tmp_path: Path) -> None:
    text = packaged().decode()
    start = text.index("[MM-04]")
    path = tmp_path / "c.toml"
    path.write_text(text[:start])
    with pytest.raises(CitationsInvalid, match="no citation for MM-04"):
        citations.install(str(path))
    citations.install()


def test_a_corrected_file_changes_the_citation_without_code(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(packaged().decode().replace('paragraphs = ["10(c)"]', 'paragraphs = ["10(d)"]'))
    try:
        assert citations.install(str(path))["MF-10"].text().endswith("paragraph 10(d)")
        assert citations.citation("MF-10").paragraphs == ("10(d)",)
    finally:
        citations.install()


def test_rule_texts_lose_their_internal_reading_numbers_and_code_quotes() -> None:
    text = "A liquidation does not stop the clock (reading 11). Within ``liquidation_within_minutes``."
    assert plain_obligation(text) == "A liquidation does not stop the clock. Within liquidation_within_minutes."
    for rule in RULES:
        shown = plain_obligation(rule.obligation)
        assert "reading" not in shown and "`" not in shown, rule.rule_id


def test_regledger_refuses_to_start_on_a_bad_citations_file_naming_it(tmp_path: Path) -> None:
    from tests.evidence.test_evidence_cli import regledger

    bad = tmp_path / "citations.toml"
    bad.write_text(packaged().decode().replace("[MF-06]", "[MF-6]"))
    done = regledger("rules", "--db", f"sqlite:///{tmp_path}/r.db", env={"REGLEDGER_CITATIONS": str(bad)})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"regledger: citations file {bad}: MF-6: no such rule in the rulebook\n"
    from tests.conftest import SCENARIOS

    assert regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", f"sqlite:///{tmp_path}/r.db").returncode == 0
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(packaged().decode().replace('paragraphs = ["10(c)"]', 'paragraphs = ["10(c)", "11"]'))
    shown = regledger("rules", "--db", f"sqlite:///{tmp_path}/r.db", env={"REGLEDGER_CITATIONS": str(fixed)})
    assert "Source: SFC circular 26EC5 (11 Feb 2026), VA margin financing, paragraphs 10(c), 11" in shown.stdout
