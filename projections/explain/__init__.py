"""Why a finding fired, from the immutable record."""

from projections.explain.explain import explain, rule_json

__all__ = ["explain", "rule_json"]
