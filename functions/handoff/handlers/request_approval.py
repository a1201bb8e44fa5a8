"""Request approval and wait for the decision: store the approval with its task token (never in a
URL, an email or a log) and email the approver one signed link. The workflow stays paused on
.waitForTaskToken until the approval API or the sweeper answers."""

from pydantic import BaseModel, ConfigDict, SecretStr

from handoff.adapters import aws
from handoff.adapters.approvals_store import ApprovalStore, signing_key
from handoff.adapters.mailer import Mailer, render_approval_request
from handoff.config import setting
from handoff.contracts import HandoffStatus
from handoff.domain.approvals import ApprovalRequirement, approval_link
from handoff.handlers._runtime import logger, now, step_handler, store


class ApprovalTask(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    handoffId: str
    approval: ApprovalRequirement
    taskToken: SecretStr


def request(task: ApprovalTask) -> dict:
    records = store()
    deal = records.deal(task.handoffId)
    approvals = ApprovalStore(aws.table(setting("HANDOFF_TABLE")))
    at = now()
    created = approvals.create_pending(task.handoffId, task.approval, deal, task.taskToken.get_secret_value(), at)
    approval = created.approval
    if created.created or approval.mailed_at is None:
        link = approval_link(setting("APPROVAL_BASE_URL"),
                             approval, signing_key(setting("APPROVAL_SECRET_ARN"), aws.client("secretsmanager")))
        Mailer(aws.client("ses"), setting("MAIL_FROM")).send(render_approval_request(approval, link))
        approvals.mark_mailed(approval.approval_id, at)
    records.set_status(task.handoffId, HandoffStatus.AWAITING_APPROVAL)
    logger.info("approval requested", extra={"handoff_id": task.handoffId, "kind": approval.kind,
                                             "approval_id": approval.approval_id, "approver": approval.approver})
    return {"approvalId": approval.approval_id}


handler = step_handler(ApprovalTask)(request)
