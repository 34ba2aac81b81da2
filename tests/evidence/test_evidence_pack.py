"""An evidence pack, as an examiner receives it: checked offline by the verifier written from
ops/VERIFYING.md alone, with the key the examiner trusts; any byte of any event changed, a
proof missing or another key's signature makes it fail."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import NotFound
from domain.evidence.digest import public_key_pem
from ops.evidence_pack import evidence_pack
from projections.store.base import FindingFilter, Store
from tests.audit.helpers import ingest, lines_of
from tests.evidence import independent_verifier as verifier
from tests.evidence.test_evidence_cli import regledger

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TRUSTED = public_key_pem(KEY.public_key())


def pack_files(store: Store, rule_id: str = "MF-07") -> tuple[str, dict[str, bytes]]:
    [finding] = store.findings(FindingFilter(rule_ids=(rule_id,)))
    with zipfile.ZipFile(io.BytesIO(evidence_pack(store, finding.finding_id, KEY))) as pack:
        return finding.finding_id, {name: pack.read(name) for name in pack.namelist()}


def test_a_pack_holds_the_finding_its_explanations_events_proofs_digest_key_and_readme(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding_id, files = pack_files(store)
    events = sorted(n for n in files if n.startswith("events/"))
    assert {"finding.json", "explanation.json", "explanation.html", "explanation.txt", "digest.json",
            "public_key.pem", "manifest.json", "README.txt", "VERIFYING.md"} <= set(files)
    assert len(events) == 8 and {n.replace("events/", "proofs/") for n in events} <= set(files)
    assert json.loads(files["finding.json"])["finding_id"] == finding_id
    assert b"short by HKD 1,500,000.00 - HKD 1,480,000.00 = HKD 20,000.00" in files["explanation.html"]
    assert b"regledger verify-proof proofs/POSITION.json" in files["README.txt"]
    manifest = json.loads(files["manifest.json"])
    assert [e["event_id"] for e in manifest["events"]] == [f"mf-day-{n:04d}" for n in (10, 11, 12, 13, 14, 15, 16, 18)]
    assert verifier.check_pack_files(files, TRUSTED) == {
        "digest_valid": True, "events_hold": True, "failed": [], "explanation_events_proven": True,
    }


def test_any_byte_of_any_event_changed_makes_the_independent_verifier_fail(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    _, files = pack_files(store)
    tried = 0
    for name in sorted(n for n in files if n.startswith("events/")):
        original = files[name]
        for offset in range(len(original)):
            changed = bytearray(original)
            changed[offset] ^= 0x01  # the smallest change: one bit of one byte
            report = verifier.check_pack_files({**files, name: bytes(changed)}, TRUSTED)
            assert not report["events_hold"] and name in report["failed"], (name, offset)
            tried += 1
    assert tried > 1_000  # every byte of the 8 events


def test_a_missing_proof_or_another_keys_signature_fails(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    _, files = pack_files(store)
    some = sorted(n for n in files if n.startswith("proofs/"))[0]
    without = {n: b for n, b in files.items() if n != some}
    assert verifier.check_pack_files(without, TRUSTED)["failed"] == [some.replace("proofs/", "events/")]
    other = public_key_pem(Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key())
    assert verifier.check_pack_files(files, other)["digest_valid"] is False  # a forger's pack, its own key inside


def test_a_finding_that_does_not_exist_has_no_pack(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    with pytest.raises(NotFound):
        evidence_pack(store, "F-nope", KEY)


def test_the_cli_writes_a_pack_the_verifier_script_accepts_and_refuses_without_a_key(store_url: str, tmp_path: Path) -> None:
    assert regledger("ingest", str(Path(verifier.__file__).parents[1] / "fixtures/scenarios/mf-day.jsonl"),
                     "--db", store_url).returncode == 0
    found = json.loads(regledger("findings", "--rule", "MF-07", "--format", "json", "--db", store_url).stdout)
    finding_id = found[0]["finding_id"]
    no_key = regledger("evidence", finding_id, "--out", str(tmp_path / "p.zip"), "--db", store_url,
                       env={"REGLEDGER_SIGNING_KEY": ""})
    assert no_key.returncode == 2 and "no signing key: pass --key FILE or set REGLEDGER_SIGNING_KEY" in no_key.stderr
    assert not (tmp_path / "p.zip").exists()
    assert regledger("keys", "generate", "--out", str(tmp_path / "k")).returncode == 0
    done = regledger("evidence", finding_id, "--out", str(tmp_path / "p.zip"), "--db", store_url,
                     env={"REGLEDGER_SIGNING_KEY": str(tmp_path / "k" / "regledger-signing-key.pem")})
    assert done.returncode == 0, done.stderr
    public = str(tmp_path / "k" / "regledger-signing-key.pub.pem")
    assert verifier.main(["v", "pack", str(tmp_path / "p.zip"), public]) == 0
    with zipfile.ZipFile(tmp_path / "p.zip") as pack:
        pack.extractall(tmp_path / "x")
    x = tmp_path / "x"
    [first, second] = sorted(p.name for p in (x / "events").iterdir())[:2]
    ok = regledger("verify-proof", f"proofs/{first}", "--digest", "digest.json", "--public-key", public,
                   "--event", f"events/{first}", cwd=x)
    assert ok.returncode == 0 and ok.stdout.startswith("proof valid"), ok.stdout
    swapped = regledger("verify-proof", f"proofs/{first}", "--digest", "digest.json", "--public-key", public,
                        "--event", f"events/{second}", cwd=x)
    assert swapped.returncode == 1 and "is not byte for byte the proven row" in swapped.stdout


def test_proofs_made_in_one_pass_are_the_proofs_made_one_by_one(store: Store) -> None:
    from projections.evidence.attest import checkpoint_at, inclusion_proof, inclusion_proofs

    ingest(store, lines_of("mf-day"))
    checkpoint = checkpoint_at(store)
    ids = [f"mf-day-{n:04d}" for n in (1, 2, 17, 18, 31, 38)]  # both edges of the tree and between
    assert inclusion_proofs(store, [(i, 1) for i in ids], checkpoint) == [inclusion_proof(store, i, checkpoint) for i in ids]
