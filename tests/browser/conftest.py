"""Browser fixtures: the demo clinic served on a throwaway data folder, and Debian's Chromium.

The server is started the way `make run` starts it (migrate, collectstatic, load_demo, serve), so the
journeys exercise the real stack: WSGI server, WhiteNoise, CSP headers, HTMX. pytest-django's live_server
is not used: its flush between tests is refused by the audit table's append-only triggers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from ketaclinic.web.tests import servers
from ketaclinic.web.tests.servers import free_port
from tests.browser.support import Console

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
DEMO_PATIENTS = 5
START_TIMEOUT = 30.0
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives Chromium: mark it browser so `make test` (-m "not browser") skips it."""
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ketaclinic", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"ketaclinic {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return result.stdout


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {START_TIMEOUT:.0f}s:\n{log.read_text()}", pytrace=False)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # The server runs in its own session (start_new_session): its group is it, granian and the workers.
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the server runs with: its own data folder, demo on."""
    return servers.server_env(tmp_path_factory.mktemp("ketaclinic-browser"))


@pytest.fixture(scope="session")
def manage(server_env: dict[str, str]) -> Callable[..., str]:
    """Run a `ketaclinic` command against the server's database; returns what it printed."""
    return lambda *args: _manage(server_env, *args)


@pytest.fixture(scope="session")
def server(server_env: dict[str, str]) -> Iterator[str]:
    """Base URL of the demo clinic, served as `make run` serves it."""
    env = server_env
    data_dir = Path(env["KETACLINIC_DATA_DIR"])
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    _manage(env, "load_demo", "--patients", str(DEMO_PATIENTS))

    port = free_port()
    log = data_dir / "server.log"
    # `ketaclinic serve`, as `make run` runs it: granian's workers and the audit writer beside them.
    command = [sys.executable, "-m", "ketaclinic", "serve", "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base_url}/login/", proc, log)
        yield base_url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; run ./tests/browser/ensure-chromium", pytrace=False)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, server: str, console: Console) -> Iterator[Page]:
    """A fresh, logged-out page at 1280x900; fails the test on any JavaScript error it logged."""
    context = browser.new_context(base_url=server, viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()
    if console.ignored:
        print("\nignored console messages:\n  " + "\n  ".join(console.ignored))
    unexpected = console.unexpected()
    if unexpected:
        pytest.fail("JavaScript errors in the browser:\n  " + "\n  ".join(unexpected), pytrace=False)


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
