"""Attacks on the operators' handoff API (moto DynamoDB, S3 and EventBridge): bodies that are not text,
bodies too large to be events. Answered with a named error, nothing kept, never a 500."""

import base64
import json

from tests.integration.test_handoff_api import OPERATOR, Context, Env, call, corrected, env, handoff_api  # noqa: F401


def _raw_call(env: Env, body: str, *, b64: bool) -> tuple[int, dict]:
    path = f"/handoffs/{env.handoff_id}/resubmit"
    resource = "/handoffs/{handoffId}/resubmit"
    event = {
        "resource": resource, "path": path, "httpMethod": "POST", "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"handoffId": env.handoff_id}, "stageVariables": None, "body": body,
        "isBase64Encoded": b64,
        "requestContext": {"resourcePath": resource, "httpMethod": "POST", "stage": "v1", "path": f"/v1{path}",
                           "requestId": "req-2", "identity": {"userArn": "arn:aws:iam::123456789012:user/x"}},
    }
    response = handoff_api.handler(event, Context())
    return response["statusCode"], json.loads(response["body"])


def test_resubmission_body_in_bad_base64_or_not_utf8_is_400(env: Env) -> None:
    for body in ("%%% not base64", base64.b64encode(b'{"source": "\xff"}').decode()):
        status, answer = _raw_call(env, body, b64=True)
        assert status == 400 and answer["problems"][0]["field"] == "body"
    assert env.published() == [] and env.quarantined() == []


def test_oversized_resubmission_is_413_and_nothing_is_quarantined(env: Env) -> None:
    huge = corrected(env)
    huge["detail"]["scope"]["summary"] = "x" * 400_000
    huge["detail"]["contract"]["status"] = 12  # invalid as well: still refused for its size, not kept
    status, answer, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", huge)
    assert status == 413 and answer["limit"] == 256 * 1024 and answer["size"] > 400_000
    assert env.published() == [] and env.quarantined() == []


def test_resubmission_records_the_callers_iam_identity_on_the_timeline(env: Env) -> None:
    fixed = corrected(env, "sf-evt-who")
    assert call("POST", f"/handoffs/{env.handoff_id}/resubmit", fixed)[0] == 202
    assert call("POST", f"/handoffs/{env.handoff_id}/resubmit")[0] == 202
    notes = {t.step: t for t in env.store.record(env.handoff_id).timeline if t.step.startswith("Resubmitted")}
    assert set(notes) == {"Resubmitted (fix round 1): sf-evt-who",
                          f"Resubmitted (fix round 1): resubmit-{env.handoff_id}-1"}
    assert all(OPERATOR in n.detail and n.status == "REQUESTED" for n in notes.values())
