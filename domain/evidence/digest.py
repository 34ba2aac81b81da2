"""Signed digests: what the ledger held up to a position, signed with the firm's Ed25519 key.

A digest commits to the position, the RFC 6962 Merkle root of the chain hashes 1..position,
the chain hash at that position and its ``recorded_at`` (the ledger's clock, never the wall
clock). The signature is pure Ed25519 (RFC 8032) over ``signed_message``: fixed lines of
``name=value``, so that any language can rebuild the exact bytes (ops/VERIFYING.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.chain import format_recorded_at
from domain.errors import EvidenceUnreadable
from domain.evidence import fields

DIGEST_FORMAT = "regledger-digest-v1"
CHAIN_ALGORITHM = "regledger-chain-v1"
MERKLE_ALGORITHM = "rfc6962-sha256"
SIGNATURE_ALGORITHM = "ed25519"
DIGEST_KEYS = (
    "format", "position", "merkle_root", "chain_hash", "recorded_at", "chain_algorithm",
    "merkle_algorithm", "signature_algorithm", "key_id", "signature",
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The ledger as of one position: what a digest commits to."""

    position: int
    merkle_root: bytes
    chain_hash: bytes
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    checkpoint: Checkpoint
    key_id: str  # lower-case hex SHA-256 of the raw 32-byte public key
    signature: bytes


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def signed_message(checkpoint: Checkpoint, signer: str) -> bytes:
    lines = (
        DIGEST_FORMAT,
        f"position={checkpoint.position}",
        f"merkle_root={checkpoint.merkle_root.hex()}",
        f"chain_hash={checkpoint.chain_hash.hex()}",
        f"recorded_at={format_recorded_at(checkpoint.recorded_at)}",
        f"chain_algorithm={CHAIN_ALGORITHM}",
        f"merkle_algorithm={MERKLE_ALGORITHM}",
        f"signature_algorithm={SIGNATURE_ALGORITHM}",
        f"key_id={signer}",
    )
    return "".join(line + "\n" for line in lines).encode("ascii")


def sign(checkpoint: Checkpoint, private_key: Ed25519PrivateKey) -> Digest:
    assert checkpoint.position >= 1, "an empty ledger has nothing to sign"
    signer = key_id(private_key.public_key())
    return Digest(checkpoint, signer, private_key.sign(signed_message(checkpoint, signer)))


def signature_valid(digest: Digest, public_key: Ed25519PublicKey) -> bool:
    """True when ``public_key`` is the digest's signer and its signature holds."""
    if digest.key_id != key_id(public_key):
        return False
    try:
        public_key.verify(digest.signature, signed_message(digest.checkpoint, digest.key_id))
    except InvalidSignature:
        return False
    return True


def digest_json(digest: Digest) -> str:
    c = digest.checkpoint
    return fields.dump(
        {
            "format": DIGEST_FORMAT,
            "position": c.position,
            "merkle_root": c.merkle_root.hex(),
            "chain_hash": c.chain_hash.hex(),
            "recorded_at": format_recorded_at(c.recorded_at),
            "chain_algorithm": CHAIN_ALGORITHM,
            "merkle_algorithm": MERKLE_ALGORITHM,
            "signature_algorithm": SIGNATURE_ALGORITHM,
            "key_id": digest.key_id,
            "signature": digest.signature.hex(),
        }
    )


def parse_digest(raw: bytes, what: str = "digest") -> Digest:
    obj = fields.read_object(raw, what, DIGEST_FORMAT, DIGEST_KEYS)
    fields.exact(obj, "chain_algorithm", CHAIN_ALGORITHM, what)
    fields.exact(obj, "merkle_algorithm", MERKLE_ALGORITHM, what)
    fields.exact(obj, "signature_algorithm", SIGNATURE_ALGORITHM, what)
    checkpoint = Checkpoint(
        fields.count(obj, "position", what),
        fields.hex_bytes(obj, "merkle_root", what),
        fields.hex_bytes(obj, "chain_hash", what),
        fields.instant(obj, "recorded_at", what),
    )
    signer = fields.hex_bytes(obj, "key_id", what).hex()
    return Digest(checkpoint, signer, fields.hex_bytes(obj, "signature", what, fields.HEX_64))


# --- keys -------------------------------------------------------------------------------------
def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes, what: str = "signing key") -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise EvidenceUnreadable(f"{what}: not an unencrypted PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise EvidenceUnreadable(f"{what}: not an Ed25519 key")
    return key


def load_public_key(pem: bytes, what: str = "public key") -> Ed25519PublicKey:
    """An Ed25519 public key in exactly the PEM form regledger and ``openssl pkey -pubout``
    write: a PEM decoder ignores some bits and blanks, and evidence must not."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise EvidenceUnreadable(f"{what}: not a PEM public key ({e})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise EvidenceUnreadable(f"{what}: not an Ed25519 key")
    if public_key_pem(key) != pem:
        raise EvidenceUnreadable(f"{what}: not in the canonical PEM form regledger writes")
    return key
