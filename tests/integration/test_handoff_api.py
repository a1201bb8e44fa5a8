"""The operators' handoff API on moto (DynamoDB, S3, EventBridge with an SQS target standing in for the
state machine): read a handoff, resubmit a BLOCKED one, refuse the rest naming what is wrong."""

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from handoff.adapters.event_bus import EventBus
from handoff.adapters.handoff_store import HandoffStore
from handoff.contracts import HandoffStatus, parse_event
from handoff.handlers import handoff_api
from tests.conftest import load_raw
from tests.support.aws import create_handoff_table, functions_on_moto

REGION = "eu-west-1"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
OPERATOR = "arn:aws:iam::123456789012:user/ops-anna"


@dataclass
class Env:
    store: HandoffStore
    handoff_id: str
    deal: dict
    queue_url: str
    bucket: str

    def published(self) -> list[dict]:
        """The events the bus delivered (the SQS target sees what the state machine would)."""
        sqs = boto3.client("sqs", region_name=REGION)
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def quarantined(self) -> list[dict]:
        s3 = boto3.client("s3", region_name=REGION)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]
        return [json.loads(s3.get_object(Bucket=self.bucket, Key=k)["Body"].read()) for k in keys]


class Context:
    function_name = "HandoffApi"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:HandoffApi"
    aws_request_id = "3f0e1a2b-0000-4000-8000-000000000002"


def _bus_to_queue() -> str:
    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="handoffs-bus")
    url = sqs.create_queue(QueueName="delivered")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="closed-won", EventBusName="handoffs-bus", EventPattern=json.dumps(
        {"source": [{"prefix": "crm."}], "detail-type": ["Opportunity Closed Won"]}))
    events.put_targets(Rule="closed-won", EventBusName="handoffs-bus", Targets=[{"Id": "workflow", "Arn": arn}])
    return url


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with functions_on_moto(monkeypatch, REGION):
        create_handoff_table("handoffs", REGION)
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket="documents", CreateBucketConfiguration={"LocationConstraint": REGION})
        queue_url = _bus_to_queue()
        for name, value in {"HANDOFF_TABLE": "handoffs", "DOCUMENTS_BUCKET": "documents",
                            "EVENT_BUS_NAME": "handoffs-bus"}.items():
            monkeypatch.setenv(name, value)
        store = HandoffStore(boto3.resource("dynamodb", region_name=REGION).Table("handoffs"))
        deal = load_raw("needs-fix", "unsigned-contract")
        handoff_id = store.register(parse_event(deal), deal, T0).handoff_id
        store.set_status(handoff_id, HandoffStatus.BLOCKED)  # what CheckReadiness does with this deal
        yield Env(store, handoff_id, deal, queue_url, "documents")


def call(method: str, path: str, body: Any = None) -> tuple[int, dict, dict]:
    resource = "/handoffs/{handoffId}/resubmit" if path.endswith("/resubmit") else "/handoffs/{handoffId}"
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    headers = {"Host": "abc123.execute-api.eu-west-1.amazonaws.com", "Content-Type": "application/json"}
    event = {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"handoffId": path.split("/")[2]}, "stageVariables": None,
        "body": text, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "stage": "v1", "path": f"/v1{path}",
                           "requestId": "req-1", "identity": {"sourceIp": "10.0.0.7", "userArn": OPERATOR}},
    }
    response = handoff_api.handler(event, Context())
    headers = dict(response.get("headers") or {}) | {
        k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], json.loads(response["body"]), headers


def corrected(env: Env, event_id: str = "sf-evt-fixed") -> dict:
    raw = copy.deepcopy(env.deal)
    raw["detail"]["eventId"] = event_id
    raw["detail"]["contract"].update(status="signed", signedAt="2026-11-22T09:00:00Z")
    return raw


# --- GET ---------------------------------------------------------------------------------------------------
def test_get_returns_the_handoff_record_of_the_contract(env: Env) -> None:
    status, body, headers = call("GET", f"/handoffs/{env.handoff_id}")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert body == env.store.record(env.handoff_id).to_json_dict()
    assert (body["handoffId"], body["status"], body["opportunityId"]) == (env.handoff_id, "BLOCKED",
                                                                          "006Qy00000ApT5x1")
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("handoff_id", ["ho-0000000000000000", "ho-short", "HANDOFF%23x"])
def test_unknown_handoffs_are_404_for_both_routes(env: Env, handoff_id: str) -> None:
    assert call("GET", f"/handoffs/{handoff_id}")[0] == 404
    status, body, _ = call("POST", f"/handoffs/{handoff_id}/resubmit")
    assert status == 404 and handoff_id in body["message"]
    assert env.published() == []


