"""Request approval and wait for the decision: store the approval with its task token (never in a
URL, an email or a log) and email the approver one signed link. The workflow stays paused on
.waitForTaskToken until the approval API or the sweeper answers."""

from pydantic import BaseModel, ConfigDict, SecretStr

from handoff.adapters import aws
from handoff.adapters.approvals_store import ApprovalStore, request_approval, signing_key
from handoff.adapters.from_settings import store
from handoff.adapters.mailer import Mailer
from handoff.clock import now
from handoff.contracts import HandoffStatus
from handoff.domain.approvals import ApprovalRequirement
from handoff.handlers._step import step_handler
from handoff.observability import logger
from handoff.settings import settings


class ApprovalTask(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    handoffId: str
    approval: ApprovalRequirement
    taskToken: SecretStr


def request(task: ApprovalTask) -> dict:
    records = store()
    state = records.state(task.handoffId)
    # Safe to retry: the approval of this kind and fix round is found again (and answers the new
    # attempt's task token); its email goes out once.
    approval = request_approval(
        ApprovalStore(aws.table(settings().handoff_table)), Mailer(aws.client("ses"), settings().mail_from),
        handoff_id=task.handoffId, requirement=task.approval, event=records.deal(task.handoffId),
        task_token=task.taskToken.get_secret_value(),
        key=signing_key(settings().approval_secret_arn, aws.client("secretsmanager")),
        base_url=settings().approval_base_url, now=now(), fix_round=state.rework)
    records.set_status(task.handoffId, HandoffStatus.AWAITING_APPROVAL)
    logger.info("approval requested", extra={"handoff_id": task.handoffId, "kind": approval.kind,
                                             "approval_id": approval.approval_id, "approver": approval.approver})
    return {"approvalId": approval.approval_id}


handler = step_handler(ApprovalTask)(request)
