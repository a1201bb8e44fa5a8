"""The console's recovery page on the embedded runtime, over HTTP as a browser posts its forms:
a dead-lettered closed-won event redriven from its work item's page (a dry run first, which changes
nothing) reaches the workflow, leaves the dead-letter queue and activates; a quarantined event
corrected in the page's form is requeued once (a second requeue sends nothing) and activates; JSON
that does not parse is refused naming the field, the typed text kept; an unknown queue is a 404;
an operator outside the platform group sees no forms and is refused (403)."""

import html
import json
import re
import urllib.parse
from collections.abc import Iterator

import pytest

from handoff.adapters import console_auth
from handoff.adapters.handoff_store import handoff_id_for
from handoff.adapters.signing_keys import secret_key
from handoff.domain.work_items import dead_letter_item_id
from local.console import LocalConsole
from local.provision import REGION
from local.runtime import EmbeddedRuntime
from tests.support.events import amount_corrected, float_amount, own
from tests.support.http import csrf_of, form_request
from tests.support.runtime_fixture import runtime  # noqa: F401 - one embedded runtime for this module


def waiting(runtime: EmbeddedRuntime, queue: str) -> int:  # noqa: F811
    status, listed = runtime.dead_letters()  # the recovery API's count, not the page's
    assert status == 200, listed
    return next(q["count"] for q in listed["queues"] if q["queue"] == queue)


def executions_of(runtime: EmbeddedRuntime, event_id: str) -> int:  # noqa: F811
    sfn = runtime.client("stepfunctions")
    return sum(1 for e in runtime.executions()
               if json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
               .get("detail", {}).get("eventId") == event_id)


@pytest.fixture(scope="module")
def console(runtime: EmbeddedRuntime) -> Iterator[LocalConsole]:  # noqa: F811
    started = LocalConsole(runtime, 0).start()
    yield started
    started.stop()


def test_a_dead_lettered_event_is_redriven_from_its_work_item_and_activates(
        runtime: EmbeddedRuntime, console: LocalConsole) -> None:  # noqa: F811
    event = own("closed-won", "us-fixed-fee-advisory", "cdl")
    machine = runtime.physical("HandoffWorkflow", "AWS::StepFunctions::StateMachine")
    envelope = {"version": "0", "id": "5b0c7a3e-0000-4000-8000-00000000c0d1", "detail-type": event["detail-type"],
                "source": event["source"], "account": "123456789012", "time": "2026-12-02T00:00:00Z",
                "region": "us-east-1", "resources": [], "detail": event["detail"]}
    # EventBridge gave up on the workflow for this event: it waits in the rule targets' dead-letter queue.
    message_id = runtime.client("sqs").send_message(
        QueueUrl=runtime.physical("UndeliveredEvents", "AWS::SQS::Queue"), MessageBody=json.dumps(envelope),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in
                           (("TARGET_ARN", machine), ("ERROR_MESSAGE", "Throttled by Step Functions"))})["MessageId"]

    status, page = form_request("GET", console.url + "recovery")
    assert status == 200 and 'aria-current=page>Recovery</a>' in page
    row = re.search(r'<th scope="row">UndeliveredEvents<br>.*?</tr>', page).group(0)
    assert '<td class="num">1</td>' in row and "/recovery/dead-letters/UndeliveredEvents" in row

    assert form_request("GET", console.url + "queue")[0] == 200  # the work queue records the dead letter as an item
    status, item = form_request("GET", console.url + "queue/" + dead_letter_item_id("UndeliveredEvents", message_id))
    assert status == 200 and "Redrive its queue, UndeliveredEvents" in item
    action = html.unescape(re.search(r'action="([^"]*/recovery/dead-letters/UndeliveredEvents)"', item).group(1))
    url = urllib.parse.urljoin(console.url, action)
    executions = len(runtime.executions())

    status, plan = form_request("POST", url, {"csrf": csrf_of(item), "dryRun": "true"})
    assert status == 200 and "Dry run of UndeliveredEvents" in plan and "Nothing was changed" in plan
    assert message_id in plan and event["detail"]["eventId"] in plan and "Throttled by Step Functions" in plan
    assert waiting(runtime, "UndeliveredEvents") == 1 and len(runtime.executions()) == executions

    status, done = form_request("POST", url, {"csrf": csrf_of(item), "dryRun": "false"})
    assert status == 200 and "1 message(s) redriven" in done and "0 failed" in done, done
    assert f"<code>{message_id}</code> to StartExecution" in done and "1 work item(s) of these messages resolved" in done
    item = runtime.work_items().item(dead_letter_item_id("UndeliveredEvents", message_id))
    assert item.state == "resolved" and item.history[-1].actor == "console:operator@example.com"
    assert waiting(runtime, "UndeliveredEvents") == 0
    runtime.wait_settled()
    runtime.decide_all("approve")
    record = runtime.store().record(handoff_id_for(event["source"], event["detail"]["opportunity"]["id"]))
    assert record.status == "ACTIVATED" and record.event_id == event["detail"]["eventId"]


