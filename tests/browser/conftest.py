"""The browser tests drive Debian's Chromium through Playwright by its executable path: no tool
downloads a browser. `make test` installs the package when it is missing (.ci/system-packages)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.runtime_fixture import runtime  # noqa: F401 - one embedded runtime per test module

# Debian's /usr/bin/chromium is a shell wrapper; Playwright drives the binary it wraps.
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", "--metrics-recording-only"]


def chromium_path() -> str:
    configured = os.environ.get("CHROMIUM_PATH")
    for candidate in ([configured] if configured else []) + [*CANDIDATES, shutil.which("chromium") or ""]:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("Chromium is not installed: `apt-get install chromium` (or set CHROMIUM_PATH); make test does this")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()
