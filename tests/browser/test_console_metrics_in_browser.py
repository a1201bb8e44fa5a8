"""The console's metrics page in headless Chromium on the embedded runtime: reached from the
navigation, it shows the process metrics of what the runtime did (DuckDB over the runtime's facts,
read afresh per view), narrows to one service line, reads on a phone without sideways scrolling,
passes axe-core and loads nothing from elsewhere; on a synthetic history it says so.
The HTML report passes the same checks. UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/console-metrics.png
and report.png."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from local.console import LocalConsole
from local.history import generate
from local.report import report_on, write_facts
from local.report_html import write_html
from local.runtime import EmbeddedRuntime
from tests.support.browser import PHONE, accessible, console_showing, own, screenshot

BLOCKED = own("needs-fix", "missing-tax-id", "met")
ACTIVE = own("closed-won", "emea-milestone-erp-rollout", "met")


@pytest.fixture(scope="module")
def console(runtime: EmbeddedRuntime) -> Iterator[LocalConsole]:
    with console_showing(runtime, [BLOCKED, ACTIVE]) as started:
        yield started


def _context(browser: Browser, console: LocalConsole, **options: object) -> BrowserContext:
    opened = browser.new_context(bypass_csp=True, **options)  # axe-core is injected as a script
    opened.on("request", lambda request: request.url.startswith(console.url) or pytest.fail(
        f"loaded from elsewhere: {request.url}"))
    return opened


def kpi(page: object, name: str) -> str:
    return page.locator("dl.kpis div", has=page.get_by_text(name, exact=True)).locator("dd").inner_text()


def test_the_metrics_page_shows_what_the_runtime_did(browser: Browser, console: LocalConsole) -> None:
    context = _context(browser, console, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(console.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Metrics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Process metrics")
    expect(page.get_by_role("link", name="Metrics")).to_have_attribute("aria-current", "page")
    assert kpi(page, "Handoffs") == "2"
    assert kpi(page, "First-time-right") == "50.0 %"  # the milestone deal; the other is blocked
    assert kpi(page, "Exception rate") == "50.0 %"
    pareto = page.get_by_role("img", name="Exceptions by code (Pareto)")
    expect(pareto).to_contain_text("INVALID_TAX_ID")
    assert page.locator("main svg[role=img]").count() >= 6
    accessible(page)

    line = ACTIVE["detail"]["opportunity"]["serviceLine"]
    page.get_by_label("Service line", exact=True).select_option(line)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/metrics\?serviceLine={re.escape(line)}$"))
    assert kpi(page, "Service line") == line
    context.close()


def test_the_metrics_page_reads_on_a_phone(browser: Browser, console: LocalConsole) -> None:
    context = _context(browser, console, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(console.url + "metrics")
    expect(page.get_by_role("heading", level=1)).to_have_text("Process metrics")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    accessible(page)
    context.close()


def test_a_synthetic_history_is_labelled(browser: Browser, runtime: EmbeddedRuntime, tmp_path: Path) -> None:
    write_facts(generate(seed=12, handoffs=240, months=6), tmp_path)
    history = LocalConsole(runtime, 0, facts_dir=tmp_path).start()
    try:
        context = _context(browser, history, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(history.url + "metrics")
        expect(page.get_by_role("note")).to_contain_text("SYNTHETIC DATA")
        assert kpi(page, "Handoffs") == "240"
        accessible(page)
        screenshot(page, "console-metrics.png")
        context.close()
    finally:
        history.stop()


def test_the_html_report_on_the_readmes_history(browser: Browser, tmp_path: Path) -> None:
    """The README's report screenshot: `history --seed 7`, then `report --facts DIR --html OUT`."""
    write_facts(generate(seed=7), tmp_path / "facts")
    html = write_html(report_on(tmp_path / "facts"), tmp_path / "report")
    context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    context.on("request", lambda request: request.url.startswith("file://") or pytest.fail(
        f"loaded from elsewhere: {request.url}"))
    page = context.new_page()
    page.goto(html.as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("Handoff process report (synthetic data)")
    expect(page.get_by_role("img", name="Exceptions by code (Pareto)")).to_be_visible()
    accessible(page)
    screenshot(page, "report.png")
    context.close()


def test_facts_the_engine_cannot_read_are_a_503_page_not_a_crash(runtime: EmbeddedRuntime, tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    (tmp_path / "broken.jsonl").write_text("{not json\n")
    broken = LocalConsole(runtime, 0, facts_dir=tmp_path).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(broken.url + "metrics", timeout=60)
        assert answer.value.code == 503
        assert "could not be computed just now" in answer.value.read().decode()
    finally:
        broken.stop()
