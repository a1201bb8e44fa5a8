"""The operations console in headless Chromium on the embedded runtime: find handoffs and filter
them, open one (timeline chart, approvals and who verified them), work the queue (claim, resolve
with a correction: the blocked handoff activates), decide an approval as the signed-in operator.
Every page is checked with axe-core (no serious or critical violation) and loads nothing from
elsewhere. UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.handoff_store import handoff_id_for
from local.console import LocalConsole
from local.runtime import EmbeddedRuntime
from tests.support.browser import AXE, PHONE, accessible, console_only, console_showing, own, screenshot


def hid(event: dict) -> str:
    return handoff_id_for(event["source"], event["detail"]["opportunity"]["id"])


BLOCKED = own("needs-fix", "missing-tax-id", "con")
ACTIVE = own("closed-won", "emea-milestone-erp-rollout", "live")
WAITING = own("closed-won", "emea-milestone-erp-rollout", "wait")


@pytest.fixture(scope="module")
def console(runtime: EmbeddedRuntime) -> Iterator[LocalConsole]:
    with console_showing(runtime, [BLOCKED, ACTIVE]) as started:
        yield started


@pytest.fixture(scope="module")
def context(browser: Browser, console: LocalConsole) -> Iterator[BrowserContext]:
    with console_only(browser, console) as opened:
        yield opened


def test_list_filter_and_open_a_handoff(context: BrowserContext, console: LocalConsole) -> None:
    page = context.new_page()
    page.goto(console.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Handoffs")
    table = page.locator("main table")
    for event in (BLOCKED, ACTIVE):
        expect(table).to_contain_text(event["detail"]["opportunity"]["name"])
    accessible(page)
    screenshot(page, "console-handoffs.png")

    page.get_by_label("Status").select_option("BLOCKED")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/handoffs\?status=BLOCKED&"))
    expect(table).to_contain_text(BLOCKED["detail"]["opportunity"]["name"])
    expect(table).not_to_contain_text(ACTIVE["detail"]["opportunity"]["name"])
    page.get_by_label("Deal or customer").fill("no such deal anywhere")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("main")).to_contain_text("No handoff matches")

    page.goto(console.url)
    page.get_by_role("link", name=ACTIVE["detail"]["opportunity"]["name"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ACTIVE["detail"]["opportunity"]["name"])
    expect(page.locator("svg[role=img] rect").first).to_be_visible()
    assert page.locator("svg[role=img] rect").count() >= 8  # one bar per step
    for section in ("Timeline", "Exceptions", "Approvals", "Billing schedule", "Staffing", "Requisitions",
                    "Launch packet"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    approvals = page.locator("section", has=page.get_by_role("heading", name="Approvals", exact=True))
    expect(approvals).to_contain_text("One-time code mailed to the approver")  # the default verification
    expect(page.locator("main")).to_contain_text("activated")
    accessible(page)
    screenshot(page, "console-handoff.png")
    page.close()


def test_work_the_queue_claim_and_resolve_with_a_correction_and_the_handoff_activates(
        context: BrowserContext, console: LocalConsole, runtime: EmbeddedRuntime) -> None:
    page = context.new_page()
    page.goto(console.url + "queue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Work queue")
    row = page.locator("tbody tr", has_text=BLOCKED["detail"]["opportunity"]["name"])
    expect(row).to_contain_text("INVALID_TAX_ID")
    expect(row).to_contain_text("Data steward")
    accessible(page)
    screenshot(page, "console-work-queue.png")
    row.get_by_role("button", name="Claim").click()
    row = page.locator("tbody tr", has_text=BLOCKED["detail"]["opportunity"]["name"])
    expect(row).to_contain_text("operator@example.com")
    expect(row).to_contain_text("claimed")

    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("INVALID_TAX_ID")
    page.get_by_label("Comment").fill("Asked the customer for the VAT number")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("main")).to_contain_text("Asked the customer for the VAT number")
    accessible(page)
    # A dismissal needs a reason; a correction that breaks the contract resubmits nothing.
    page.get_by_label("Resubmit the deal with this correction").check()
    expect(page.get_by_label("Field (in the event's detail)")).to_have_value("account.taxId")
    page.get_by_label("Field (in the event's detail)").fill("contract.value.value")
    page.get_by_label("Corrected value").fill("a lot")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was resubmitted")
    expect(page.get_by_role("alert")).to_contain_text("contract.value")

    page.get_by_label("Resubmit the deal with this correction").check()
    page.get_by_label("Field (in the event's detail)").fill("account.taxId")
    page.get_by_label("Corrected value").fill("DE811907980")
    page.get_by_label("Resolution note").fill("VAT number from the customer's invoice")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("main")).to_contain_text("resolved")
    expect(page.locator("main")).to_contain_text("resubmitted with account.taxId = DE811907980")

    runtime.wait_settled()
    runtime.decide_all("approve")
    record = runtime.store().record(hid(BLOCKED))
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    assert record.rework == 1
    assert runtime.store().deal(hid(BLOCKED)).detail.account.tax_id == "DE811907980"
    [item] = runtime.work_items().for_handoff(hid(BLOCKED))
    assert item.state == "resolved" and item.assignee == "operator@example.com"
    assert [h.action for h in item.history] == ["opened", "claimed", "resolved"]
    assert [c.text for c in item.comments] == ["Asked the customer for the VAT number"]
    page.goto(console.url + "handoffs/" + hid(BLOCKED))
    expect(page.locator("main dl")).to_contain_text("activated")
    page.close()


def test_decide_an_approval_as_the_signed_in_operator_on_a_phone(
        browser: Browser, console: LocalConsole, runtime: EmbeddedRuntime) -> None:
    runtime.publish([WAITING])
    runtime.wait_settled()
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    page = phone.new_page()
    page.goto(console.url + "approvals")
    expect(page.get_by_role("heading", level=1)).to_have_text("My approvals")
    sections = page.locator("main section", has_text=WAITING["detail"]["opportunity"]["id"])
    count = sections.count()
    assert count >= 1
    screenshot(page, "console-approvals-phone.png", full_page=False)  # what the phone shows first
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    accessible(page)
    for _ in range(count):
        section = page.locator("main section", has_text=WAITING["detail"]["opportunity"]["id"]).first
        section.get_by_label("Comment (required to reject)").fill("Fine by operations")
        section.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status")).to_contain_text("approved")
    runtime.wait_settled()
    record = runtime.store().record(hid(WAITING))
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    approvals = ApprovalStore(runtime.session.resource("dynamodb").Table(runtime.env("HANDOFF_TABLE")))
    for approval in approvals.list_for_handoff(hid(WAITING)):
        [decided] = [a for a in approval.audit if a.action == "approved"]
        assert (decided.actor, decided.verified_by) == ("operator@example.com", "local")
    page.goto(console.url + "handoffs/" + hid(WAITING))
    expect(page.locator("main")).to_contain_text("Local operator (embedded runtime)")
    phone.close()


def test_missing_pages_and_foreign_posts_are_refused(console: LocalConsole) -> None:
    import urllib.error
    import urllib.request

    for path, status in (("handoffs/ho-0000000000000000", 404), ("queue/wi-nothing", 404)):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(console.url + path)
        assert error.value.code == status
    forged = urllib.request.Request(console.url + "queue/wi-nothing/claim", data=b"csrf=forged", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(forged)
    assert error.value.code == 403
    assert Path(AXE).is_file()
