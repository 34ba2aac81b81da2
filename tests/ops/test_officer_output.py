"""What officers read (issue 18): money to the cent with thousands separators in text (JSON
exact), tables as wide as the terminal, a ledger path whose folder is missing refused, `serve`
and `demo` saying where to go next, a 403 that reads as a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import InvalidRequest
from ops.api.security import refusal
from ops.render import money_text, to_table
from projections.store import open_store


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("owes HKD 1775437.24647363578.", "owes HKD 1,775,437.25."),
        ("HKD 0.004", "HKD 0.00"),  # below half a cent
        ("HKD 0.005", "HKD 0.01"),  # at half a cent: up, as a statement rounds
        ("HKD 0.0051", "HKD 0.01"),
        ("HKD -1234.565", "HKD -1,234.57"),
        ("HKD 999", "HKD 999.00"),
        ("HKD 1000", "HKD 1,000.00"),
        # an amount of 40 digits (the value bounds) is past decimal's default 28: still rounded, no error
        ("HKD " + "9" * 40 + ".005", "HKD 9," + ",".join(["999"] * 13) + ".01"),
        ("deposit D0000124 of 20000 HKD was funded", "deposit D0000124 of 20,000.00 HKD was funded"),
        ("O0003388 of 20000 HKD", "O0003388 of 20,000.00 HKD"),
        ("2.98070520 ETH and 8489 BTC-PERP at 20344.05", "2.98070520 ETH and 8489 BTC-PERP at 20344.05"),  # not money
    ],
)
def test_money_in_text_is_rounded_to_the_cent_with_thousands_separators(text: str, shown: str) -> None:
    assert money_text(text) == shown


def test_a_table_fits_the_width_it_is_given_and_wraps_long_cells() -> None:
    rows = [{"id": "F-1", "message": "word " * 60}]
    for width in (60, 80, 200):
        lines = to_table(rows, ("id", "message"), "t", width=width).splitlines()
        assert max(len(line) for line in lines) <= width
    assert "None" not in to_table([{"id": None}], ("id",), "t", width=40)


def test_the_terminal_width_is_taken_from_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    lines = to_table([{"message": "word " * 60}], ("message",), "t").splitlines()
    assert max(len(line) for line in lines) == 72


def test_a_sqlite_ledger_in_a_missing_folder_is_refused_not_created_elsewhere(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidRequest, match="no folder .*tmp.*four slashes"):
        open_store("sqlite:///tmp/nowhere-yet/ledger.db", create=True)
    assert not (tmp_path / "tmp").exists()  # nothing was made in the working directory
    with pytest.raises(InvalidRequest, match="no folder"):
        open_store(f"sqlite:///{tmp_path}/missing/ledger.db", create=True)
    open_store(f"sqlite:///{tmp_path}/ledger.db", create=True).close()  # an existing folder: fine
    assert (tmp_path / "ledger.db").exists()


def test_a_refusal_reads_as_a_sentence() -> None:
    assert refusal("regulator", "cases") == "the regulator role may not work cases"
    assert refusal("officer", "tokens") == "the officer role may not manage tokens"


def test_serve_prints_its_address_and_the_console_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from ops.cli import app

    served: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda _app, host, port, **_: served.append((host, port)))
    done = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path}/l.db", "--port", "8123"])
    assert done.exit_code == 0, done.output
    assert served == [("127.0.0.1", 8123)]
    assert "serving the API at http://127.0.0.1:8123" in done.output
    assert "the console: http://127.0.0.1:8123/console/findings" in done.output