def test_a_quarantined_event_is_corrected_in_the_console_requeued_once_and_activates(
        runtime: EmbeddedRuntime, console: LocalConsole) -> None:  # noqa: F811
    bad = float_amount("con-requeue-float-amount", "con-requeue-1")
    runtime.publish([bad])
    runtime.wait_settled()
    [kept] = [q for q in runtime.quarantined() if q["event"]["detail"]["eventId"] == "con-requeue-1"]
    status, page = form_request("GET", console.url + "recovery")
    assert status == 200 and kept["key"] in page and "detail.opportunity.amount.value" in page
    url, csrf = console.url + "recovery/quarantine", csrf_of(page)
    quarantined_by = executions_of(runtime, "con-requeue-1")  # the execution whose AcceptEvent refused it

    status, refused = form_request("POST", url, {"csrf": csrf, "key": kept["key"], "event": '{"source": "crm.hubspot",'})
    assert status == 422 and re.search(r'role="alert">Nothing was done: event: not JSON \(line 1', refused)
    assert "{&quot;source&quot;: &quot;crm.hubspot&quot;,</textarea>" in refused  # what was typed is kept
    assert kept["key"] in {q["key"] for q in runtime.quarantined()}

    status, plan = form_request("POST", url, {"csrf": csrf, "dryRun": "true"})
    assert status == 200 and "0 event(s) would be requeued" in plan and "Nothing was changed" in plan
    assert re.search(re.escape(kept["key"]) + r"</code><ul><li><code>detail.opportunity.amount.value", plan)

    corrected = amount_corrected(kept["event"])
    fields = {"csrf": csrf, "key": kept["key"], "event": json.dumps(corrected, indent=2), "dryRun": "false"}
    status, done = form_request("POST", url, fields)
    assert status == 200 and "1 event(s) requeued; 0 still invalid" in done, done
    runtime.wait_settled()
    runtime.decide_all("approve")
    assert kept["key"] not in {q["key"] for q in runtime.quarantined()}
    status, again = form_request("POST", url, fields)
    assert status == 200 and "0 event(s) requeued" in again
    runtime.wait_settled()
    records = [r for r in runtime.records() if r.opportunity_id == "con-requeue-float-amount"]
    assert [(r.status, r.event_id) for r in records] == [("ACTIVATED", "con-requeue-1")]
    assert executions_of(runtime, "con-requeue-1") == quarantined_by + 1  # published once


def test_unknown_queues_bad_choices_and_operators_outside_platform_are_refused(
        runtime: EmbeddedRuntime, console: LocalConsole, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    status, page = form_request("GET", console.url + "recovery")
    csrf = csrf_of(page)
    status, missing = form_request("POST", console.url + "recovery/dead-letters/NoSuchQueue", {"csrf": csrf})
    assert status == 404 and "UndeliveredEvents" in missing
    status, bad = form_request("POST", console.url + "recovery/dead-letters/UndeliveredEvents",
                               {"csrf": csrf, "dryRun": "perhaps"})
    assert status == 422 and "dryRun" in bad
    status, _ = form_request("POST", console.url + "recovery/quarantine", {"csrf": "forged"})
    assert status == 403

    # A finance analyst signed in with Cognito (the pool's key served by this test instead of its JWKS URL).
    from tests.security.test_approver_binding import POOL_KEY, id_token

    monkeypatch.setattr(console_auth, "_JWKS", console_auth.JwksCache(lambda _url: {"keys": [
        POOL_KEY.as_dict(private=False)]}))
    runtime.lambdas.extra["CONSOLE_AUTH"] = "cognito"
    try:
        token = id_token(runtime, "analyst@example-consulting.com")
        cookie = {"Cookie": f"{console_auth.SESSION_COOKIE}={token}"}
        status, page = form_request("GET", console.url + "recovery", headers=cookie)
        assert status == 200 and "Only members of the Platform group" in page and "/recovery/dead-letters/" not in page
        operator = console_auth.verify_id_token(token, console_auth.CognitoConfig(
            region=REGION, user_pool_id=runtime.env("COGNITO_USER_POOL_ID"),
            client_id=runtime.env("COGNITO_CLIENT_ID"), domain=""))
        csrf = console_auth.csrf_token(operator, secret_key(runtime.env("CONSOLE_SECRET_ARN")))
        before = waiting(runtime, "UndeliveredEvents"), len(runtime.quarantined())
        for path, fields in (("recovery/dead-letters/UndeliveredEvents", {"dryRun": "false"}),
                             ("recovery/quarantine", {"dryRun": "false"})):
            status, answer = form_request("POST", console.url + path, {"csrf": csrf, **fields}, headers=cookie)
            assert status == 403 and "Only members of the Platform group" in answer, (path, status)
        assert (waiting(runtime, "UndeliveredEvents"), len(runtime.quarantined())) == before
    finally:
        runtime.lambdas.extra["CONSOLE_AUTH"] = "local"
