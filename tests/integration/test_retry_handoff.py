"""Retry of a FAILED handoff: the use case on moto's DynamoDB with a Step Functions that records
what it was asked to start."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.workflow import Workflow
from handoff.contracts import ExceptionEntry, HandoffStatus, parse_event
from handoff.domain.errors import HandoffNotFailed, IntegrationTransient
from handoff.domain.retry import CREATE_PROJECT, SYNC_CUSTOMER
from handoff.logic.retry_handoff import retry_handoff
from tests.conftest import load_raw
from tests.support.aws import create_handoff_table

REGION = "eu-west-1"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:handoff"
OPERATOR = "arn:aws:iam::123456789012:user/ops-anna"


class RecordingSfn:
    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.error: Exception | None = None

    def start_execution(self, **kwargs: Any) -> dict:
        if self.error:
            raise self.error
        self.started.append(kwargs)
        return {"executionArn": MACHINE.replace(":stateMachine:", ":execution:") + ":" + kwargs["name"]}


@pytest.fixture
def store() -> Iterator[HandoffStore]:
    with mock_aws():
        create_handoff_table("handoffs", REGION)
        yield HandoffStore(boto3.resource("dynamodb", region_name=REGION).Table("handoffs"))


def failed_handoff(store: HandoffStore, *steps: str) -> str:
    raw = load_raw("closed-won", "us-fixed-fee-advisory")
    handoff_id = store.register(parse_event(raw), raw, T0).handoff_id
    store.mark_provisioning(handoff_id)
    for step in steps:
        store.record_step(handoff_id, step, "SUCCEEDED", T0)
    store.set_exceptions(handoff_id, "CloseHandoff", [ExceptionEntry(
        code="INTEGRATION_FAILURE", severity="BLOCKING", step="Failed", message="ERP down")])
    store.set_status(handoff_id, HandoffStatus.FAILED)
    return handoff_id


def test_the_retry_starts_one_named_execution_and_records_who_asked(store: HandoffStore) -> None:
    handoff_id = failed_handoff(store, "SyncCustomerMaster")
    sfn = RecordingSfn()

    accepted = retry_handoff(handoff_id, OPERATOR, store=store, workflow=Workflow(sfn, MACHINE), now=T0)

    assert (accepted.retry, accepted.resume_at, accepted.status) == (1, CREATE_PROJECT, "PROVISIONING")
    [start] = sfn.started
    assert start["name"] == f"{handoff_id}-retry-1" and start["stateMachineArn"] == MACHINE
    record = store.record(handoff_id)
    assert record.status == "PROVISIONING" and record.exceptions == []
    retry = next(t for t in record.timeline if t.step == "Retry 1")
    assert OPERATOR in retry.detail and CREATE_PROJECT in retry.detail
    # A second click finds it no longer FAILED: refused, nothing started.
    with pytest.raises(HandoffNotFailed) as refused:
        retry_handoff(handoff_id, OPERATOR, store=store, workflow=Workflow(sfn, MACHINE), now=T0)
    assert refused.value.status == "PROVISIONING" and len(sfn.started) == 1


def test_when_step_functions_refuses_the_handoff_is_failed_again_and_can_be_retried(store: HandoffStore) -> None:
    handoff_id = failed_handoff(store)
    sfn = RecordingSfn()
    sfn.error = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "StartExecution")

    with pytest.raises(IntegrationTransient):
        retry_handoff(handoff_id, OPERATOR, store=store, workflow=Workflow(sfn, MACHINE), now=T0)
    record = store.record(handoff_id)
    assert record.status == "FAILED" and "did not start" in record.exceptions[0].message

    sfn.error = None
    accepted = retry_handoff(handoff_id, OPERATOR, store=store, workflow=Workflow(sfn, MACHINE), now=T0)
    assert accepted.retry == 2 and accepted.resume_at == SYNC_CUSTOMER
