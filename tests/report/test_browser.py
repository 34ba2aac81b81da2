"""The nightly report's HTML in a real browser: headless Chromium renders it without a
console error, and its charts are visible in the screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from ops.simulate import SimConfig, write_stream
from tests.report.test_nightly import nightly
from tests.simulate.helpers import ingest

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--enable-logging=stderr", "--v=0", "--window-size=1280,2000",
)
CONSOLE_ERRORS = ("Uncaught", "ERROR:CONSOLE", "CONSOLE(")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def vivid_pixels(image: Image.Image) -> int:
    """Pixels of a saturated colour: the charts' bars and cells, not text or borders."""
    rgb = image.convert("RGB")
    return sum(count for count, (r, g, b) in rgb.getcolors(maxcolors=1 << 24) or []
               if max(r, g, b) - min(r, g, b) > 60)


def test_the_report_renders_in_headless_chromium_with_its_charts_and_no_console_error(store_url: str, tmp_path: Path) -> None:
    browser = chromium()
    stream = tmp_path / "sim.jsonl"
    write_stream(SimConfig(clients=40, days=3, seed=9, violations=0.02), stream)
    ingest(store_url, stream)
    day = date(2026, 3, 4)
    nightly(store_url, day, tmp_path / "out")
    page = tmp_path / "out" / f"nightly-{day}" / "index.html"
    assert "<script" not in page.read_text() and "http://" not in page.read_text().replace("http://www.w3.org/2000/svg", "")
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert not [line for line in done.stderr.splitlines() if any(e in line for e in CONSOLE_ERRORS)]
    image = Image.open(shot)
    assert image.size == (1280, 2000)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    assert len(colours) > 100  # text, tiles and charts, not a blank page
    assert vivid_pixels(image) > 5_000  # the heatmap's cells and the bars are drawn
