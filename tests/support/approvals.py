"""Approvals requested as the workflow requests them: the deal registered as AcceptEvent does, then
the RequestApproval Lambda's own handler with the task the state machine sends (handoffId, one
approval requirement, the task token). Needs HANDOFF_TABLE, APPROVAL_SECRET_ARN, APPROVAL_BASE_URL
and MAIL_FROM (a verified SES identity) in the environment, under moto."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import boto3
import pytest

from handoff.adapters import aws
from handoff.adapters.handoff_store import HandoffStore, handoff_id_for
from handoff.adapters.task_tokens import TaskTokens
from handoff.contracts import parse_event
from handoff.domain.approvals import ApprovalRequirement
from handoff.handlers import request_approval as request_approval_handler
from tests.support.aws import create_handoff_table, create_task_tokens_table, functions_on_moto
from tests.support.fixtures import fixture_path

DEAL = "emea-milestone-erp-rollout"


def deal_handoff_id(name: str = DEAL) -> str:
    raw = json.loads(fixture_path("closed-won", name).read_text())
    return handoff_id_for(raw["source"], raw["detail"]["opportunity"]["id"])


def register_deal(table_name: str, at: datetime, name: str = DEAL) -> str:
    """The deal stored as AcceptEvent stores it; returns its handoff id (the same one again)."""
    raw = json.loads(fixture_path("closed-won", name).read_text())
    return HandoffStore(aws.table(table_name)).register(parse_event(json.dumps(raw)), raw, at).handoff_id


@contextmanager
def approvals_on_moto(monkeypatch: pytest.MonkeyPatch, *, region: str, secret: str, base_url: str, sender: str,
                      registered_at: datetime) -> Iterator[tuple[Any, TaskTokens]]:
    """moto holding what the approval functions read: the handoff table (with the deal registered
    at `registered_at`), the task-token table, the signing secret (`secret` as its SecretString),
    the sender verified in SES, and the functions' environment naming them (tests.support.aws.
    functions_on_moto). Yields (the handoff table, the task tokens)."""
    with functions_on_moto(monkeypatch, region):
        create_handoff_table("handoffs", region)
        create_task_tokens_table("task-tokens", region)
        dynamodb = boto3.resource("dynamodb", region_name=region)
        arn = boto3.client("secretsmanager", region_name=region).create_secret(
            Name="approval-signing-key", SecretString=secret)["ARN"]
        boto3.client("ses", region_name=region).verify_email_identity(EmailAddress=sender)
        for name, value in {"HANDOFF_TABLE": "handoffs", "TASK_TOKENS_TABLE": "task-tokens",
                            "APPROVAL_SECRET_ARN": arn, "APPROVAL_BASE_URL": base_url, "MAIL_FROM": sender}.items():
            monkeypatch.setenv(name, value)
        register_deal("handoffs", registered_at)
        yield dynamodb.Table("handoffs"), TaskTokens(dynamodb.Table("task-tokens"))


class _Context:
    function_name = "RequestApproval"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:RequestApproval"
    aws_request_id = "3f0e1a2b-0000-4000-8000-0000000000aa"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def request_approval(monkeypatch: pytest.MonkeyPatch, handoff_id: str, requirement: ApprovalRequirement,
                     task_token: str, at: datetime) -> dict[str, Any]:
    """Run the RequestApproval handler at `at`; returns its output ({"approvalId": ...})."""
    monkeypatch.setattr(request_approval_handler, "now", lambda: at)
    task = {"handoffId": handoff_id, "approval": requirement.model_dump(mode="json", by_alias=True),
            "taskToken": task_token}
    return request_approval_handler.handler(task, _Context())
