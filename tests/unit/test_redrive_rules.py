"""The pure parts of a redrive: the queues' configuration, a dead letter's summary for a dry run,
the execution name a redriven event starts (one per message)."""

import json

import pytest

from handoff.domain.redrive import DeadLetter, RedriveConfigInvalid, execution_name, find, parse_config, queue_arn, summary

URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/Stack-ExceptionsDeadLettersQueue1-AbC"
SOURCE = "https://sqs.eu-west-1.amazonaws.com/123456789012/Stack-ExceptionsQueue1-XyZ"


def test_the_configuration_names_each_queue_with_its_source() -> None:
    queues = parse_config(json.dumps({"UndeliveredEvents": [URL.replace("Exceptions", "Undelivered"), "targets", ""],
                                      "ExceptionsDeadLetters": [URL, "queue", SOURCE],
                                      "TrackPipelineFailed": [URL + "2", "function", "Stack-TrackPipeline"]}))
    assert [(q.name, q.kind) for q in queues] == [("ExceptionsDeadLetters", "queue"),
                                                  ("TrackPipelineFailed", "function"), ("UndeliveredEvents", "targets")]
    exceptions = queues[0]
    assert exceptions.arn == "arn:aws:sqs:eu-west-1:123456789012:Stack-ExceptionsDeadLettersQueue1-AbC"
    assert exceptions.destination == "queue Stack-ExceptionsQueue1-XyZ"
    assert queues[1].destination == "function Stack-TrackPipeline (asynchronous invoke)"
    assert find(queues, "ExceptionsDeadLetters") is exceptions
    assert find(queues, "Stack-ExceptionsDeadLettersQueue1-AbC") is exceptions  # its own name works too
    assert find(queues, "Exceptions") is None


@pytest.mark.parametrize("text", ["[]", "{", '{"A": ["u", "topic", ""]}', '{"A": ["u", "queue"]}'])
def test_a_bad_configuration_is_refused(text: str) -> None:
    with pytest.raises(RedriveConfigInvalid, match="REDRIVE_QUEUES"):
        parse_config(text)


def test_queue_arns_follow_the_url_in_every_partition() -> None:
    assert queue_arn("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q") == "arn:aws-cn:sqs:cn-north-1:123456789012:q"


def test_a_dead_letter_is_summarised_by_what_it_is_for_whom_and_why() -> None:
    event = {"id": "e-1", "source": "crm.salesforce", "detail-type": "Opportunity Closed Won",
             "detail": {"eventId": "sf-evt-9", "opportunity": {"id": "006XYZ"}}}
    described = summary(DeadLetter("m-1", json.dumps(event), {"ERROR_MESSAGE": "x" * 500, "TARGET_ARN": "arn:t"}))
    assert described["summary"] == "Opportunity Closed Won crm.salesforce sf-evt-9 006XYZ"
    assert (described["eventId"], described["opportunityId"], described["target"]) == ("sf-evt-9", "006XYZ", "arn:t")
    assert len(described["error"]) == 160
    exception = summary(DeadLetter("m-2", '{"handoffId": "ho-1", "status": "BLOCKED"}', {}))
    assert exception["handoffId"] == "ho-1" and exception["summary"] == "ho-1"
    raw = summary(DeadLetter("m-3", "not json at all", {"ErrorMessage": "boom"}))
    assert raw["summary"] == "not json at all" and raw["error"] == "boom"


def test_a_redriven_event_starts_one_execution_per_message() -> None:
    body = json.dumps({"id": "4f1c2d3e-aaaa-bbbb-cccc-000000000001/../x"})
    first = execution_name(DeadLetter("0d9f4a1e-1111-2222-3333-444455556666", body, {}))
    assert first == execution_name(DeadLetter("0d9f4a1e-1111-2222-3333-444455556666", body, {}))
    assert first != execution_name(DeadLetter("0d9f4a1e-1111-2222-3333-444455556667", body, {}))
    assert len(first) <= 80 and all(c.isalnum() or c in "-_" for c in first)
