"""Key rotation (issue 13, item 6): the rotation function's four steps against moto's Secrets Manager,
called as Secrets Manager calls them (moto cannot invoke a rotation Lambda without Docker); links
signed before a rotation work through the window and stop after it; a kid swap or an unknown kid
answers exactly like a bad signature; the cache never extends a retired key's life."""

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from handoff.adapters import signing_keys
from handoff.adapters.key_rotation import KeyRotation, RotationRefused
from handoff.domain.approvals import approval_link, sign
from handoff.domain.signing_keys import LEGACY_KID, parse_key_document
from handoff.handlers import rotate_signing_key
from tests.integration.test_approval_api import (  # noqa: F401  (env is a fixture)
    KEY,
    REGION,
    T0,
    Env,
    env,
    get,
    open_approval,
    post,
    with_param,
)
from tests.support.aws import forget_aws_clients

WINDOW = timedelta(days=90)


class _Context:
    function_name = "RotateSigningKey"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:RotateSigningKey"
    aws_request_id = "3f0e1a2b-0000-4000-8000-0000000000ff"


def _versions(client: Any, arn: str) -> dict[str, list[str]]:
    return client.describe_secret(SecretId=arn)["VersionIdsToStages"]


def _stage(client: Any, arn: str, stage: str) -> str:
    return client.get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"]


def _rotate(arn: str, token: str, *, steps: tuple[str, ...] = ("createSecret", "setSecret", "testSecret",
                                                               "finishSecret")) -> None:
    """The rotation function's handler, one invocation per step, with the event Secrets Manager sends."""
    for step in steps:
        rotate_signing_key.handler({"Step": step, "SecretId": arn, "ClientRequestToken": token}, _Context())


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("PREVIOUS_KEY_VALID_DAYS", "90")
    forget_aws_clients()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = client.create_secret(Name="approval-signing-key", SecretString="legacy-key-" * 6)["ARN"]
        monkeypatch.setenv("APPROVAL_SECRET_ARN", arn)
        yield client, arn
    forget_aws_clients()


# --- the four steps ------------------------------------------------------------------------------------
def test_the_four_steps_rotate_to_a_new_kid_and_keep_the_old_key_as_previous(secret: tuple) -> None:
    client, arn = secret
    [first] = _versions(client, arn)
    token = str(uuid.uuid4())
    _rotate(arn, token, steps=("createSecret",))
    assert _versions(client, arn) == {first: ["AWSCURRENT"], token: ["AWSPENDING"]}
    pending = parse_key_document(_stage(client, arn, "AWSPENDING"))
    assert pending.current.kid.startswith("k") and pending.current.kid != LEGACY_KID
    assert len(pending.current.secret) >= 64
    assert pending.previous is not None and pending.previous.kid == LEGACY_KID
    assert pending.previous.secret == ("legacy-key-" * 6).encode()
    _rotate(arn, token, steps=("setSecret", "testSecret", "finishSecret"))
    assert _versions(client, arn) == {first: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
    current = parse_key_document(_stage(client, arn, "AWSCURRENT"))
    assert current == pending

    # the next rotation: the first rotation's key becomes previous, the unversioned key is gone
    second = str(uuid.uuid4())
    _rotate(arn, second)
    ring = parse_key_document(_stage(client, arn, "AWSCURRENT"))
    assert ring.previous is not None and ring.previous.kid == pending.current.kid
    assert ring.current.kid not in (pending.current.kid, LEGACY_KID)
    assert _versions(client, arn)[token] == ["AWSPREVIOUS"] and _versions(client, arn)[second] == ["AWSCURRENT"]


def test_every_step_run_again_changes_nothing(secret: tuple) -> None:
    client, arn = secret
    token = str(uuid.uuid4())
    _rotate(arn, token, steps=("createSecret",))
    pending = _stage(client, arn, "AWSPENDING")
    _rotate(arn, token, steps=("createSecret", "setSecret", "setSecret", "testSecret", "testSecret"))
    assert _stage(client, arn, "AWSPENDING") == pending  # no second key made
    _rotate(arn, token, steps=("finishSecret",))
    versions = _versions(client, arn)
    for step in ("finishSecret", "createSecret", "testSecret", "finishSecret"):  # redelivered after the end
        _rotate(arn, token, steps=(step,))
        assert _versions(client, arn) == versions and _stage(client, arn, "AWSCURRENT") == pending


def test_steps_out_of_order_or_on_a_broken_pending_key_leave_the_current_key(secret: tuple) -> None:
    client, arn = secret
    before = _stage(client, arn, "AWSCURRENT")
    for step in ("setSecret", "testSecret"):
        with pytest.raises(RotationRefused, match="createSecret has not run"):
            _rotate(arn, str(uuid.uuid4()), steps=(step,))
    token = str(uuid.uuid4())
    broken = json.dumps({"kid": "k1", "key": "n" * 64})  # no previous: pending links would die at once
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=broken, VersionStages=["AWSPENDING"])
    with pytest.raises(RotationRefused, match="does not keep the current key"):
        _rotate(arn, token, steps=("testSecret",))
    assert _stage(client, arn, "AWSCURRENT") == before


