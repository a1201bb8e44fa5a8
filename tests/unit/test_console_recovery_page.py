"""The console's recovery page as HTML, without AWS: values escaped, the forms for the platform group
only, what a redrive and a requeue did (and what is still invalid, and why), the quarantine's size
when more is kept than the page reads."""

from handoff.adapters.console_auth import Operator
from handoff.adapters.console_pages import Page
from handoff.adapters.console_recovery_page import recovery_page

QUEUE = {"queue": "UndeliveredEvents", "queueName": "UndeliveredEventsQueue1", "source": "targets",
         "destination": "the rule target", "method": "re-delivered", "count": 2}
KEPT = {"key": "quarantine/2026/12/02/e<1>.json", "rejectedAt": "2026-12-02T03:00:00+00:00",
        "problems": [{"field": "detail.opportunity.amount.value", "message": "not a <float>"}],
        "event": {"source": "crm.hubspot", "detail-type": "Opportunity Closed Won", "detail": {"eventId": "e<1>"}}}


def page_for(*groups: str) -> Page:
    return Page(base="/console", operator=Operator("o@example.com", "O", groups, "cognito", "s"), csrf="tok")


def test_platform_members_get_the_forms_and_everything_is_escaped() -> None:
    html = recovery_page(page_for("platform"), [QUEUE], [KEPT], kept=101)
    assert 'action="/console/recovery/dead-letters/UndeliveredEvents"' in html
    assert 'action="/console/recovery/quarantine"' in html and 'name="csrf" value="tok"' in html
    assert "e&lt;1&gt;" in html and "e<1>" not in html and "not a &lt;float&gt;" in html
    assert "101 event(s) failed their contract" in html and "100 more not shown" in html
    assert '<td class="num">2</td>' in html


def test_others_see_the_page_without_forms() -> None:
    html = recovery_page(page_for("finance"), [QUEUE], [KEPT], kept=1)
    assert "/recovery/dead-letters/" not in html and "<form" not in html
    assert "Only members of the Platform group" in html and "detail.opportunity.amount.value" in html


def test_results_say_what_moved_failed_and_is_still_invalid() -> None:
    redriven = {"queue": "UndeliveredEvents", "dryRun": False, "redriven": 1, "method": "re-delivered",
                "messages": [{"messageId": "m1", "to": "StartExecution handoff"}],
                "failed": [{"messageId": "m2", "error": "AccessDenied"}], "remaining": 1, "resolvedItems": ["wi-1"]}
    html = recovery_page(page_for("platform"), [QUEUE], [], kept=0, redrive=redriven)
    assert "1 message(s) redriven" in html and "1 failed and stay in the queue; 1 left" in html
    assert "<code>m1</code> to StartExecution handoff" in html and "<code>m2</code>: AccessDenied" in html
    assert "1 work item(s) of these messages resolved" in html and "Nothing is quarantined" in html
    requeued = {"dryRun": True, "requeued": [], "stillInvalid": [{"key": KEPT["key"], "problems": KEPT["problems"]}]}
    html = recovery_page(page_for("platform"), [], [KEPT], kept=1, requeue=requeued)
    assert "0 event(s) would be requeued; 1 still invalid" in html and "Nothing was changed" in html
    assert "<code>detail.opportunity.amount.value</code>: not a &lt;float&gt;" in html
