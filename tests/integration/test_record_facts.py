"""RecordFacts: a Lambda stream event of the handoff table becomes facts in Firehose (moto writes
them to S3), one JSON line each, and a call outcome kept by the ports becomes a CALL# item."""

import json
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from moto import mock_aws

from handoff.adapters.call_outcomes import CallLog, RecordedPort
from handoff.domain.errors import IntegrationTransient
from handoff.handlers import record_facts
from tests.support.aws import create_handoff_table, forget_aws_clients

REGION = "eu-west-1"
PK = "HANDOFF#ho-0123456789abcdef"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        forget_aws_clients()
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="facts", CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("firehose", region_name=REGION).create_delivery_stream(
            DeliveryStreamName="facts", ExtendedS3DestinationConfiguration={
                "BucketARN": "arn:aws:s3:::facts", "RoleARN": "arn:aws:iam::123456789012:role/x", "Prefix": "facts/"})
        monkeypatch.setenv("FACTS_DELIVERY_STREAM", "facts")
        yield
        forget_aws_clients()


def stream_record(event_id: str, new: dict, old: dict | None = None) -> dict:
    serialize = TypeSerializer().serialize
    body = {"ApproximateCreationDateTime": 1800000000.0, "SequenceNumber": "100",
            "NewImage": {k: serialize(v) for k, v in new.items()}}
    if old is not None:
        body["OldImage"] = {k: serialize(v) for k, v in old.items()}
    return {"eventID": event_id, "eventName": "MODIFY" if old else "INSERT", "dynamodb": body}


def test_stream_records_become_fact_lines_in_s3(aws: None) -> None:
    record = {"pk": PK, "sk": "RECORD", "handoffId": "ho-0123456789abcdef", "opportunityId": "OPP-1",
              "serviceLine": "advisory", "region": "EMEA", "receivedAt": "2027-01-15T07:00:00.000Z", "rework": 0,
              "status": "RECEIVED"}
    event = {"Records": [stream_record("e1", record),
                         stream_record("e2", {**record, "status": "VALIDATING"}, record)]}
    context = SimpleNamespace(function_name="RecordFacts", memory_limit_in_mb=256, aws_request_id="r1",
                              invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:RecordFacts")
    assert record_facts.handler(event, context) == {"records": 2, "facts": 2}
    s3 = boto3.client("s3", region_name=REGION)
    lines = [json.loads(line) for obj in s3.list_objects_v2(Bucket="facts")["Contents"]
             for line in s3.get_object(Bucket="facts", Key=obj["Key"])["Body"].read().decode().splitlines()]
    assert sorted((f["kind"], f["status"]) for f in lines) == [("received", "RECEIVED"),
                                                                ("status_changed", "VALIDATING")]


class Flaky:
    def create_schedule(self, code: str, *, idempotency_key: str) -> str:
        if code == "bad":
            raise IntegrationTransient("billing: 503")
        return "S-1"


def test_each_call_outcome_is_kept_with_its_handoff(aws: None) -> None:
    create_handoff_table("handoffs", REGION)
    table = boto3.resource("dynamodb", region_name=REGION).Table("handoffs")
    billing = RecordedPort(Flaky(), "billing", CallLog(table))
    assert billing.create_schedule("ok", idempotency_key="ho-0123456789abcdef:SetupBillingSchedule") == "S-1"
    with pytest.raises(IntegrationTransient):
        billing.create_schedule("bad", idempotency_key="ho-0123456789abcdef:SetupBillingSchedule")
    billing.create_schedule("ok", idempotency_key="pipeline:OPP-1:TrackPipeline")  # no handoff: not kept
    calls = [i for i in table.scan()["Items"] if i["sk"].startswith("CALL#")]
    assert sorted((c["pk"], c["system"], c["operation"], c["outcome"], c.get("error")) for c in calls) == [
        (PK, "billing", "create_schedule", "FAILED", "Integration.Transient"),
        (PK, "billing", "create_schedule", "SUCCEEDED", None)]
