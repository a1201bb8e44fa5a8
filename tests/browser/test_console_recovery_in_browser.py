"""The console's recovery page in headless Chromium on the embedded runtime: the dead-letter queues and
the quarantine listed, a dry run of a queue's redrive, a quarantined event corrected in its textarea
(JSON that does not parse first: refused naming the field, the text kept) and requeued; on a phone
too. Checked with axe-core (no serious or critical violation), nothing loaded from elsewhere.
UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/console-recovery.png."""

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from local.console import LocalConsole
from local.runtime import EmbeddedRuntime
from tests.support.browser import PHONE, accessible, console_only, console_showing, screenshot
from tests.support.events import amount_corrected, float_amount

BAD = float_amount("rec-browser-float-amount", "rec-browser-1")


@pytest.fixture(scope="module")
def console(runtime: EmbeddedRuntime) -> Iterator[LocalConsole]:
    stale = {"handoffId": "ho-0000000000000000", "status": "BLOCKED", "fixRound": 0, "exceptions": []}
    runtime.client("sqs").send_message(QueueUrl=runtime.physical("ExceptionsDeadLetters", "AWS::SQS::Queue"),
                                       MessageBody=json.dumps(stale))
    with console_showing(runtime, [BAD]) as started:  # BAD fails its contract: quarantined
        yield started


@pytest.fixture(scope="module")
def context(browser: Browser, console: LocalConsole) -> Iterator[BrowserContext]:
    with console_only(browser, console) as opened:
        yield opened


def test_redrive_dry_run_and_a_corrected_quarantined_event_requeued(
        context: BrowserContext, console: LocalConsole, runtime: EmbeddedRuntime) -> None:
    page = context.new_page()
    page.goto(console.url)
    page.get_by_role("link", name="Recovery").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery")
    row = page.locator("tbody tr", has=page.get_by_role("rowheader", name="ExceptionsDeadLetters"))
    expect(row.locator("td.num")).to_have_text("1")
    expect(page.locator("main")).to_contain_text("detail.opportunity.amount.value")
    accessible(page)
    screenshot(page, "console-recovery.png")

    row.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("status")).to_contain_text("Dry run of ExceptionsDeadLetters")
    expect(page.get_by_role("status")).to_contain_text("Nothing was changed")
    accessible(page)

    article = page.locator("article", has_text="rec-browser-1")
    article.get_by_text("Correct and requeue this event").click()
    box = article.get_by_label("Corrected event (JSON; leave as it is to validate it again)")
    box.fill('{"source": "crm.hubspot",')
    article.get_by_role("button", name="Requeue this event").click()
    expect(page.get_by_role("alert")).to_contain_text("event: not JSON")
    article = page.locator("article", has_text="rec-browser-1")
    box = article.get_by_label("Corrected event (JSON; leave as it is to validate it again)")
    expect(box).to_have_value('{"source": "crm.hubspot",')  # what was typed is still there

    corrected = amount_corrected(BAD)
    box.fill(json.dumps(corrected, indent=2))
    article.get_by_role("button", name="Requeue this event").click()
    expect(page.get_by_role("status")).to_contain_text("1 event(s) requeued")
    expect(page.locator("main")).not_to_contain_text("Correct and requeue this event")
    accessible(page)
    page.close()
    runtime.wait_settled()
    runtime.decide_all("approve")
    [record] = [r for r in runtime.records() if r.opportunity_id == "rec-browser-float-amount"]
    assert record.status == "ACTIVATED"


def test_the_page_fits_a_phone(browser: Browser, console: LocalConsole) -> None:
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    page = phone.new_page()
    page.goto(console.url + "recovery")
    expect(page.get_by_role("heading", name="Dead-letter queues")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    accessible(page)
    phone.close()
