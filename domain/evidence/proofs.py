"""Inclusion and consistency proofs, and their offline checks against signed digests.

An inclusion proof carries one stored row (every field its chain hash covers), the chain hash
before it and the RFC 6962 audit path from its leaf to the Merkle root of a digest. A
consistency proof carries the RFC 6962 nodes that show a later digest's tree extends an
earlier one's. Checking either needs only the proof, the digest(s) and the public key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.chain import chain_hash, format_recorded_at
from domain.evidence import fields
from domain.evidence.digest import Digest, signature_valid
from domain.merkle import leaf_hash, verify_consistency, verify_inclusion

INCLUSION_FORMAT = "regledger-inclusion-proof-v1"
CONSISTENCY_FORMAT = "regledger-consistency-proof-v1"
INCLUSION_KEYS = (
    "format", "event_id", "originator_version", "topic", "position", "recorded_at",
    "previous_chain_hash", "state_hex", "chain_hash", "tree_size", "merkle_root", "audit_path",
)
CONSISTENCY_KEYS = ("format", "old_size", "old_root", "new_size", "new_root", "path")


@dataclass(frozen=True, slots=True)
class InclusionProof:
    event_id: str  # the row's originator_id
    originator_version: int
    topic: str
    position: int
    recorded_at: datetime
    previous_chain_hash: bytes
    state: bytes  # the stored envelope bytes, exactly
    chain_hash: bytes
    tree_size: int
    merkle_root: bytes
    audit_path: tuple[bytes, ...]

    def recomputed_chain_hash(self) -> bytes:
        return chain_hash(
            self.position, self.recorded_at, self.previous_chain_hash, self.event_id,
            self.originator_version, self.topic, self.state,
        )


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old_size: int
    old_root: bytes
    new_size: int
    new_root: bytes
    path: tuple[bytes, ...]


def _signer_problems(digest: Digest, public_key: Ed25519PublicKey, which: str) -> list[str]:
    if signature_valid(digest, public_key):
        return []
    return [f"the {which}'s signature does not verify with this public key"]


def check_inclusion(proof: InclusionProof, digest: Digest, public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong, if anything: an empty list means the event is in the signed ledger."""
    problems = _signer_problems(digest, public_key, "digest")
    tip = digest.checkpoint
    if (proof.tree_size, proof.merkle_root) != (tip.position, tip.merkle_root):
        problems.append("the proof is for another tree than the digest's")
    if not 1 <= proof.position <= proof.tree_size:
        problems.append(f"position {proof.position} is not within the tree of {proof.tree_size}")
        return problems
    leaf = proof.recomputed_chain_hash()
    if leaf != proof.chain_hash:
        problems.append("the row's fields do not hash to its chain hash")
    if proof.position == tip.position and leaf != tip.chain_hash:
        problems.append("the row at the digest's position is not the one the digest names")
    if not verify_inclusion(proof.position - 1, tip.position, leaf_hash(leaf), proof.audit_path, tip.merkle_root):
        problems.append("the audit path does not lead from the row to the digest's Merkle root")
    return problems


def check_consistency(
    proof: ConsistencyProof, old: Digest, new: Digest, public_key: Ed25519PublicKey
) -> list[str]:
    """What is wrong, if anything: an empty list means ``new`` extends ``old``."""
    problems = _signer_problems(old, public_key, "earlier digest")
    problems += _signer_problems(new, public_key, "later digest")
    if (proof.old_size, proof.old_root) != (old.checkpoint.position, old.checkpoint.merkle_root):
        problems.append("the proof starts from another tree than the earlier digest's")
    if (proof.new_size, proof.new_root) != (new.checkpoint.position, new.checkpoint.merkle_root):
        problems.append("the proof ends at another tree than the later digest's")
    if not verify_consistency(
        old.checkpoint.position, new.checkpoint.position, old.checkpoint.merkle_root,
        new.checkpoint.merkle_root, proof.path,
    ):
        problems.append("the later digest's tree does not extend the earlier one's")
    return problems


# --- files --------------------------------------------------------------------------------------
def inclusion_json(proof: InclusionProof) -> str:
    return fields.dump(
        {
            "format": INCLUSION_FORMAT,
            "event_id": proof.event_id,
            "originator_version": proof.originator_version,
            "topic": proof.topic,
            "position": proof.position,
            "recorded_at": format_recorded_at(proof.recorded_at),
            "previous_chain_hash": proof.previous_chain_hash.hex(),
            "state_hex": proof.state.hex(),
            "chain_hash": proof.chain_hash.hex(),
            "tree_size": proof.tree_size,
            "merkle_root": proof.merkle_root.hex(),
            "audit_path": [node.hex() for node in proof.audit_path],
        }
    )


def parse_inclusion(raw: bytes, what: str = "proof") -> InclusionProof:
    obj = fields.read_object(raw, what, INCLUSION_FORMAT, INCLUSION_KEYS)
    return InclusionProof(
        fields.text(obj, "event_id", what),
        fields.count(obj, "originator_version", what),
        fields.text(obj, "topic", what),
        fields.count(obj, "position", what),
        fields.instant(obj, "recorded_at", what),
        fields.hex_bytes(obj, "previous_chain_hash", what),
        fields.hex_bytes(obj, "state_hex", what, fields.HEX_ANY),
        fields.hex_bytes(obj, "chain_hash", what),
        fields.count(obj, "tree_size", what),
        fields.hex_bytes(obj, "merkle_root", what),
        tuple(fields.hex_list(obj, "audit_path", what)),
    )


def consistency_json(proof: ConsistencyProof) -> str:
    return fields.dump(
        {
            "format": CONSISTENCY_FORMAT,
            "old_size": proof.old_size,
            "old_root": proof.old_root.hex(),
            "new_size": proof.new_size,
            "new_root": proof.new_root.hex(),
            "path": [node.hex() for node in proof.path],
        }
    )


def parse_consistency(raw: bytes, what: str = "proof") -> ConsistencyProof:
    obj = fields.read_object(raw, what, CONSISTENCY_FORMAT, CONSISTENCY_KEYS)
    return ConsistencyProof(
        fields.count(obj, "old_size", what),
        fields.hex_bytes(obj, "old_root", what),
        fields.count(obj, "new_size", what),
        fields.hex_bytes(obj, "new_root", what),
        tuple(fields.hex_list(obj, "path", what)),
    )


def proof_format(raw: bytes) -> str | None:
    """Which kind of proof a file claims to be (None when it is no proof regledger writes)."""
    for fmt in (INCLUSION_FORMAT, CONSISTENCY_FORMAT):
        if f'"format": "{fmt}"'.encode() in raw:
            return fmt
    return None
