"""An evidence pack: everything an examiner needs to check one finding offline, without
trusting the firm's systems: the finding, its explanation (HTML and JSON), the events behind
it byte for byte as the ledger stores them, a signed digest of the ledger, an inclusion proof
of each event against that digest, the public key, and a README on checking it.

The digest is of the ledger's tip when the pack is made, after the whole hash chain has been
checked (``checkpoint_at``): a pack is never signed over a broken chain. The zip's bytes
depend only on the ledger and the key (entries in a fixed order, dated by the digest's
``recorded_at``, never by the wall clock).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.evidence.digest import digest_json, public_key_pem, sign
from domain.evidence.proofs import inclusion_json
from ops.queries import explanation
from projections.evidence.attest import checkpoint_at, inclusion_proofs
from projections.explain.plain import as_text, money, plain, when
from projections.store.base import Store

PACK_FORMAT = "regledger-evidence-pack-v1"
TEMPLATES = Path(__file__).parent / "api" / "templates"
_html = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
_html.globals.update(money=money, when=when)

README = """\
Evidence pack for finding {finding_id} ({rule_id}, {severity})
{rule_line}

Made from the ledger of the firm at position {position} (recorded {recorded_at}).

What is here
  explanation.html / explanation.txt  the finding explained in plain words: what the rule requires,
                                      what happened, the arithmetic, the parameters in force
  explanation.json                    the same with every figure exact and the state it judged
  finding.json                        the finding as recorded
  events/POSITION.json                each event behind the finding, byte for byte as the ledger stores it
  proofs/POSITION.json                an inclusion proof of that event in the signed digest
  digest.json                         the firm's signed digest of its ledger (positions 1 to {position})
  public_key.pem                      the public key the digest is signed with (key id {key_id})
  manifest.json                       which event is at which position, and the SHA-256 of every file

How to check it, offline
  0. Make sure public_key.pem is the firm's key: its key id ({key_id}) must be the one the firm
     registered with you, received by a channel other than this pack. A pack checks out against the
     key inside it whoever made it: the key is what ties it to the firm.
  1. For each file in events/, with regledger installed (no database is needed):
       regledger verify-proof proofs/POSITION.json --digest digest.json --public-key public_key.pem --event events/POSITION.json
     It says "proof valid" only when the digest's signature verifies, the proof leads from the event's
     exact bytes to the digest's Merkle root, and the event file is byte for byte the proven row.
  2. Without regledger: VERIFYING.md (in this pack, a copy of regledger's ops/VERIFYING.md)
     defines every encoding. Check the digest's Ed25519 signature (section 4),
     recompute each event's chain hash from proofs/POSITION.json with the event file's bytes as
     `state` (section 2), and its audit path up to merkle_root (section 3, RFC 9162 2.1.3.2).
  3. Compare explanation.json's evidence_events with the event files: each names an event_id and
     position that is in manifest.json. The figures of the explanation can be recomputed from those
     events with the rulebook's definitions.

Any byte of any event changed, or a proof, the digest or the key swapped, makes step 1 or 2 fail.
Keep digest.json: a later digest of the firm can be checked to extend it (`regledger prove --since`).
"""


def evidence_pack(store: Store, finding_id: str, private_key: Ed25519PrivateKey) -> bytes:
    x = explanation(store, finding_id)
    explained = plain(x)
    checkpoint = checkpoint_at(store)  # verifies the whole chain first
    digest = sign(checkpoint, private_key)
    digest_text = digest_json(digest)
    files: dict[str, bytes] = {}
    events: list[dict[str, Any]] = []
    proofs = inclusion_proofs(store, [(e["event_id"], 1) for e in x["evidence_events"]], checkpoint)
    for e, proof in zip(x["evidence_events"], proofs, strict=True):
        name = f"{proof.position:08d}.json"
        files[f"events/{name}"] = proof.state
        files[f"proofs/{name}"] = inclusion_json(proof).encode()
        events.append({"position": proof.position, "event_id": e["event_id"], "type": e["type"],
                       "event": f"events/{name}", "proof": f"proofs/{name}"})
    files["finding.json"] = _json(x["finding"])
    files["explanation.json"] = _json(x)
    files["explanation.txt"] = as_text(explained).encode()
    files["explanation.html"] = _html.get_template("pack_explanation.html").render(p=explained, x=x).encode()
    files["digest.json"] = digest_text.encode()
    files["public_key.pem"] = public_key_pem(private_key.public_key())
    files["VERIFYING.md"] = (Path(__file__).parent / "VERIFYING.md").read_bytes()
    files["manifest.json"] = _json({
        "format": PACK_FORMAT, "finding_id": finding_id, "digest_position": checkpoint.position,
        "key_id": digest.key_id, "events": events,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    })
    files["README.txt"] = README.format(
        finding_id=finding_id, rule_id=x["finding"]["rule_id"], severity=x["finding"]["severity"],
        rule_line=explained["headline"], position=checkpoint.position,
        recorded_at=json.loads(digest_text)["recorded_at"], key_id=digest.key_id,
    ).encode()
    return _zip(files, checkpoint.recorded_at.timetuple()[:6])


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n").encode()


def _zip(files: dict[str, bytes], stamp: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as pack:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]  # six fields, as ZipInfo wants
            info.compress_type = zipfile.ZIP_DEFLATED
            pack.writestr(info, files[name])
    return buffer.getvalue()
