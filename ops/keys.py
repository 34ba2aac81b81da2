"""Signing keys and evidence files on disk: the I/O around ``domain.evidence``."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from domain.errors import InputUnreadable, InvalidRequest
from domain.evidence.digest import (
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
)
from domain.evidence.fields import FILE_BYTES_MAX

PRIVATE_KEY_FILE = "regledger-signing-key.pem"
PUBLIC_KEY_FILE = "regledger-signing-key.pub.pem"


def read_evidence(path: str, what: str) -> bytes:
    """A digest, proof or key file's bytes; one clear line when it cannot be read."""
    p = Path(path)
    try:
        if p.stat().st_size > FILE_BYTES_MAX:
            raise InputUnreadable(f"{what} {path}: larger than any file regledger writes")
        return p.read_bytes()
    except FileNotFoundError:
        raise InputUnreadable(f"cannot read {what} {path}: no such file") from None
    except IsADirectoryError:
        raise InputUnreadable(f"cannot read {what} {path}: it is a directory") from None
    except OSError as e:
        raise InputUnreadable(f"cannot read {what} {path}: {e.strerror or e}") from None


def write_output(path: str, text: str) -> None:
    write_bytes(path, text.encode("ascii"))


def write_bytes(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as e:
        raise InputUnreadable(f"cannot write {path}: {e.strerror or e}") from None


def generate_keys(directory: str) -> tuple[Path, Path]:
    """A new Ed25519 key pair: the private key readable by its owner only (0600)."""
    folder = Path(directory)
    private, public = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    for existing in (private, public):
        if existing.exists():
            raise InvalidRequest(f"{existing} exists: regledger never overwrites a key")
    key = Ed25519PrivateKey.generate()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(private_key_pem(key))
        os.chmod(private, 0o600)  # whatever the umask
        public.write_bytes(public_key_pem(key.public_key()))
    except OSError as e:
        raise InputUnreadable(f"cannot write keys to {directory}: {e.strerror or e}") from None
    return private, public


def signing_key(path: str | None) -> Ed25519PrivateKey:
    if not path:
        raise InvalidRequest(
            "no signing key: pass --key FILE or set REGLEDGER_SIGNING_KEY"
            " (make one with `regledger keys generate --out DIR`)"
        )
    return load_private_key(read_evidence(path, "signing key"), f"signing key {path}")


def public_key(path: str) -> Ed25519PublicKey:
    return load_public_key(read_evidence(path, "public key"), f"public key {path}")
