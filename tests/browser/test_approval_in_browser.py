"""An approver in headless Chromium: opens the emailed link, reads the page, presses Approve, enters
the one-time code mailed to them (approvals are verified by `code` by default), and the handoff
activates. The pages must work on a phone, pass axe-core and load nothing from elsewhere."""

from playwright.sync_api import Browser, expect

from handoff.adapters.approvals_store import ApprovalStore
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw
from tests.support.browser import PHONE, accessible


def test_an_approver_approves_in_a_browser_and_the_handoff_activates(runtime: EmbeddedRuntime,
                                                                      browser: Browser) -> None:
    event = load_raw("closed-won", "emea-milestone-erp-rollout")
    event["detail"]["opportunity"]["id"] = "browser-opportunity-1"
    event["detail"]["eventId"] = "browser-event-1"
    runtime.publish([event])
    runtime.wait_settled()
    links = [(mail, link) for mail, link in runtime.approval_links() if "(browser-opportunity-1)" in mail.subject]
    assert len(links) == 3

    # bypass_csp: axe-core is injected as a script, which the pages' CSP (rightly) refuses.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True,
                                  user_agent="Mozilla/5.0 (Linux; Android 14) Chromium-test")
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    for mail, link in links:
        page.goto(link)
        # The page says what the deal is and why this approver is asked, and decides nothing on view.
        expect(page.get_by_role("heading", level=1)).to_contain_text("approval")
        expect(page.get_by_role("heading", name="Why you are asked")).to_be_visible()
        expect(page.locator("dl")).to_contain_text("Nordwerk")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        assert page.locator("html").get_attribute("lang") == "en" and page.title()
        for button in ("Approve", "Reject"):  # thumb-sized targets (WCAG 2.5.5: 44 px)
            box = page.get_by_role("button", name=button).bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 44, (button, box)
        if mail is links[0][0]:
            # Rejecting needs a reason: the page says so and nothing is decided.
            page.get_by_role("button", name="Reject").click()
            expect(page.get_by_role("alert")).to_be_visible()
            expect(page.get_by_role("button", name="Approve")).to_be_visible()
        page.get_by_label("Comment").fill(f"Checked by {mail.to}")
        sent = len(runtime.emails())
        page.get_by_role("button", name="Approve").click()
        # The code page: the code went to the approver's mailbox, not to the page.
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
        [code] = [c for c in map(runtime.decision_code, runtime.emails()[sent:]) if c]
        expect(page.locator("main")).not_to_contain_text(code)
        if mail is links[0][0]:
            accessible(page)
            page.get_by_label("Code from the email").fill("000000" if code != "000000" else "111111")
            page.get_by_role("button", name="Confirm approve").click()
            expect(page.get_by_role("alert")).to_contain_text("not right")
        page.get_by_label("Code from the email").fill(f"{code[:3]} {code[3:]}")
        page.get_by_role("button", name="Confirm approve").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Approved, thank you")
        # Back to the email and click again: nothing changes, and the page says who decided.
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Already decided")
        expect(page.locator("main")).to_contain_text(mail.to.split("<")[-1].rstrip(">"))
        # A link altered by hand is refused.
        tampered = page.goto(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
        assert tampered is not None and tampered.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")

    runtime.wait_settled()
    [record] = [r for r in runtime.records() if r.opportunity_id == "browser-opportunity-1"]
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    assert record.project is not None and record.project.code
    assert sorted(a.decision for a in record.approvals) == ["APPROVED"] * 3
    assert all(a.comment and a.comment.startswith("Checked by ") for a in record.approvals)
    # The audit trail keeps where each decision came from.
    approvals = ApprovalStore(runtime.session.resource("dynamodb").Table(runtime.env("HANDOFF_TABLE")))
    for approval in approvals.list_for_handoff(record.handoff_id):
        decided = [a for a in approval.audit if a.action == "approved"]
        assert len(decided) == 1 and decided[0].ip == "127.0.0.1", approval.audit
        assert decided[0].verified_by == "code"
        assert "Chromium-test" in (decided[0].user_agent or "")
    base = runtime.api.base_url
    assert requested and all(url.startswith(base) for url in requested), [u for u in requested if not u.startswith(base)]
    context.close()
