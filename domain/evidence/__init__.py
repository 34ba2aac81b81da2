"""Tamper evidence a regulator can check without trusting the firm: the chain check, signed
digests of the ledger's Merkle tree, and inclusion and consistency proofs against them.

Pure: keys arrive as bytes, files as bytes, rows as values. ``ops/VERIFYING.md`` specifies
every encoding here so that a regulator can re-implement each check from it alone.
"""