# --- resubmit ----------------------------------------------------------------------------------------------
def test_a_corrected_event_goes_on_the_bus_for_the_normal_path(env: Env) -> None:
    fixed = corrected(env)
    status, body, headers = call("POST", f"/handoffs/{env.handoff_id}/resubmit", fixed)
    assert status == 202, body
    assert body == {"handoffId": env.handoff_id, "opportunityId": "006Qy00000ApT5x1", "eventId": "sf-evt-fixed",
                    "corrected": True, "status": "BLOCKED", "rework": 0, "fixRound": 1, "message": body["message"]}
    assert headers["Location"] == f"/v1/handoffs/{env.handoff_id}"
    [delivered] = env.published()
    assert (delivered["source"], delivered["detail-type"]) == ("crm.salesforce", "Opportunity Closed Won")
    assert delivered["detail"] == fixed["detail"]
    # The API itself writes nothing: AcceptEvent resumes the handoff when the event arrives.
    assert (env.store.state(env.handoff_id).status, env.store.state(env.handoff_id).rework) == ("BLOCKED", 0)


def test_without_a_body_the_stored_deal_is_resubmitted_under_the_rounds_event_id(env: Env) -> None:
    for body in (None, "", "  \n"):
        status, answer, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", body)
        assert status == 202 and answer["corrected"] is False and answer["fixRound"] == 1, answer
    delivered = env.published()
    assert len(delivered) == 3
    assert {d["detail"]["eventId"] for d in delivered} == {f"resubmit-{env.handoff_id}-1"}  # one event, three sends
    assert delivered[0]["detail"] == {**env.deal["detail"], "eventId": f"resubmit-{env.handoff_id}-1"}


@pytest.mark.parametrize("status", [HandoffStatus.VALIDATING, HandoffStatus.ACTIVATED, HandoffStatus.REJECTED])
def test_only_a_blocked_handoff_can_be_resubmitted(env: Env, status: HandoffStatus) -> None:
    env.store.set_status(env.handoff_id, status)
    for body in (None, corrected(env)):
        code, answer, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", body)
        assert code == 409 and answer["status"] == status.value and f"is {status.value}" in answer["message"]
    assert env.published() == []


def test_a_body_that_fails_the_contract_is_422_naming_the_fields_and_kept_in_quarantine(env: Env) -> None:
    broken = corrected(env, "sf-evt-broken")
    del broken["detail"]["contract"]["status"]
    broken["detail"]["opportunity"]["amount"]["value"] = 312000.0
    status, body, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", broken)
    assert status == 422
    assert {p["field"] for p in body["problems"]} == {"detail.contract.status", "detail.opportunity.amount.value"}
    assert "quarantine/" in body["message"] and body["status"] == "BLOCKED"
    [kept] = env.quarantined()
    assert kept["event"] == broken and kept["problems"] == body["problems"]
    assert env.published() == [] and env.store.state(env.handoff_id).status == "BLOCKED"


def test_a_body_that_is_not_json_is_422(env: Env) -> None:
    status, body, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", '{"source": "crm.salesforce",')
    assert status == 422 and body["problems"][0]["field"] == "(event)"
    assert "not valid JSON" in body["problems"][0]["message"]
    assert env.quarantined()[0]["event"] == '{"source": "crm.salesforce",'


@pytest.mark.parametrize("text", ["null", "[]", "42"])
def test_a_json_body_that_is_not_an_event_is_422_not_a_resubmission_of_the_stored_deal(env: Env, text: str) -> None:
    status, body, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", text)
    assert status == 422 and body["problems"][0]["field"] == "(event)", body
    assert env.published() == []


@pytest.mark.parametrize(("change", "code", "field"), [
    (lambda e: e["detail"]["opportunity"].update(id="006-another"), 422, "detail.opportunity.id"),
    (lambda e: e.update(source="crm.hubspot"), 422, "source"),
    (lambda e: e["detail"].update(eventId="sf-evt-20261121-0050"), 409, "detail.eventId"),
])
def test_an_event_that_cannot_continue_this_handoff_is_refused_naming_the_field(
        env: Env, change: Any, code: int, field: str) -> None:
    event = corrected(env)
    change(event)
    status, body, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", event)
    assert (status, body["problems"][0]["field"]) == (code, field), body
    assert env.published() == [] and env.quarantined() == []


class RefusingEvents:
    def put_events(self, **_kwargs: Any) -> dict:
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}]}


def test_when_the_bus_does_not_take_the_event_the_answer_is_503_and_nothing_changed(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handoff_api, "event_bus", lambda: EventBus(RefusingEvents(), "handoffs-bus"))
    status, body, headers = call("POST", f"/handoffs/{env.handoff_id}/resubmit", corrected(env))
    assert status == 503 and headers["Retry-After"] == "5" and "retry" in body["message"]
    assert env.store.state(env.handoff_id).status == "BLOCKED"


def test_a_corrected_event_over_the_bus_limit_is_413_with_the_sizes(env: Env) -> None:
    fixed = corrected(env)
    fixed["detail"]["contract"]["scope"] = "Implementation of the rollout. " * 9000  # about 280 KB of free text
    status, body, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", fixed)
    assert status == 413, body
    assert body["limit"] == 256 * 1024 and body["size"] > body["limit"]
    assert "at most 262144" in body["message"]
    assert env.published() == [] and env.store.state(env.handoff_id).status == "BLOCKED"