def test_the_function_rotates_only_its_own_secret_and_refuses_a_malformed_event(secret: tuple) -> None:
    client, _arn = secret
    other = client.create_secret(Name="someone-elses", SecretString="x" * 64)["ARN"]
    with pytest.raises(RotationRefused, match="only the approval signing key"):
        _rotate(other, str(uuid.uuid4()))
    assert list(_versions(client, other).values()) == [["AWSCURRENT"]]
    with pytest.raises(ValidationError):
        rotate_signing_key.handler({"Step": "dropSecret", "SecretId": other, "ClientRequestToken": "t" * 36},
                                   _Context())



def test_made_up_kids_cost_one_secret_read_per_interval_and_a_new_kid_is_found(secret: tuple,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    client, arn = secret
    reads: list[str] = []
    signing_keys.forget()
    from handoff.adapters import aws

    aws.client("secretsmanager").meta.events.register("before-call.secrets-manager.GetSecretValue",
                                                      lambda **_: reads.append("read"))
    assert signing_keys.key_ring(arn).current.kid == LEGACY_KID and reads == ["read"]
    for n in range(20):  # an attacker's stream of kids: one re-read, then the cache answers
        assert signing_keys.key_ring(arn, kid=f"k-made-up-{n}").current.kid == LEGACY_KID
    assert reads == ["read", "read"]
    _rotate(arn, str(uuid.uuid4()))
    later = signing_keys.time.monotonic() + signing_keys.REFRESH_SECONDS  # the interval has passed
    monkeypatch.setattr(signing_keys.time, "monotonic", lambda: later)
    new_kid = parse_key_document(_stage(client, arn, "AWSCURRENT")).current.kid
    before = len(reads)  # the rotation read the secret too
    assert signing_keys.key_ring(arn, kid=new_kid).current.kid == new_kid  # a rotated-in key: re-read at once
    assert signing_keys.key_ring(arn, kid=new_kid).previous is not None and len(reads) == before + 1

# --- links across a rotation, through the approval API ----------------------------------------------------
def _rotate_env(env: Env, window: timedelta) -> str:
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.list_secrets()["SecretList"][0]["ARN"]
    KeyRotation(client, arn, window).run("createSecret", (token := str(uuid.uuid4())), T0)
    for step in ("setSecret", "testSecret", "finishSecret"):
        KeyRotation(client, arn, window).run(step, token, T0)  # type: ignore[arg-type]
    return arn


def test_a_pending_link_signed_before_a_rotation_works_after_it_and_stops_after_the_window(env: Env) -> None:
    _approval, link = open_approval(env)
    assert dict(parse_qsl(urlsplit(link).query))["sig"].startswith(f"{LEGACY_KID}.")
    assert get(link)[0] == 200  # the API has read (and cached) the key ring before the rotation
    _rotate_env(env, timedelta(hours=2))
    signing_keys.forget()  # the cache's max age has passed
    env.clock.now = T0 + timedelta(hours=1, minutes=59)
    assert get(link)[0] == 200
    env.clock.now = T0 + timedelta(hours=2)  # the ring read above is still cached: the window still ends
    status, body, _ = get(link)
    refused = get(with_param(link, "sig", "k0." + "A" * 43))
    assert status == 403 and (status, body) == refused[:2]
    assert post(link, "approve")[0] == 403 and env.sfn.calls == []


def test_a_link_signed_with_the_new_key_works_on_an_instance_that_cached_the_old_keys(env: Env) -> None:
    approval, link = open_approval(env)
    assert get(link)[0] == 200  # cached: only k0
    arn = _rotate_env(env, WINDOW)
    ring = parse_key_document(boto3.client("secretsmanager", region_name=REGION).get_secret_value(
        SecretId=arn)["SecretString"])
    new_link = approval_link("https://x.example/v1", approval, ring.current)
    assert get(new_link.replace("https://x.example/v1", link.split("/approvals/")[0]))[0] == 200
    status, body, _ = post(link, "approve", "signed under the old key, within the window")
    assert status == 200 and "Approved, thank you" in body


def test_kid_swap_unknown_kid_and_bad_signature_answer_the_same_403(env: Env) -> None:
    approval, link = open_approval(env)
    arn = _rotate_env(env, WINDOW)
    signing_keys.forget()
    mac = dict(parse_qsl(urlsplit(link).query))["sig"].split(".", 1)[1]
    ring = signing_keys.key_ring(arn)
    swapped = with_param(link, "sig", f"{ring.current.kid}.{mac}")  # old MAC under the new key's id
    unknown = with_param(link, "sig", f"k20991231-feedbeef.{mac}")
    retired = with_param(link, "sig", "k19990101-0000." + sign(approval.approval_id, approval.approver,
                                                              approval.expires_at, KEY.encode()).split(".")[1])
    bad = with_param(link, "sig", f"k0.{mac[::-1]}")
    answers = {name: get(url)[:2] for name, url in
               {"swapped": swapped, "unknown": unknown, "retired": retired, "bad": bad}.items()}
    assert {status for status, _ in answers.values()} == {403}
    assert len({body for _, body in answers.values()}) == 1
    for url in (swapped, unknown, retired, bad):
        assert post(url, "approve")[0] == 403
    assert env.store.get(approval.approval_id).status == "PENDING" and env.sfn.calls == []


# --- the deployment ---------------------------------------------------------------------------------------
def _of_type(template: dict, cfn_type: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type}


def test_the_signing_key_rotates_on_a_schedule_with_a_function_scoped_to_it(template: dict) -> None:
    from infra.key_rotation import PREVIOUS_KEY_VALID_DAYS, ROTATION_DAYS

    [(secret_id, secret)] = [(k, v) for k, v in _of_type(template, "AWS::SecretsManager::Secret").items()
                             if k.startswith("ApprovalSigningKey")]
    [schedule] = _of_type(template, "AWS::SecretsManager::RotationSchedule").values()
    props = schedule["Properties"]
    assert props["SecretId"] == {"Ref": secret_id}
    assert props["RotationRules"] == {"ScheduleExpression": f"rate({ROTATION_DAYS} days)"}
    assert props["RotateImmediatelyOnUpdate"] is False
    function_id = props["RotationLambdaARN"]["Fn::GetAtt"][0]
    function = template["Resources"][function_id]["Properties"]
    assert function["Handler"] == "handoff.handlers.rotate_signing_key.handler"
    assert function["Environment"]["Variables"]["PREVIOUS_KEY_VALID_DAYS"] == str(PREVIOUS_KEY_VALID_DAYS)
    # Only Secrets Manager, for this account, may invoke it.
    [permission] = [p["Properties"] for p in _of_type(template, "AWS::Lambda::Permission").values()
                    if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}]
    assert permission["Principal"] == "secretsmanager.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    # Its role touches that secret and nothing else of Secrets Manager (no GetRandomPassword on "*").
    role = function["Role"]["Fn::GetAtt"][0]
    statements = [s for p in _of_type(template, "AWS::IAM::Policy").values()
                  if {"Ref": role} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]
    secrets_statements = [s for s in statements if any(str(a).startswith("secretsmanager:") for a in
                                                      (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    assert [sorted(s["Action"]) for s in secrets_statements] == [[
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage"]]
    assert [s["Resource"] for s in secrets_statements] == [{"Ref": secret_id}]
    assert not any(s["Resource"] == "*" for s in statements if s.get("Effect") == "Allow"
                   and not str(s["Action"]).startswith(("xray:", "['xray:")))
    assert "GenerateSecretString" in secret["Properties"]  # the first key: unversioned (k0), never regenerated


def test_the_window_outlasts_every_link_a_key_signs_and_fits_between_rotations() -> None:
    from handoff.domain.packet_link import LINK_VALIDITY
    from infra.key_rotation import PREVIOUS_KEY_VALID_DAYS, ROTATION_DAYS

    assert timedelta(days=PREVIOUS_KEY_VALID_DAYS) >= LINK_VALIDITY  # the longest link: a launch packet's
    assert PREVIOUS_KEY_VALID_DAYS <= ROTATION_DAYS  # one previous key only


def test_cdk_nag_finds_the_signing_key_rotated_not_acknowledged(synthesized: dict) -> None:
    stack = synthesized["stack"]
    secret = stack.approval_secret.node.default_child
    suppressed = (secret.get_metadata("cdk_nag") or {}).get("rules_to_suppress", [])
    assert not [r for r in suppressed if r["id"] == "AwsSolutions-SMG4"]
    findings = [m for m in synthesized["messages"] if "SMG4" in str(m.entry.data)]
    assert findings == []
