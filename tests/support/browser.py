"""What the browser tests share: deals of their own, the console they are shown in, the axe-core
check and the screenshots (UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, BrowserContext, Page

from local.console import LocalConsole
from local.runtime import EmbeddedRuntime
from local.template import ROOT
from tests.support import events

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}


def own(kind: str, name: str, tag: str) -> dict:
    """A fixture deal with ids and a name of its own (`tag`): one runtime serves a whole module."""
    event = events.own(kind, name, tag)
    event["detail"]["opportunity"]["name"] += f" [{tag}]"
    return event


@contextmanager
def console_showing(runtime: EmbeddedRuntime, deals: list[dict]) -> Iterator[LocalConsole]:
    """The operations console on the runtime, once `deals` went through (their approvals approved)."""
    runtime.publish(deals)
    runtime.wait_settled()
    runtime.decide_all("approve")
    started = LocalConsole(runtime, 0).start()
    try:
        yield started
    finally:
        started.stop()


@contextmanager
def console_only(browser: Browser, console: LocalConsole) -> Iterator[BrowserContext]:
    """A browser context on the console that, when closed, checks nothing was loaded from anywhere
    else. axe-core is injected as a script; the console's CSP (rightly) allows none, so it is bypassed."""
    opened = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    requested: list[str] = []
    opened.on("request", lambda request: requested.append(request.url))
    yield opened
    assert requested and all(u.startswith(console.url) for u in requested), \
        [u for u in requested if not u.startswith(console.url)]
    opened.close()


def accessible(page: Page) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)
