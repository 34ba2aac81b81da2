"""Regulator-facing views of the log: chain verification, checkpoints and proofs over the
stored rows, what-if replays of the monitor, and the check for projection drift."""
