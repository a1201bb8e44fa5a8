"""One decision for every store: a failed condition is a lost race (an answer); a transaction
conflict or a throttle is transient (Store.Transient, retried by the workflow), never a lost race."""

from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.dynamodb_errors import condition_failed, transient, transient_as_named
from handoff.adapters.task_tokens import TaskTokens
from handoff.domain.errors import StoreTransient
from tests.integration.test_approval_api import HANDOFF, REGION, T0, TOKEN, requirements
from tests.support.aws import create_handoff_table, create_task_tokens_table, forget_aws_clients


def error(code: str, *reasons: str) -> ClientError:
    response: dict = {"Error": {"Code": code, "Message": "m"}}
    if reasons:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "TransactWriteItems")


@pytest.mark.parametrize(("exc", "lost", "retry"), [
    (error("ConditionalCheckFailedException"), True, False),
    (error("TransactionCanceledException", "ConditionalCheckFailed", "None"), True, False),
    (error("TransactionCanceledException", "None", "TransactionConflict"), False, True),
    # A failed condition decides: retrying cannot make it pass.
    (error("TransactionCanceledException", "TransactionConflict", "ConditionalCheckFailed"), True, False),
    (error("TransactionCanceledException", "ThrottlingError", "None"), False, True),
    (error("TransactionCanceledException", "ValidationError"), False, False),
    (error("ThrottlingException"), False, True),
    (error("ProvisionedThroughputExceededException"), False, True),
    (error("RequestLimitExceeded"), False, True),
    (error("InternalServerError"), False, True),
    (error("ValidationException"), False, False),
])
def test_condition_failed_and_transient(exc: ClientError, lost: bool, retry: bool) -> None:
    assert condition_failed(exc) is lost
    assert transient(exc) is retry


def test_a_transient_error_is_raised_as_store_transient_and_others_pass_through() -> None:
    with pytest.raises(StoreTransient, match="TransactionConflict") as raised:
        with transient_as_named():
            raise error("TransactionCanceledException", "TransactionConflict", "None")
    assert type(raised.value).__name__ == "Store.Transient"  # what Lambda reports as errorType
    with pytest.raises(ClientError):
        with transient_as_named():
            raise error("ConditionalCheckFailedException")


def test_the_approvals_store_takes_a_transaction_conflict_for_a_retry_not_a_lost_race(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    forget_aws_clients()
    with mock_aws():
        create_handoff_table("handoffs", REGION)
        create_task_tokens_table("task-tokens", REGION)
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        store = ApprovalStore(dynamodb.Table("handoffs"), TaskTokens(dynamodb.Table("task-tokens")))
        event, found = requirements()
        escalating = next(r for r in found if r.escalation_approver is not None)
        approval = store.create_pending(HANDOFF, escalating, event, TOKEN, T0).approval

        def conflict(**_kwargs: object) -> None:
            raise error("TransactionCanceledException", "TransactionConflict", "None")

        monkeypatch.setattr(store._table.meta.client, "transact_write_items", conflict)
        with pytest.raises(ClientError) as raised:
            store.escalate(approval.approval_id, T0 + timedelta(days=3))
        assert transient(raised.value)
        assert store.get(approval.approval_id).status == "PENDING"
