"""Retry of a FAILED handoff, pure: where it resumes, what it is called, which deal it takes."""

import pytest

from handoff.contracts import HandoffStatus
from handoff.domain.errors import HandoffNotFailed
from handoff.domain.fix_loop import HandoffState
from handoff.domain.retry import (
    ACTIVATE,
    CREATE_PROJECT,
    LAUNCH_PACKET,
    PROVISION,
    SYNC_CUSTOMER,
    VALIDATE,
    plan_retry,
    resume_point,
    takes_new_deal,
)


@pytest.mark.parametrize(("gate", "succeeded", "expected"), [
    (False, [], VALIDATE),
    (False, ["SyncCustomerMaster"], VALIDATE),  # an older round's provisioning does not count
    (True, [], SYNC_CUSTOMER),
    (True, ["SyncCustomerMaster"], CREATE_PROJECT),
    (True, ["SyncCustomerMaster", "CreateProjectShell", "SetupBillingSchedule", "RequestStaffing"], PROVISION),
    (True, ["SyncCustomerMaster", "CreateProjectShell", "SetupBillingSchedule", "RequestStaffing",
            "RaisePurchaseRequisitions"], LAUNCH_PACKET),
    (True, ["SyncCustomerMaster", "CreateProjectShell", "SetupBillingSchedule", "RequestStaffing",
            "RaisePurchaseRequisitions", "AssembleLaunchPacket"], ACTIVATE),
])
def test_a_retry_resumes_at_the_first_step_that_has_not_succeeded(gate: bool, succeeded: list[str],
                                                                   expected: str) -> None:
    assert resume_point(gate, succeeded) == expected


def test_only_a_failed_handoff_is_retried_and_the_refusal_names_the_status() -> None:
    state = HandoffState("ho-1", "006", "crm.x", "ACTIVATED", 0, ())
    with pytest.raises(HandoffNotFailed, match="is ACTIVATED") as refused:
        plan_retry(state, 0, True, [])
    assert refused.value.status == "ACTIVATED"
    plan = plan_retry(HandoffState("ho-1", "006", "crm.x", "FAILED", 0, ()), 2, True, ["SyncCustomerMaster"])
    assert (plan.retry, plan.resume_at, plan.status) == (3, CREATE_PROJECT, HandoffStatus.PROVISIONING)
    assert plan.execution_name == "ho-1-retry-3"
    assert plan.execution_input() == {"handoffId": "ho-1", "resumeAt": CREATE_PROJECT, "retry": 3}


def test_a_new_deal_is_taken_only_while_nothing_was_made_from_the_stored_one() -> None:
    assert takes_new_deal(VALIDATE) and takes_new_deal(SYNC_CUSTOMER)
    assert not any(takes_new_deal(p) for p in (CREATE_PROJECT, PROVISION, LAUNCH_PACKET, ACTIVATE))


