"""The business dashboard's live metrics: RecordFacts turns the facts of a stream batch into EMF
data points (exceptions by code, approval decision time and timeouts by kind, received to
activated, fix rounds) once Firehose took the batch, and none when it did not."""

import json
from types import SimpleNamespace

import boto3
import pytest

from handoff.adapters.fact_metrics import live_metrics
from handoff.domain.facts import Fact, facts_from_change
from handoff.handlers import record_facts
from tests.integration.test_record_facts import PK, REGION, aws, stream_record  # noqa: F401 - the moto fixture

CONTEXT = SimpleNamespace(function_name="RecordFacts", memory_limit_in_mb=256, aws_request_id="r1",
                          invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:RecordFacts")
RECORD = {"pk": PK, "sk": "RECORD", "handoffId": "ho-0123456789abcdef", "opportunityId": "OPP-1",
          "serviceLine": "advisory", "region": "EMEA", "receivedAt": "2027-01-15T07:00:00.000Z", "rework": 0,
          "status": "BLOCKED"}
EXCEPTION = {"code": "INVALID_TAX_ID", "severity": "BLOCKING", "field": "account.taxId", "step": "ValidateReadiness",
             "ownerGroup": "sales-operations", "message": "bad tax id"}
APPROVAL = {"pk": PK, "sk": "APPROVAL#finance", "approvalId": "ap-1", "kind": "finance", "status": "PENDING",
            "createdAt": "2027-01-15T07:10:00.000Z"}


def batch() -> dict:
    exceptions = {"pk": PK, "sk": "EXCEPTIONS#1", "exceptions": json.dumps([EXCEPTION])}
    fixed = {**RECORD, "rework": 1, "status": "VALIDATING"}
    activated = {**fixed, "status": "ACTIVATED", "activatedAt": "2027-01-15T09:00:00.000Z"}
    return {"Records": [
        stream_record("e1", exceptions),
        stream_record("e2", {**exceptions, "exceptions": "[]"}, exceptions),
        stream_record("e3", fixed, RECORD),
        stream_record("e4", {**APPROVAL, "status": "APPROVED", "decidedAt": "2027-01-15T07:40:00.000Z"}, APPROVAL),
        stream_record("e5", {**APPROVAL, "sk": "APPROVAL#legal", "kind": "legal", "status": "EXPIRED",
                             "decidedAt": "2027-01-17T07:10:00.000Z"}, {**APPROVAL, "sk": "APPROVAL#legal",
                                                                         "kind": "legal"}),
        stream_record("e6", activated, fixed),
    ]}


def _emf(capsys: pytest.CaptureFixture[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith('{"_aws"'):
            data = json.loads(line)
            for metric in data["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                found.setdefault(metric["Name"], []).append(data)
    return found


@pytest.mark.usefixtures("aws")
def test_the_facts_of_a_delivered_batch_become_live_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert record_facts.handler(batch(), CONTEXT)["facts"] >= 6
    emf = _emf(capsys)
    [raised] = emf["ExceptionsRaised"]
    assert (raised["Code"], raised["Severity"], raised["ExceptionsRaised"]) == ("INVALID_TAX_ID", "BLOCKING", [1.0])
    assert [(m["Code"], m["ExceptionsResolved"]) for m in emf["ExceptionsResolved"]] == [("INVALID_TAX_ID", [1.0])]
    [approval] = emf["ApprovalDecisionSeconds"]
    assert (approval["ApprovalKind"], approval["ApprovalDecisionSeconds"]) == ("finance", [1800.0])
    assert [(m["ApprovalKind"], m["ApprovalsTimedOut"]) for m in emf["ApprovalsTimedOut"]] == [("legal", [1.0])]
    by_line, overall = emf["ReceivedToActivatedSeconds"]
    assert (by_line["ServiceLine"], by_line["ReceivedToActivatedSeconds"]) == ("advisory", [7200.0])
    assert overall["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert [(m["ServiceLine"], m["FixRoundsStarted"]) for m in emf["FixRoundsStarted"]] == [("advisory", [1.0])]


@pytest.mark.usefixtures("aws")
def test_a_batch_firehose_does_not_take_emits_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    boto3.client("firehose", region_name=REGION).delete_delivery_stream(DeliveryStreamName="facts")
    with pytest.raises(Exception, match="ResourceNotFound|not found"):
        record_facts.handler(batch(), CONTEXT)
    assert "ExceptionsRaised" not in _emf(capsys)


def test_synthetic_facts_make_no_live_metrics() -> None:
    from datetime import UTC, datetime

    facts = facts_from_change(None, {**RECORD, "synthetic": True, "sk": "EXCEPTIONS#1",
                                     "exceptions": json.dumps([EXCEPTION])},
                              at=datetime(2027, 1, 15, tzinfo=UTC), change_id="s1")
    assert facts and all(isinstance(f, Fact) and f.synthetic for f in facts)
    assert live_metrics(facts) == []
