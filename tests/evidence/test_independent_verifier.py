"""A verifier written only from ops/VERIFYING.md (``independent_verifier.py``, which imports
nothing of regledger) agrees with every stored hash, the Merkle root, a signed digest and an
inclusion proof, on both stores, whatever the rows' topics; and sees the same tampering."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from domain.evidence.digest import digest_json, public_key_pem, sign
from domain.evidence.proofs import inclusion_json
from projections.evidence.attest import checkpoint_at, inclusion_proof, verify_log
from projections.store.base import Store
from tests.evidence.tamper import Dba, fill

SCRIPT = Path(__file__).with_name("independent_verifier.py")
THIRD_PARTY = {"psycopg", "cryptography"}


def run_script(*args: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.stderr == ""
    return done.returncode, json.loads(done.stdout)


def test_the_independent_verifier_imports_nothing_of_regledger() -> None:
    tree = ast.parse(SCRIPT.read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == THIRD_PARTY


def test_it_agrees_with_the_stored_chain_root_digest_and_proof(store: Store, store_url: str, tmp_path: Path) -> None:
    accepted = fill(store, "mf-day")
    store.recorder.insert_events([StoredEvent("case-1", 1, "domain.cases:Case.Opened", b'{"x": "\xc3\xa9"}')])
    accepted += 1 + fill(store, "mm-day")
    key = Ed25519PrivateKey.generate()
    checkpoint = checkpoint_at(store)
    assert checkpoint.position == accepted
    (tmp_path / "digest.json").write_text(digest_json(sign(checkpoint, key)))
    (tmp_path / "key.pem").write_bytes(public_key_pem(key.public_key()))
    (tmp_path / "proof.json").write_text(inclusion_json(inclusion_proof(store, "mf-day-0015", checkpoint)))
    files = [str(tmp_path / name) for name in ("digest.json", "key.pem", "proof.json")]
    assert run_script(store_url, *files) == (0, {
        "first_bad_position": None, "root": checkpoint.merkle_root.hex(),
        "digest_valid": True, "digest_holds": True, "proof_holds": True,
    })
    Dba(store_url).run(("UPDATE ledger_events SET state = ? WHERE notification_id = 39", (b'{"x": 1}',)))
    broken = verify_log(store).broken
    assert broken is not None and broken.position == 39
    assert run_script(store_url) == (1, {"first_bad_position": 39, "root": None})


def test_it_agrees_with_the_quarantines_chains_and_names_the_same_deleted_row(store: Store, store_url: str) -> None:
    from datetime import UTC, datetime

    from domain.ledger import InputLine, Ledger
    from policies.registry import parameter_catalogue
    from projections.quarantine import dismiss, verify_quarantine

    at = datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC)
    ledger = Ledger(store, parameter_catalogue(), clock=lambda: at)
    lines = [b"{not json \xff", '{"event_id": "\u00e9-1"}'.encode(), b'{"event_id": "x3"}']
    ledger.ingest(iter([InputLine("feed", n, raw) for n, raw in enumerate(lines, 1)] + [InputLine("http", None, b"[]")]))
    dismiss(store, 1, actor="alice", reason="caf\u00e9 noise", at=at)
    dismiss(store, 4, actor="bob", reason="empty", at=at)
    assert verify_quarantine(store).intact
    assert run_script("--quarantine", store_url) == (0, {"quarantine": None, "quarantine_links": None})
    Dba(store_url).run(("DELETE FROM quarantine WHERE id = 2", ()), ("UPDATE quarantine_links SET reason = 'x' WHERE id = 2", ()))
    broken = verify_quarantine(store).broken
    assert broken is not None and (broken.table, broken.id) == ("quarantine", 2)
    assert run_script("--quarantine", store_url) == (1, {"quarantine": 2, "quarantine_links": 2})
