"""The evidence commands run as a user runs them: keys, digest, prove, verify-proof (offline,
no database) and verify, with their exit codes and never a traceback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import SCENARIOS
from tests.evidence.tamper import Dba

UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/none"


def regledger(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "ops", *args], capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, **(env or {})}, cwd=cwd,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_keys_are_written_private_0600_and_never_overwritten(tmp_path: Path) -> None:
    done = regledger("keys", "generate", "--out", str(tmp_path / "keys"))
    assert done.returncode == 0, done.stderr
    private = tmp_path / "keys" / "regledger-signing-key.pem"
    public = tmp_path / "keys" / "regledger-signing-key.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    again = regledger("keys", "generate", "--out", str(tmp_path / "keys"))
    assert (again.returncode, again.stderr) == (2, f"regledger: {private} exists: regledger never overwrites a key\n")


def test_a_digest_and_proof_made_here_verify_elsewhere_with_no_database(store_url: str, tmp_path: Path) -> None:
    assert regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", store_url).returncode == 0
    regledger("keys", "generate", "--out", str(tmp_path / "k"))
    key, public = tmp_path / "k" / "regledger-signing-key.pem", tmp_path / "k" / "regledger-signing-key.pub.pem"
    digest = regledger("digest", "--db", store_url, env={"REGLEDGER_SIGNING_KEY": str(key)})
    assert digest.returncode == 0, digest.stderr
    assert json.loads(digest.stdout)["position"] == 38
    elsewhere = tmp_path / "regulator"
    elsewhere.mkdir()
    (elsewhere / "digest.json").write_text(digest.stdout)
    (elsewhere / "key.pem").write_bytes(public.read_bytes())
    proved = regledger("prove", "mf-day-0036", "--digest", str(elsewhere / "digest.json"), "--db", store_url,
                       "--out", str(elsewhere / "proof.json"))
    assert proved.returncode == 0, proved.stderr
    offline = {"REGLEDGER_DATABASE_URL": UNREACHABLE_DB}
    checked = regledger("verify-proof", "proof.json", "--digest", "digest.json", "--public-key", "key.pem",
                        "--format", "json", env=offline, cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {
        "valid": True, "problems": [],
        "claim": "event mf-day-0036 is at position 36 of the ledger digested at position 38",
    }
    proof = json.loads((elsewhere / "proof.json").read_text())
    proof["state_hex"] = proof["state_hex"].replace("302e35", "302e36")  # haircut "0.5" -> "0.6"
    (elsewhere / "forged.json").write_text(json.dumps(proof, indent=2))
    forged = regledger("verify-proof", "forged.json", "--digest", "digest.json", "--public-key", "key.pem", env=offline, cwd=elsewhere)
    assert (forged.returncode, forged.stdout) == (1, (
        "proof INVALID: the row's fields do not hash to its chain hash; the audit path does not"
        " lead from the row to the digest's Merkle root\n"
    ))
    (elsewhere / "junk.json").write_text("{}")
    junk = regledger("verify-proof", "junk.json", "--digest", "digest.json", "--public-key", "key.pem", env=offline, cwd=elsewhere)
    assert (junk.returncode, junk.stderr) == (2, "regledger: proof junk.json: not a proof regledger writes\n")


def test_verify_exits_0_when_intact_and_1_naming_the_first_bad_position(store_url: str, tmp_path: Path) -> None:
    assert regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", store_url).returncode == 0
    regledger("keys", "generate", "--out", str(tmp_path / "k"))
    digest = regledger("digest", "--db", store_url, "--key", str(tmp_path / "k" / "regledger-signing-key.pem"),
                       "--out", str(tmp_path / "d.json"))
    assert digest.returncode == 0, digest.stderr
    signed = ("--digest", str(tmp_path / "d.json"), "--public-key", str(tmp_path / "k" / "regledger-signing-key.pub.pem"))
    intact = regledger("verify", "--db", store_url, *signed, "--projections")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.startswith("chain intact: positions 1..38 recompute")
    Dba(store_url).run(("DELETE FROM ledger_events WHERE notification_id > 30", ()))
    chain_only = regledger("verify", "--db", store_url, "--format", "json")
    assert (chain_only.returncode, json.loads(chain_only.stdout)["intact"]) == (0, True)
    truncated = regledger("verify", "--db", store_url, *signed)
    assert (truncated.returncode, truncated.stdout.splitlines()[0]) == (1, (
        "TAMPERED: first bad position 31: truncated: the log ends at position 30, below the"
        " digest's position 38"
    ))


def test_digest_without_a_key_and_verify_with_half_a_digest_are_one_line_exit_2(sqlite_url: str) -> None:
    regledger("ingest", str(SCENARIOS / "mm-day.jsonl"), "--db", sqlite_url)
    no_key = regledger("digest", "--db", sqlite_url, env={"REGLEDGER_SIGNING_KEY": ""})
    assert (no_key.returncode, no_key.stderr) == (2, (
        "regledger: no signing key: pass --key FILE or set REGLEDGER_SIGNING_KEY (make one with"
        " `regledger keys generate --out DIR`)\n"
    ))
    half = regledger("verify", "--db", sqlite_url, "--digest", "d.json")
    assert (half.returncode, half.stderr) == (2, "regledger: --digest and --public-key go together\n")


def test_verify_projections_reports_drift_of_the_live_findings(store_url: str) -> None:
    assert regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", store_url).returncode == 0
    Dba(store_url).run(("UPDATE findings SET message = 'nothing to see' WHERE rule_id = 'MF-05'", ()))
    drifted = regledger("verify", "--projections", "--db", store_url)
    assert drifted.returncode == 1
    assert drifted.stdout.splitlines()[1].startswith("PROJECTION DRIFT in monitor: findings row finding_id=F-")
    assert 'stored {"message": "nothing to see"}, rebuilt {"message": "Pledge P4 of ETH was taken at' in drifted.stdout


def test_verify_refuses_a_digest_signed_with_another_key(sqlite_url: str, tmp_path: Path) -> None:
    regledger("ingest", str(SCENARIOS / "mm-day.jsonl"), "--db", sqlite_url)
    for name in ("a", "b"):
        regledger("keys", "generate", "--out", str(tmp_path / name))
    regledger("digest", "--db", sqlite_url, "--key", str(tmp_path / "a" / "regledger-signing-key.pem"), "--out", str(tmp_path / "d.json"))
    wrong = regledger("verify", "--db", sqlite_url, "--digest", str(tmp_path / "d.json"),
                      "--public-key", str(tmp_path / "b" / "regledger-signing-key.pub.pem"))
    assert (wrong.returncode, wrong.stdout) == (1, f"NOT VERIFIED: the digest {tmp_path / 'd.json'} is not signed by this public key\n")
