"""The stage split of ``ops.bench.stages`` over py-spy's raw stacks (no py-spy needed here)."""

from __future__ import annotations

from pathlib import Path

from ops.bench.stages import stages

STACKS = [
    # a parse sample, an append waiting on the server, a decode in the monitor's process,
    # an idle pool thread (left out) and something no stage names
    "main (ops/cli.py:1);parse (domain/ledger/parse.py:9);parse_line (domain/events/decoding.py:3) 7",
    "main (ops/cli.py:1);write (domain/ledger/writing.py:5);Connection.wait (psycopg/connection.py:4) 3",
    "spawn_main (x.py:1);_decoded_page (ops/projector.py:7);decode_entry (domain/ledger/stored.py:2) 5",
    "Thread.run (threading.py:1);Condition.wait (threading.py:2) 40",
    "main (ops/cli.py:1);something_else (ops/lines.py:8) 2",
]


def test_samples_are_split_by_stage_and_by_waiting(tmp_path: Path) -> None:
    profile = tmp_path / "raw.txt"
    profile.write_text("\n".join(STACKS) + "\n")
    found = stages(str(profile))
    assert found["parse and validate", False] == 7
    assert found["chain, append and Merkle subtrees", True] == 3
    assert found["chain, append and Merkle subtrees", False] == 0
    assert found["read and decode again (monitor's process)", False] == 5
    assert found["other", False] == 2
    assert sum(found.values()) == 17  # the idle thread's 40 are not counted
