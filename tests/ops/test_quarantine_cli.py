"""The officer's quarantine from the command line, on both stores: the same bad file ingested
twice lists one entry per line with a count of 2; ``show`` names every sighting and the entry
that caused it; entries are shown as Q-000017 and taken as that or 17; a dismissal names its
event on the ledger; a malformed entry is a clear usage error."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.test_cli_audit import ok
from tests.test_cli import regledger

BAD_FILE = (
    '{"event_id": "on-1", "type": "ClientOnboarded", "occurred_at": "2026-03-02T09:00:00+08:00",'
    ' "data": {"client_id": "C9", "client_type": "individual", "investor_class": "nobody",'
    ' "pi_assessment": null, "market_maker_id": null}}\n'
    '{"event_id": "rd-1", "type": "RiskDisclosureAcknowledged", "occurred_at": "2026-03-02T09:01:00+08:00",'
    ' "data": {"client_id": "C9", "product": "perpetuals", "version": "2026.1"}}\n'
)


def test_the_same_bad_file_twice_is_listed_once_with_counts_causes_and_prefixed_ids(store_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(BAD_FILE)
    for _ in range(2):
        assert regledger("ingest", str(bad), db=store_url).returncode == 1
    listed = json.loads(ok("quarantine", "list", "--format", "json", db=store_url))
    assert [(q["id"], q["line"], q["status"], q["count"], q["caused_by"]) for q in listed] == [
        ("Q-000001", 1, "open", 2, []), ("Q-000002", 2, "open", 2, ["Q-000001"]),
    ]
    table = ok("quarantine", "list", db=store_url)
    assert "Q-000002" in table and "count" in table and "caused_by" in table
    csv_lines = ok("quarantine", "list", "--format", "csv", db=store_url).splitlines()
    assert csv_lines[2].startswith("Q-000002,") and csv_lines[2].endswith(",open,2,Q-000001")
    shown = ok("quarantine", "show", "2", db=store_url)
    assert "quarantine entry Q-000002" in shown and "received 2 time(s):" in shown
    assert "caused by: Q-000001" in shown and "caused_by by ingest at " in shown
    assert json.loads(ok("quarantine", "show", "q-000002", "--format", "json", db=store_url))["sightings"][1]["line"] == 2
    done = ok("quarantine", "dismiss", "Q-000002", "--actor", "alice", "--reason", "C9 is a test client", db=store_url)
    assert done.startswith("quarantine entry Q-000002 dismissed by alice: C9 is a test client (ledger event ")
    assert json.loads(ok("verify", "--format", "json", db=store_url))["quarantine"]["intact"] is True
    [audited] = json.loads(ok("audit", "--subject", "Q-000002", "--format", "json", db=store_url))
    assert (audited["type"], audited["source"], audited["event_id"]) == (
        "QuarantineLineDismissed", "regledger-quarantine", f"quarantine:Q-000002:{audited['position']}",
    )
    assert (audited["data"]["actor"], audited["data"]["reason"]) == ("alice", "C9 is a test client")
    assert [e["type"] for e in json.loads(ok("audit", "--subject", "alice", "--format", "json", db=store_url))] == [
        "QuarantineLineDismissed",
    ]


def test_an_entry_that_is_no_entry_is_a_usage_error_naming_the_form(store_url: str) -> None:
    for entry in ("line-3", "Q-", "0"):
        refused = regledger("quarantine", "show", entry, db=store_url)
        assert refused.returncode == 2 and "expected an id like Q-000017 or 17" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_the_list_of_one_status_pages_over_that_status_only(store_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(f'{{"event_id": "x{n}"}}\n' for n in range(1, 6)))
    assert regledger("ingest", str(bad), db=store_url).returncode == 1
    for entry in ("2", "Q-000004"):
        ok("quarantine", "dismiss", entry, "--actor", "alice", "--reason", "noise", db=store_url)

    def ids(*args: str) -> list[str]:
        return [q["id"] for q in json.loads(ok("quarantine", "list", "--format", "json", *args, db=store_url))]

    assert ids("--status", "open") == ["Q-000001", "Q-000003", "Q-000005"]
    assert ids("--status", "open", "--limit", "1", "--offset", "1") == ["Q-000003"]
    assert ids("--status", "dismissed") == ["Q-000002", "Q-000004"]
    assert ids("--status", "resubmitted") == []
    assert ids() == [f"Q-00000{n}" for n in range(1, 6)]
    assert regledger("quarantine", "list", "--status", "closed", db=store_url).returncode == 2
