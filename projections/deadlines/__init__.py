"""The deadlines board: every open obligation of the deadline rules, soonest first."""

from projections.deadlines.board import board

__all__ = ["board"]
