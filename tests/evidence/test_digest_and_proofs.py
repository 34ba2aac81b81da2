"""Digests and proofs made from a store verify with only the files and the public key; any
flipped bit in the proof, the digest or the key fails; and the files are refused unless they
are exactly what regledger writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import EvidenceUnreadable, InvalidRequest, NotFound
from domain.evidence.digest import (
    Digest,
    digest_json,
    load_public_key,
    parse_digest,
    public_key_pem,
    sign,
    signature_valid,
)
from domain.evidence.proofs import (
    check_consistency,
    check_inclusion,
    consistency_json,
    inclusion_json,
    parse_consistency,
    parse_inclusion,
)
from projections.evidence.attest import checkpoint_at, consistency_proof, inclusion_proof
from projections.store.base import Store
from tests.evidence.tamper import fill

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: the files are byte-stable


def flips(data: bytes) -> Iterator[bytes]:
    for index in range(len(data)):
        for bit in range(8):
            changed = bytearray(data)
            changed[index] ^= 1 << bit
            yield bytes(changed)


def holds(check: Callable[[], list[str]]) -> bool:
    try:
        return check() == []
    except EvidenceUnreadable:
        return False


def inclusion_holds(proof: bytes, digest: bytes, key: bytes) -> bool:
    return holds(lambda: check_inclusion(parse_inclusion(proof), parse_digest(digest), load_public_key(key)))


def consistency_holds(proof: bytes, old: bytes, new: bytes, key: bytes) -> bool:
    return holds(lambda: check_consistency(
        parse_consistency(proof), parse_digest(old), parse_digest(new), load_public_key(key)
    ))


@pytest.fixture
def files(store: Store) -> dict[str, bytes]:
    fill(store)
    early, tip = checkpoint_at(store, 21), checkpoint_at(store)
    return {
        "key": public_key_pem(KEY.public_key()),
        "digest": digest_json(sign(tip, KEY)).encode(),
        "early": digest_json(sign(early, KEY)).encode(),
        "proof": inclusion_json(inclusion_proof(store, "mf-day-0015", tip)).encode(),
        "growth": consistency_json(consistency_proof(store, early, tip)).encode(),
    }


def test_every_event_is_proven_in_the_digest_from_the_files_alone(store: Store) -> None:
    fill(store)
    tip = checkpoint_at(store)
    digest = sign(tip, KEY)
    for entry in store.read_entries(0, 100):
        proof = parse_inclusion(inclusion_json(inclusion_proof(store, entry.event_id, tip)).encode())
        assert (proof.position, proof.state, check_inclusion(proof, digest, KEY.public_key())) == (
            entry.position, entry.state, [],
        )


def test_a_later_digest_is_proven_to_extend_every_earlier_one(store: Store) -> None:
    fill(store)
    tip = sign(checkpoint_at(store), KEY)
    for position in range(1, 39):
        early = sign(checkpoint_at(store, position), KEY)
        proof = consistency_proof(store, early.checkpoint, tip.checkpoint)
        assert check_consistency(proof, early, tip, KEY.public_key()) == []


def test_any_flipped_bit_in_the_proof_the_digest_or_the_key_fails(files: dict[str, bytes]) -> None:
    proof, digest, key = files["proof"], files["digest"], files["key"]
    assert inclusion_holds(proof, digest, key)
    assert [f for f in flips(proof) if inclusion_holds(f, digest, key)] == []
    assert [f for f in flips(digest) if inclusion_holds(proof, f, key)] == []
    assert [f for f in flips(key) if inclusion_holds(proof, digest, f)] == []


def test_any_flipped_bit_in_a_consistency_proof_or_either_digest_fails(files: dict[str, bytes]) -> None:
    growth, early, digest, key = files["growth"], files["early"], files["digest"], files["key"]
    assert consistency_holds(growth, early, digest, key)
    assert [f for f in flips(growth) if consistency_holds(f, early, digest, key)] == []
    assert [f for f in flips(early) if consistency_holds(growth, f, digest, key)] == []
    assert [f for f in flips(digest) if consistency_holds(growth, early, f, key)] == []


def test_another_key_does_not_verify_the_digest(files: dict[str, bytes]) -> None:
    other = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    assert not signature_valid(parse_digest(files["digest"]), other)
    assert check_inclusion(parse_inclusion(files["proof"]), parse_digest(files["digest"]), other) == [
        "the digest's signature does not verify with this public key"
    ]


def test_a_proof_against_another_digest_is_refused_with_its_reasons(files: dict[str, bytes]) -> None:
    problems = check_inclusion(parse_inclusion(files["proof"]), parse_digest(files["early"]), KEY.public_key())
    assert problems == [
        "the proof is for another tree than the digest's",
        "the audit path does not lead from the row to the digest's Merkle root",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"not json", "digest: not a JSON file"),
        (b"[]", "digest: not a JSON object"),
        (b'{"format": "x"}', "digest: not a regledger-digest-v1 file"),
        (b'{"format": "regledger-digest-v1", "format": "regledger-digest-v1"}', "digest: the key 'format' appears twice"),
        (b'{"format": "regledger-digest-v1"}', "digest: missing fields ['position'"),
    ],
)
def test_a_file_that_is_no_digest_is_refused_with_a_reason(text: bytes, message: str) -> None:
    with pytest.raises(EvidenceUnreadable) as refused:
        parse_digest(text)
    assert str(refused.value).startswith(message)


def test_upper_case_hex_or_another_time_form_is_refused(files: dict[str, bytes]) -> None:
    digest = files["digest"].decode()
    parsed = parse_digest(files["digest"])
    upper = digest.replace(parsed.checkpoint.merkle_root.hex(), parsed.checkpoint.merkle_root.hex().upper())
    with pytest.raises(EvidenceUnreadable, match="merkle_root must be lower-case hex"):
        parse_digest(upper.encode())
    with pytest.raises(EvidenceUnreadable, match="recorded_at must be a UTC time"):
        parse_digest(digest.replace("Z\"", "+00:00\"").encode())


def test_the_files_are_the_same_bytes_each_time(store: Store, files: dict[str, bytes]) -> None:
    tip = checkpoint_at(store)
    assert digest_json(sign(tip, KEY)).encode() == files["digest"]
    assert inclusion_json(inclusion_proof(store, "mf-day-0015", tip)).encode() == files["proof"]
    assert isinstance(parse_digest(files["digest"]), Digest)


def test_proofs_refuse_an_unknown_event_one_after_the_digest_and_a_backward_pair(store: Store) -> None:
    fill(store)
    early, tip = checkpoint_at(store, 10), checkpoint_at(store)
    with pytest.raises(NotFound, match="no event 'nope' in the ledger"):
        inclusion_proof(store, "nope", tip)
    with pytest.raises(InvalidRequest, match="after the digest's position 10: make a newer digest"):
        inclusion_proof(store, "mf-day-0015", early)
    with pytest.raises(InvalidRequest, match="swap them"):
        consistency_proof(store, tip, early)
    with pytest.raises(InvalidRequest, match="nothing to digest at position 39: the ledger ends at 38"):
        checkpoint_at(store, 39)
