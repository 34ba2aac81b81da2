"""domain.merkle against a naive implementation written straight from RFC 6962's recursive
definitions, for every tree size 1..N and every index, and with hypothesis beyond."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.merkle import (
    EMPTY_ROOT,
    RangeRoots,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

EXHAUSTIVE_SIZE_MAX = 40


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def naive_mth(d: list[bytes]) -> bytes:
    if not d:
        return sha(b"")
    if len(d) == 1:
        return sha(b"\x00" + d[0])
    k = 1
    while k * 2 < len(d):
        k *= 2
    return sha(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [naive_mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return naive_subproof(m, d[:k], b) + [naive_mth(d[k:])]
    return naive_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [sha(salt + b"%d" % i) for i in range(n)]


def range_roots(d: list[bytes], ranges: list[tuple[int, int]]) -> list[bytes]:
    roots = RangeRoots([*ranges, (0, len(d))])
    for item in d:
        roots.add(leaf_hash(item))
    return roots.roots(ranges)


def test_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == sha(b"")


@pytest.mark.parametrize("n", range(1, EXHAUSTIVE_SIZE_MAX + 1))
def test_roots_and_audit_paths_match_rfc_6962_for_every_index(n: int) -> None:
    d = leaves(n)
    assert root(d) == naive_mth(d)
    for m in range(n):
        path = range_roots(d, inclusion_ranges(m, n))
        assert path == naive_path(m, d)
        assert verify_inclusion(m, n, leaf_hash(d[m]), path, naive_mth(d))


@pytest.mark.parametrize("n", range(1, EXHAUSTIVE_SIZE_MAX + 1))
def test_consistency_proofs_match_rfc_6962_for_every_earlier_size(n: int) -> None:
    d = leaves(n)
    for m in range(1, n + 1):
        proof = range_roots(d, consistency_ranges(m, n))
        assert proof == (naive_subproof(m, d, True) if m < n else [])
        assert verify_consistency(m, n, naive_mth(d[:m]), naive_mth(d), proof)


@pytest.mark.parametrize("n", range(2, 18))
def test_an_audit_path_proves_nothing_for_another_leaf_index_or_root(n: int) -> None:
    d = leaves(n)
    good_root = naive_mth(d)
    for m in range(n):
        path = naive_path(m, d)
        assert not verify_inclusion(m, n, leaf_hash(b"forged"), path, good_root)
        assert not verify_inclusion(m, n, leaf_hash(d[m]), path, sha(b"other root"))
        assert not verify_inclusion(n, n, leaf_hash(d[m]), path, good_root)
        for other in range(n):
            if d[other] != d[m]:
                assert not verify_inclusion(other, n, leaf_hash(d[m]), path, good_root)
        for i in range(len(path)):
            bent = [*path[:i], sha(path[i]), *path[i + 1 :]]
            assert not verify_inclusion(m, n, leaf_hash(d[m]), bent, good_root)
        if path:
            assert not verify_inclusion(m, n, leaf_hash(d[m]), path[:-1], good_root)
            assert not verify_inclusion(m, n, leaf_hash(d[m]), [*path, path[0]], good_root)


@pytest.mark.parametrize("n", range(2, 18))
def test_a_consistency_proof_fails_for_a_rewritten_history(n: int) -> None:
    d = leaves(n)
    for m in range(1, n):
        proof = naive_subproof(m, d, True)
        rewritten = [*d[: m - 1], sha(b"rewritten"), *d[m:]]
        assert not verify_consistency(m, n, naive_mth(rewritten[:m]), naive_mth(d), proof)
        assert not verify_consistency(m, n, naive_mth(d[:m]), naive_mth(rewritten), proof)
        assert not verify_consistency(m, n, naive_mth(d[:m]), naive_mth(d), [])
        for i in range(len(proof)):
            bent = [*proof[:i], sha(proof[i]), *proof[i + 1 :]]
            assert not verify_consistency(m, n, naive_mth(d[:m]), naive_mth(d), bent)
    assert not verify_consistency(n, n - 1, naive_mth(d), naive_mth(d[:-1]), [])
    assert not verify_consistency(n, n, naive_mth(d), sha(b"x"), [])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 600), data=st.data())
def test_random_trees_agree_with_the_naive_definitions(n: int, data: st.DataObject) -> None:
    d = leaves(n, salt=b"h")
    m = data.draw(st.integers(0, n - 1))
    old = data.draw(st.integers(1, n))
    path = range_roots(d, inclusion_ranges(m, n))
    assert root(d) == naive_mth(d)
    assert path == naive_path(m, d)
    assert verify_inclusion(m, n, leaf_hash(d[m]), path, naive_mth(d))
    proof = range_roots(d, consistency_ranges(old, n))
    assert proof == (naive_subproof(old, d, True) if old < n else [])
    assert verify_consistency(old, n, naive_mth(d[:old]), naive_mth(d), proof)
