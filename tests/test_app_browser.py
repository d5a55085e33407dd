"""The SolaraViz page in a real browser: Debian's Chromium driven by Playwright, offline.

The page is served by `solara run simulations/app.py` on a free localhost port, in a subprocess that is
always killed. On CI (CI=true) a missing Chromium fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"]
SERVER_START_TIMEOUT = 90  # seconds
PAGE_TIMEOUT_MS = 60_000
CHART_UPDATE_TIMEOUT = 20  # seconds


def require_chromium():
    if CHROMIUM.exists():
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen):
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"solara exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"solara did not answer on {url} within {SERVER_START_TIMEOUT} s")


@pytest.fixture
def app_url(tmp_path):
    port = free_port()
    solara = Path(sys.executable).with_name("solara")
    log = (tmp_path / "solara.log").open("w")
    server = subprocess.Popen([str(solara), "run", "simulations/app.py", "--host", "127.0.0.1", "--port", str(port),
                               "--production"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def chart_pixels(page, index=0) -> bytes:
    """A screenshot of one chart image: its content, not its (ever-changing) blob address."""
    return page.locator("img").nth(index).screenshot()


def test_page_loads_offline_and_step_updates_a_chart(app_url):
    require_chromium()
    from playwright.sync_api import sync_playwright

    broken = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as user_data:
        browser = playwright.chromium.launch_persistent_context(
            user_data, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.on("response", lambda r: broken.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.on("requestfailed", lambda r: broken.append(f"failed {r.url}"))
            page.goto(app_url)
            step = page.get_by_role("button", name="Step")
            step.wait_for()
            page.get_by_text("Loyalty Lab: the simulated market").first.wait_for()
            page.locator("img").nth(4).wait_for()  # every chart drawn
            # every asset came from the local server (a CDN would be unreachable offline)
            assert not broken, "assets failed to load (see solara's CDN cache, README): " + "; ".join(broken[:5])
            assert page.get_by_text("Step: 0").count() == 1
            before = chart_pixels(page)

            step.click()
            page.get_by_text("Step: 1").wait_for()
            deadline = time.monotonic() + CHART_UPDATE_TIMEOUT
            while chart_pixels(page) == before and time.monotonic() < deadline:
                page.wait_for_timeout(250)
            assert chart_pixels(page) != before, "the customers chart did not change after Step"
        finally:
            browser.close()
