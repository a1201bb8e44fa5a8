"""The work queue end to end on the embedded runtime: a blocked deal's exceptions reach the
intake through the SQS event source mapping; a bad message is retried alone and dead-lettered
while its batch-mates are taken; the digest mails each group once a day, dead letters included."""

import json
from datetime import UTC, datetime, timedelta

from handoff.adapters.handoff_store import handoff_id_for
from handoff.domain import work_items as wi
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw


def own_deal(name: str, tag: str) -> dict:
    event = load_raw("needs-fix", name)
    event["detail"]["opportunity"]["id"] = f"{tag}-{name}"
    event["detail"]["opportunity"]["name"] += f" [{tag}]"
    event["detail"]["eventId"] = f"{tag}-{name}-1"
    return event


def test_a_blocked_deal_becomes_a_work_item_once_and_bad_messages_dead_letter_alone(runtime: EmbeddedRuntime) -> None:
    event = own_deal("missing-tax-id", "wq1")
    runtime.publish([event])
    runtime.wait_settled()
    handoff_id = handoff_id_for(event["source"], event["detail"]["opportunity"]["id"])
    items = runtime.work_items().for_handoff(handoff_id)
    assert [(i.code, i.field, i.owner_group, i.state, i.fix_round) for i in items] == [
        ("INVALID_TAX_ID", "account.taxId", "data-steward", "open", 0)]
    assert items[0].due_at - items[0].created_at == timedelta(hours=wi.DEFAULT_SLA_HOURS["data-steward"])
    assert items[0].priority >= 500

    # The same message again (SQS is at least once) and a message that is not one, in one batch.
    sqs, url = runtime.client("sqs"), runtime.env("EXCEPTIONS_QUEUE_URL")
    redelivered = {"handoffId": handoff_id, "status": "BLOCKED", "fixRound": 0, "exceptions": [
        {"code": "INVALID_TAX_ID", "severity": "BLOCKING", "step": "ValidateReadiness", "field": "account.taxId",
         "message": items[0].message}]}
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": json.dumps(redelivered)},
                                                  {"Id": "b", "MessageBody": '{"status": "BLOCKED"}'}])
    runtime.wait_settled()
    assert [len(i.history) for i in runtime.work_items().for_handoff(handoff_id)] == [1]
    assert runtime.queue_messages("ExceptionsQueue") == []
    dead = runtime.queue_messages("ExceptionsDeadLetters")
    assert [m["Body"] for m in dead] == ['{"status": "BLOCKED"}']


def test_the_digest_mails_each_group_its_open_items_once_a_day_with_dead_letters(runtime: EmbeddedRuntime) -> None:
    runtime.publish([own_deal("unsigned-contract", "wq2")])
    undelivered = runtime.physical("UndeliveredEvents", "AWS::SQS::Queue")
    runtime.client("sqs").send_message(QueueUrl=undelivered, MessageBody=json.dumps(own_deal("missing-tax-id", "wq2")),
                                       MessageAttributes={"ERROR_MESSAGE": {"DataType": "String",
                                                                            "StringValue": "Lambda throttled"}})
    runtime.wait_settled()
    sent_before = len(runtime.emails())
    result = runtime.send_digests(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    assert result["sent"]["legal"] >= 1
    # The undelivered event is the platform's now, kept whole and still in its queue for a redrive.
    platform = runtime.work_items().open_items(("platform",))
    dead = [i for i in platform if i.kind == "dead-letter" and i.step == "UndeliveredEvents"]
    assert [(d.title, "Lambda throttled" in d.message) for d in dead] == [
        ("Opportunity Closed Won: Nordwerk Group - S/4 rollout, DACH and France [wq2]", True)]
    assert json.loads(dead[0].payload)["detail"]["eventId"] == "wq2-missing-tax-id-1"
    assert len(runtime.queue_messages("UndeliveredEvents")) == 1
    assert result["sent"]["platform"] == len(platform)
    digests = {m.to: m for m in runtime.emails()[sent_before:]}
    legal = digests["legal@example.com"]
    assert legal.subject.startswith("Work queue for Legal: ")
    assert "CONTRACT_NOT_SIGNED" in legal.text() and "[wq2]" in legal.text()
    assert "<table" in legal.html()
    assert "platform@example.com" in digests

    again = runtime.send_digests(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert again["sent"] == {} and len(runtime.emails()) == sent_before + len(digests)
    assert runtime.send_digests(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))["sent"]["legal"] >= 1
