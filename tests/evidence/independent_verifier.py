"""A regulator's verifier, written from ops/VERIFYING.md alone: it imports nothing of
regledger. Usage: python independent_verifier.py DB_URL [DIGEST PUBLIC_KEY [PROOF]],
               or python independent_verifier.py --quarantine DB_URL (section 9),
               or python independent_verifier.py pack PACK.zip PUBLIC_KEY

An evidence pack is checked with nothing but the key the examiner trusts (not the one inside
the pack): the digest's signature, then for every events/N.json the chain hash recomputed
with that file's bytes as the stored state and its audit path up to the signed root."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.serialization import load_pem_public_key

QUERY = (
    "SELECT notification_id, originator_id, originator_version, topic, state, recorded_at,"
    " chain_hash FROM ledger_events ORDER BY notification_id, originator_id, originator_version"
)


def rows(url: str) -> list[tuple]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            found = conn.execute(QUERY).fetchall()
        return [(*r[:5], datetime.fromisoformat(r[5]), r[6]) for r in found]
    with psycopg.connect(url) as conn:
        return conn.execute(QUERY).fetchall()


def utc_text(moment: datetime) -> bytes:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


def framed(text: str) -> bytes:
    data = text.encode("utf-8")
    return str(len(data)).encode() + b":" + data + b"\n"


def chain_hash(n, originator_id, version, topic, state, recorded_at, previous) -> bytes:
    encoding = (
        b"regledger-chain-v1\n" + str(n).encode() + b"\n" + utc_text(recorded_at) + b"\n"
        + previous.hex().encode() + b"\n" + framed(originator_id) + str(version).encode() + b"\n"
        + framed(topic) + bytes(state)
    )
    return hashlib.sha256(encoding).digest()


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def check_chain(table: list[tuple]) -> tuple[int | None, list[bytes], list[datetime]]:
    """The first bad position (None when intact), the chain hashes and recorded_at in order."""
    previous, hashes, times = bytes(32), [], []
    for expected, (n, oid, version, topic, state, recorded_at, stored) in enumerate(table, 1):
        if n != expected or chain_hash(n, oid, version, topic, state, recorded_at, previous) != bytes(stored):
            return expected, hashes, times
        previous = bytes(stored)
        hashes.append(previous)
        times.append(recorded_at)
    return None, hashes, times


def digest_valid(digest: dict, public_pem: bytes) -> bool:
    key = load_pem_public_key(public_pem)
    raw = key.public_bytes_raw()
    if digest["key_id"] != hashlib.sha256(raw).hexdigest():
        return False
    message = "".join(
        line + "\n"
        for line in (
            "regledger-digest-v1",
            f"position={digest['position']}",
            f"merkle_root={digest['merkle_root']}",
            f"chain_hash={digest['chain_hash']}",
            f"recorded_at={digest['recorded_at']}",
            "chain_algorithm=regledger-chain-v1",
            "merkle_algorithm=rfc6962-sha256",
            "signature_algorithm=ed25519",
            f"key_id={digest['key_id']}",
        )
    ).encode()
    try:
        key.verify(bytes.fromhex(digest["signature"]), message)
    except Exception:
        return False
    return True


def holds(digest: dict, hashes: list[bytes], times: list[datetime]) -> bool:
    n = digest["position"]
    return (
        len(hashes) >= n
        and hashes[n - 1].hex() == digest["chain_hash"]
        and mth(hashes[:n]).hex() == digest["merkle_root"]
        and utc_text(times[n - 1]).decode() == digest["recorded_at"]
    )


def inclusion_holds(proof: dict, digest: dict) -> bool:
    """RFC 9162 section 2.1.3.2 over the recomputed chain hash of the proven row."""
    n, size = proof["position"], digest["position"]
    recorded_at = datetime.strptime(proof["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    leaf = chain_hash(n, proof["event_id"], proof["originator_version"], proof["topic"],
                      bytes.fromhex(proof["state_hex"]), recorded_at, bytes.fromhex(proof["previous_chain_hash"]))
    if leaf.hex() != proof["chain_hash"] or proof["tree_size"] != size or not 1 <= n <= size:
        return False
    fn, sn, r = n - 1, size - 1, hashlib.sha256(b"\x00" + leaf).digest()
    for p in (bytes.fromhex(x) for x in proof["audit_path"]):
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r.hex() == digest["merkle_root"]


QUARANTINE_QUERIES = {
    "quarantine": (b"regledger-quarantine-v1\n", "SELECT id, previous_id, chain_hash, received_at, origin, line_no,"
                   " event_id, reasons, raw FROM quarantine ORDER BY id"),
    "quarantine_links": (b"regledger-quarantine-link-v1\n", "SELECT id, previous_id, chain_hash, recorded_at,"
                         " quarantine_id, kind, event_id, related_id, actor, reason FROM quarantine_links ORDER BY id"),
}


def field(value) -> bytes:
    if value is None:
        return b"-\n"
    if isinstance(value, int):
        return str(value).encode() + b"\n"
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return str(len(data)).encode() + b":" + data + b"\n"


def first_bad_record(url: str, table: str) -> int | None:
    """The id of the first row whose previous_id or hash does not hold (section 9)."""
    tag, query = QUARANTINE_QUERIES[table]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            found = [(*r[:3], datetime.fromisoformat(r[3]), *r[4:]) for r in conn.execute(query).fetchall()]
    else:
        with psycopg.connect(url) as conn:
            found = conn.execute(query).fetchall()
    last_id, previous = 0, bytes(32)
    for record_id, previous_id, stored, moment, *fields in found:
        if previous_id != last_id:
            return previous_id if previous_id > last_id else last_id  # deleted / inserted before
        encoding = (tag + f"{record_id}\n{previous_id}\n".encode() + previous.hex().encode() + b"\n"
                    + utc_text(moment) + b"\n" + b"".join(field(v) for v in fields))
        if hashlib.sha256(encoding).digest() != bytes(stored):
            return record_id
        last_id, previous = record_id, bytes(stored)
    return None


def inclusion_of(proof: dict, state: bytes, digest: dict) -> bool:
    """The proof's row with ``state`` in place of the proof's own copy of it."""
    return inclusion_holds({**proof, "state_hex": state.hex()}, digest)


def check_pack(path: str, public_pem: bytes) -> dict:
    with zipfile.ZipFile(path) as pack:
        return check_pack_files({name: pack.read(name) for name in pack.namelist()}, public_pem)


def check_pack_files(files: dict[str, bytes], public_pem: bytes) -> dict:
    digest = json.loads(files["digest.json"])
    events = sorted(n for n in files if n.startswith("events/"))
    failed = []
    for name in events:
        proof = files.get("proofs/" + name.split("/", 1)[1])
        if proof is None or not inclusion_of(json.loads(proof), files[name], digest):
            failed.append(name)
    proven = set()
    for name in events:
        try:
            proven.add(json.loads(files[name])["event_id"])
        except (ValueError, KeyError, TypeError):
            failed.append(name) if name not in failed else None
    cited = {e["event_id"] for e in json.loads(files["explanation.json"])["evidence_events"]}
    return {
        "digest_valid": digest_valid(digest, public_pem),
        "events_hold": bool(events) and not failed,
        "failed": sorted(failed),
        "explanation_events_proven": bool(cited) and cited <= proven,
    }


def main(argv: list[str]) -> int:
    if argv[1] == "--quarantine":
        bad_rows = {table: first_bad_record(argv[2], table) for table in QUARANTINE_QUERIES}
        print(json.dumps(bad_rows))
        return 0 if set(bad_rows.values()) == {None} else 1
    if argv[1] == "pack":
        report = check_pack(argv[2], Path(argv[3]).read_bytes())
        print(json.dumps(report))
        return 0 if report["digest_valid"] and report["events_hold"] and report["explanation_events_proven"] else 1
    bad, hashes, times = check_chain(rows(argv[1]))
    report: dict = {"first_bad_position": bad, "root": mth(hashes).hex() if bad is None else None}
    if len(argv) >= 4:
        digest = json.loads(Path(argv[2]).read_bytes())
        public = Path(argv[3]).read_bytes()
        report["digest_valid"] = digest_valid(digest, public)
        report["digest_holds"] = bad is None and holds(digest, hashes, times)
        if len(argv) >= 5:
            report["proof_holds"] = inclusion_holds(json.loads(Path(argv[4]).read_bytes()), digest)
    print(json.dumps(report))
    return 0 if bad is None and all(v for k, v in report.items() if k.endswith(("valid", "holds"))) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
