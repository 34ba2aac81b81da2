"""The quarantine an officer manages (issue 18): the same bad line received again is one entry
with a count and its sightings; a line refused for an entity whose creating line was refused
is linked to that line (``caused_by``); a dismissal is an event on the ledger, committed with
its link; entries are named ``Q-000017``. On both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidRequest, NotFound
from domain.ledger import InputLine, Ledger, is_catalogue_topic
from domain.quarantine import entry_label, parse_entry
from domain.quarantine_decisions import DISMISSED_TOPIC, decision_id, decode_dismissal
from policies.registry import parameter_catalogue
from projections.quarantine import dismiss, quarantined_line, verify_quarantine
from projections.store.base import Store

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BAD_ONBOARDING = (b'{"event_id": "on-1", "type": "ClientOnboarded", "occurred_at": "2026-03-02T09:00:00+08:00",'
                  b' "data": {"client_id": "C9", "client_type": "individual", "investor_class": "nobody",'
                  b' "pi_assessment": null, "market_maker_id": null}}')
DISCLOSURE = (b'{"event_id": "rd-1", "type": "RiskDisclosureAcknowledged", "occurred_at": "2026-03-02T09:01:00+08:00",'
              b' "data": {"client_id": "C9", "product": "perpetuals", "version": "2026.1"}}')
OTHER_CLIENT = DISCLOSURE.replace(b"rd-1", b"rd-2").replace(b"C9", b"C8")
GARBAGE = (b"{not json", b'{"event_id": "x2"}')


def ingest(store: Store, *raws: bytes, at: datetime = T0, origin: str = "feed.jsonl") -> int:
    ledger = Ledger(store, parameter_catalogue(), clock=lambda: at)
    return ledger.ingest(iter([InputLine(origin, n, raw) for n, raw in enumerate(raws, 1)])).rejected


# --- the same bad line, received again ---------------------------------------------------------
def test_the_same_bad_file_ingested_twice_is_one_entry_per_line_with_a_count_of_two(store: Store) -> None:
    assert ingest(store, *GARBAGE, origin="monday.jsonl") == 2
    assert ingest(store, *GARBAGE, at=T0 + timedelta(hours=1), origin="tuesday.jsonl") == 2
    listed = store.quarantined(10, 0)
    assert [(q["id"], q["status"], q["count"]) for q in listed] == [(1, "open", 2), (2, "open", 2)]
    assert listed[1]["sightings"] == [
        {"origin": "monday.jsonl", "line": 2, "received_at": T0.isoformat()},
        {"origin": "tuesday.jsonl", "line": 2, "received_at": (T0 + timedelta(hours=1)).isoformat()},
    ]
    checked = verify_quarantine(store)
    assert (checked.intact, checked.rows, checked.links) == (True, 2, 2)


def test_a_line_repeated_within_one_file_is_one_entry_and_a_different_line_is_another(store: Store) -> None:
    assert ingest(store, GARBAGE[0], GARBAGE[0], GARBAGE[0] + b" ", GARBAGE[0]) == 4
    assert [(q["raw"], q["count"]) for q in store.quarantined(10, 0)] == [(GARBAGE[0], 3), (GARBAGE[0] + b" ", 1)]


def test_a_sighting_leaves_a_dismissed_entry_dismissed_and_counts_it(store: Store) -> None:
    ingest(store, GARBAGE[0])
    dismiss(store, 1, actor="alice", reason="test noise", at=T0)
    ingest(store, GARBAGE[0], at=T0 + timedelta(minutes=5))
    [entry] = store.quarantined(10, 0)
    assert (entry["status"], entry["count"]) == ("dismissed", 2)


# --- consequences linked to their cause ----------------------------------------------------------
def test_a_line_refused_for_a_client_whose_onboarding_was_refused_is_caused_by_that_entry(store: Store) -> None:
    assert ingest(store, BAD_ONBOARDING, DISCLOSURE, OTHER_CLIENT) == 3
    shown = quarantined_line(store, 2)
    assert shown is not None and shown["caused_by"] == [1]
    [link] = [k for k in shown["links"] if k["kind"] == "caused_by"]
    assert (link["related_id"], link["reason"], link["actor"]) == (1, "unknown client 'C9'", "ingest")
    assert quarantined_line(store, 3)["caused_by"] == []  # type: ignore[index]  # C8 was never onboarded
    assert quarantined_line(store, 1)["caused_by"] == []  # type: ignore[index]


def test_a_cause_in_an_earlier_ingest_is_found_and_a_later_one_is_not(store: Store) -> None:
    ingest(store, DISCLOSURE)  # before any onboarding was refused: no cause yet
    ingest(store, BAD_ONBOARDING, at=T0 + timedelta(minutes=1))
    ingest(store, DISCLOSURE.replace(b"rd-1", b"rd-3"), at=T0 + timedelta(minutes=2))
    assert [q["caused_by"] for q in store.quarantined(10, 0)] == [[], [], [2]]
    assert verify_quarantine(store).intact


# --- a dismissal is an event on the ledger ---------------------------------------------------------
def test_a_dismissal_is_one_ledger_event_named_by_its_link_and_skipped_by_catalogue_readers(store: Store) -> None:
    ingest(store, *GARBAGE)
    link = dismiss(store, 2, actor="alice", reason="a truncated test line", at=T0)
    [entry] = store.read_entries(0, 10)
    assert (entry.type, entry.event_id, entry.version) == (DISMISSED_TOPIC, str(decision_id(2)), 1)
    assert link.event_id == str(decision_id(2)) and not is_catalogue_topic(entry.type)
    fields = decode_dismissal(entry.state)
    assert {k: fields[k] for k in ("quarantine_id", "entry", "actor", "reason")} == {
        "quarantine_id": 2, "entry": "Q-000002", "actor": "alice", "reason": "a truncated test line",
    }
    row_hash = fields["row_hash"]
    assert isinstance(row_hash, str) and len(row_hash) == 64
    with pytest.raises(InvalidRequest, match="already dismissed by alice"):
        dismiss(store, 2, actor="bob", reason="again", at=T0)
    with pytest.raises(NotFound, match="Q-000009"):
        dismiss(store, 9, actor="bob", reason="x", at=T0)
    assert store.tip().position == 1  # neither refusal left an event behind


def test_a_dismissal_refused_in_its_transaction_leaves_neither_the_event_nor_a_link(store: Store) -> None:
    from domain.quarantine_decisions import QuarantineDecisions
    from projections.quarantine import settle
    from projections.quarantine_recorders import decision_recorder

    ingest(store, GARBAGE[0])
    settle(store, 1, "resubmitted", actor="bob", at=T0, event_id="e1")  # settled after the caller looked
    with pytest.raises(InvalidRequest, match="already resubmitted"):
        QuarantineDecisions(decision_recorder(store)).dismiss(1, b"\0" * 32, "alice", "late", T0)
    assert store.tip().position == 0 and verify_quarantine(store).links == 1


# --- entry ids ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [("Q-000017", 17), ("q-17", 17), ("17", 17), (" Q-1 ", 1)])
def test_an_entry_is_taken_as_shown_or_by_its_number(text: str, expected: int) -> None:
    assert parse_entry(text) == expected


@pytest.mark.parametrize("text", ["", "Q-", "Q-0", "0", "-3", "Q17", "1.5", "Q-12a", "١٧", "9" * 19])
def test_an_entry_that_names_no_row_is_refused_with_its_form(text: str) -> None:
    with pytest.raises(InvalidRequest, match="Q-000017 or 17"):
        parse_entry(text)


def test_an_entry_is_shown_with_its_prefix_and_six_digits_at_least() -> None:
    assert [entry_label(i) for i in (1, 17, 999_999, 1_000_000)] == ["Q-000001", "Q-000017", "Q-999999", "Q-1000000"]
    assert json.dumps(entry_label(1)) == '"Q-000001"'


def test_verify_names_a_dismissal_whose_link_or_ledger_event_is_missing_or_differs(store: Store, store_url: str) -> None:
    from tests.evidence.tamper import Dba

    ingest(store, *GARBAGE)
    dismiss(store, 1, actor="alice", reason="noise", at=T0)
    dismiss(store, 2, actor="alice", reason="noise too", at=T0)
    assert verify_quarantine(store).intact
    dba = Dba(store_url)
    dba.run(("UPDATE quarantine_links SET reason = 'edited' WHERE id = 2", ()))
    broken = verify_quarantine(store).broken
    assert broken is not None and (broken.id, broken.reason) == (2, "the stored chain hash does not match the one"
                                                                     " recomputed from the row's fields and the"
                                                                     " previous hash: the row was edited, or replaced")
    dba.run(("DELETE FROM quarantine_links WHERE id = 2", ()))  # the last link: its chain cannot tell
    broken = verify_quarantine(store).broken
    assert broken is not None and str(broken) == (
        "quarantine row 2: dismissed by an event on the ledger whose dismissed link is not there (deleted)"
    )


def test_the_monitor_the_audit_index_and_the_projection_check_pass_over_a_dismissal(store: Store) -> None:
    from ops.wiring import build_audit_index, build_monitor
    from projections.evidence.drift import check_projections
    from projections.rebuild.models import replace_read_models
    from tests.ledger.test_export_import import SCENARIOS

    lines = (SCENARIOS / "mf-day.jsonl").read_bytes().splitlines()
    ingest(store, lines[0], GARBAGE[0])
    dismiss(store, 1, actor="alice", reason="noise", at=T0)
    ingest(store, *lines[1:5], at=T0 + timedelta(minutes=1))  # the ledger goes on after the dismissal
    assert store.tip().position == 6
    build_monitor(store).catch_up()
    assert store.tracked_position() == 6
    build_audit_index(store).catch_up()
    replace_read_models(store)
    assert check_projections(store).intact


def test_the_nightly_report_names_quarantine_entries_as_shown_elsewhere(store: Store) -> None:
    from datetime import date

    from projections.nightly.report import build

    ingest(store, *GARBAGE)
    lines = build(store, date(2026, 3, 2))["quarantine"]["lines"]
    assert [(q["id"], q["line"]) for q in lines] == [("Q-000001", 1), ("Q-000002", 2)]
