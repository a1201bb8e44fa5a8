"""Retry a FAILED handoff: from the operators' API (`POST /handoffs/{id}/retry`), the console's work
queue, or a resolved data-steward work item. Resumes at the step that failed (domain.retry) in a new
execution of the same workflow, named after the retry, so nothing done is done again.

    started = retry_handoff(handoff_id, caller_arn, store=..., workflow=..., now=...)

Raises HandoffNotFound (unknown id), HandoffNotFailed (any status but FAILED; `.status` names it),
IntegrationTransient (Step Functions did not take the execution: the handoff is FAILED again, retry)."""

from dataclasses import dataclass
from datetime import datetime

from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.workflow import ExecutionExists, Workflow
from handoff.domain.errors import IntegrationTransient


@dataclass(frozen=True)
class RetryStarted:
    handoff_id: str
    retry: int
    resume_at: str
    status: str
    execution_arn: str
    execution_name: str



def retry_handoff(handoff_id: str, caller: str | None, *, store: HandoffStore, workflow: Workflow,
                  now: datetime) -> RetryStarted:
    plan = store.plan_retry(handoff_id)
    # The store's conditional write first: of two retries racing, one gets here, the other a 409.
    store.begin_retry(plan, caller or "an unidentified caller", now)
    try:
        execution_arn = workflow.start(plan.execution_name, plan.execution_input())
    except ExecutionExists:
        # Left over from a retry whose start was reported failed but did start: it is running.
        execution_arn = f"{workflow.state_machine_arn.replace(':stateMachine:', ':execution:')}:{plan.execution_name}"
    except IntegrationTransient as exc:
        store.abandon_retry(plan, str(exc), now)
        raise
    return RetryStarted(handoff_id, plan.retry, plan.resume_at, plan.status.value, execution_arn, plan.execution_name)
