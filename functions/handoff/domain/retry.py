"""Retry of a FAILED handoff: where it resumes and what the retry is called. Pure.

A handoff fails after a step ran out of retries (a system of record down for longer than the
Retry budget, a master-data conflict). Once the cause is fixed it resumes at the first step that
has not succeeded; every step before it is done and is not run again, and a step that is run again
finds what it already wrote (idempotency by handoff and step), so nothing is created twice.

Resume points are the workflow's own state names, so the retry execution's input reads like the
workflow (`{"handoffId", "resumeAt": "Create project shell", "retry": 2}`)."""

from collections.abc import Iterable
from dataclasses import dataclass

from handoff.contracts import HandoffStatus
from handoff.domain.errors import HandoffNotFailed
from handoff.domain.fix_loop import HandoffState

VALIDATE = "Validate readiness"
SYNC_CUSTOMER = "Sync customer master"
CREATE_PROJECT = "Create project shell"
PROVISION = "Set up billing, staffing and procurement"
LAUNCH_PACKET = "Assemble launch packet and notify delivery"
ACTIVATE = "Mark handoff activated"

# The provisioning steps in workflow order: (timeline steps that must have succeeded, the state that
# does them). The Parallel state is one resume point: branches already done replay their results.
PROVISIONING: tuple[tuple[tuple[str, ...], str], ...] = (
    (("SyncCustomerMaster",), SYNC_CUSTOMER),
    (("CreateProjectShell",), CREATE_PROJECT),
    (("SetupBillingSchedule", "RequestStaffing", "RaisePurchaseRequisitions"), PROVISION),
    (("AssembleLaunchPacket",), LAUNCH_PACKET),
    (("MarkActivated",), ACTIVATE),
)
RESUME_POINTS = (VALIDATE, *(state for _, state in PROVISIONING))
# The status a handoff shows while its retry runs: re-validating, or provisioning again.
STATUS_AT = {VALIDATE: HandoffStatus.VALIDATING, **{state: HandoffStatus.PROVISIONING for _, state in PROVISIONING}}


@dataclass(frozen=True)
class RetryPlan:
    handoff_id: str
    retry: int  # 1 for the first retry of this handoff
    resume_at: str  # a state of the workflow
    status: HandoffStatus  # what the handoff shows while the retry runs

    @property
    def execution_name(self) -> str:
        """One execution per retry: a second start under this name is refused, never run twice."""
        return f"{self.handoff_id}-retry-{self.retry}"

    def execution_input(self) -> dict[str, str | int]:
        return {"handoffId": self.handoff_id, "resumeAt": self.resume_at, "retry": self.retry}


def resume_point(gate_passed: bool, succeeded: Iterable[str]) -> str:
    """The first step that has not succeeded (`succeeded`: the timeline steps that did).
    `gate_passed`: provisioning began in the handoff's current round, so readiness and every
    approval were passed. Before that (the failure was in readiness or the approvals) the handoff
    re-validates, and the approvals are asked again, as in a fix round."""
    done = set(succeeded)
    if not gate_passed:
        return VALIDATE
    for steps, state in PROVISIONING:
        if not set(steps) <= done:
            return state
    return ACTIVATE  # everything recorded but the status: activation is idempotent


def plan_retry(state: HandoffState, retries: int, gate_passed: bool, succeeded: Iterable[str]) -> RetryPlan:
    """Refuses anything but a FAILED handoff, naming its status."""
    if state.status != HandoffStatus.FAILED.value:
        raise HandoffNotFailed(
            f"handoff {state.handoff_id} is {state.status}; only a FAILED handoff can be retried",
            status=state.status)
    resume_at = resume_point(gate_passed, succeeded)
    return RetryPlan(state.handoff_id, retries + 1, resume_at, STATUS_AT[resume_at])


def takes_new_deal(resume_at: str) -> bool:
    """A new CRM event for a FAILED handoff brings its deal in only while no system of record holds
    anything made from the stored one (the failure was before the customer was synced); then the
    handoff re-validates the new deal. Later, the stored deal stays: the customer, project and the
    rest were made from it."""
    return resume_at in (VALIDATE, SYNC_CUSTOMER)
