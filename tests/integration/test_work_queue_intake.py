"""The exceptions queue's consumer on moto: a batch with bad messages reports exactly those as
failures (ReportBatchItemFailures) and takes the rest in; a redelivered batch changes nothing; a
newer fix round resolves what it no longer reports."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.work_items_store import WorkItemStore
from handoff.contracts import HandoffStatus, parse_event
from handoff.domain import work_items as wi
from handoff.handlers import work_queue_intake
from tests.conftest import load_raw
from tests.support.aws import create_handoff_table, create_work_items_table, functions_on_moto

REGION = "eu-west-1"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:exceptions"


class Context:
    function_name = "WorkQueueIntake"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:WorkQueueIntake"
    aws_request_id = "3f0e1a2b-0000-4000-8000-000000000003"


@pytest.fixture
def handoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, WorkItemStore]]:
    with functions_on_moto(monkeypatch, REGION):
        create_handoff_table("handoffs", REGION)
        create_work_items_table("work-items", REGION)
        monkeypatch.setenv("HANDOFF_TABLE", "handoffs")
        monkeypatch.setenv("WORK_ITEMS_TABLE", "work-items")
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        store = HandoffStore(dynamodb.Table("handoffs"))
        deal = load_raw("needs-fix", "missing-tax-id")
        handoff_id = store.register(parse_event(deal), deal, T0).handoff_id
        store.set_status(handoff_id, HandoffStatus.BLOCKED)
        yield handoff_id, WorkItemStore(dynamodb.Table("work-items"))


def message(handoff_id: str, *codes: tuple[str, str], fix_round: int = 0) -> dict:
    return {"handoffId": handoff_id, "status": "BLOCKED", "priority": 900, "fixRound": fix_round,
            "exceptions": [{"code": code, "severity": "BLOCKING", "message": f"{field} is wrong",
                            "step": "ValidateReadiness", "field": field} for code, field in codes]}


def batch(*bodies: object) -> dict:
    return {"Records": [{
        "messageId": f"m-{i}", "receiptHandle": f"rh-{i}", "body": b if isinstance(b, str) else json.dumps(b),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN, "awsRegion": REGION,
    } for i, b in enumerate(bodies)]}


def test_only_the_bad_messages_are_reported_and_the_good_ones_become_items(handoff: tuple) -> None:
    handoff_id, items = handoff
    good = message(handoff_id, ("INVALID_TAX_ID", "account.taxId"), ("RATE_CARD_GAP", "contract.rateCard"))
    result = work_queue_intake.handler(batch(good, "not json", {"status": "BLOCKED", "exceptions": []},
                                             message("ho-00000000000000ff", ("MISSING_FIELD", "x"))), Context())
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m-1", "m-2", "m-3"]
    opened = sorted(items.open_items(), key=lambda i: i.code)
    assert [(i.code, i.owner_group, i.state, i.title) for i in opened] == [
        ("INVALID_TAX_ID", "data-steward", "open", opened[0].title), ("RATE_CARD_GAP", "finance", "open", opened[1].title)]
    assert "Nordwerk" in opened[0].title and opened[0].priority >= 500

    again = work_queue_intake.handler(batch(good), Context())  # SQS delivers at least once
    assert again == {"batchItemFailures": []}
    assert [len(i.history) for i in items.for_handoff(handoff_id)] == [1, 1]


def test_a_newer_round_resolves_what_it_no_longer_reports_and_reopens_what_comes_back(handoff: tuple) -> None:
    handoff_id, items = handoff
    work_queue_intake.handler(batch(message(handoff_id, ("INVALID_TAX_ID", "account.taxId"),
                                            ("RATE_CARD_GAP", "contract.rateCard"))), Context())
    tax = wi.item_id(handoff_id, "INVALID_TAX_ID", "account.taxId")
    rate = wi.item_id(handoff_id, "RATE_CARD_GAP", "contract.rateCard")
    work_queue_intake.handler(batch(message(handoff_id, ("INVALID_TAX_ID", "account.taxId"), fix_round=1)), Context())
    assert (items.item(tax).state, items.item(tax).fix_round) == ("open", 1)
    assert items.item(rate).state == "resolved" and "fix round 1" in items.item(rate).resolution
    work_queue_intake.handler(batch(message(handoff_id, ("RATE_CARD_GAP", "contract.rateCard"), fix_round=2)),
                              Context())
    assert [h.action for h in items.item(rate).history] == ["opened", "resolved", "reopened"]
    assert items.item(tax).state == "resolved"
    assert sorted(i.code for i in items.open_items()) == ["RATE_CARD_GAP"]


def test_when_every_message_fails_the_whole_batch_fails(handoff: tuple) -> None:
    with pytest.raises(Exception, match="All records failed"):
        work_queue_intake.handler(batch("{}", "[]"), Context())


def test_a_handoff_activated_event_resolves_what_is_still_open_about_it(handoff: tuple) -> None:
    handoff_id, items = handoff
    work_queue_intake.handler(batch(message(handoff_id, ("INVALID_TAX_ID", "account.taxId"))), Context())
    activated = {"version": "0", "id": "e-1", "source": "closed-won-handoff", "detail-type": "Handoff Activated",
                 "detail": {"handoffId": handoff_id, "opportunityId": "006X"}}
    assert work_queue_intake.handler(batch(activated, activated), Context()) == {"batchItemFailures": []}
    [item] = items.for_handoff(handoff_id)
    assert (item.state, item.resolution) == ("resolved", "fixed: the handoff activated")
    assert [h.action for h in item.history] == ["opened", "resolved"]
