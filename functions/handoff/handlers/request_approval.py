"""Request approval and wait for the decision: store the approval, and its task token in the
task-token table (never in a URL, an email or a log) and email the approver one signed link. The workflow stays paused on
.waitForTaskToken until the approval API or the sweeper answers."""

from pydantic import BaseModel, ConfigDict, SecretStr

from handoff.adapters.from_settings import approval_requests, link_key, mailer, store
from handoff.adapters.mailer import render_approval_request
from handoff.clock import now
from handoff.contracts import HandoffStatus
from handoff.domain.approvals import ApprovalRequirement, approval_link
from handoff.handlers._step import step_handler
from handoff.observability import logger
from handoff.settings import settings


class ApprovalTask(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    handoffId: str
    approval: ApprovalRequirement
    taskToken: SecretStr


def request(task: ApprovalTask) -> dict:
    records, at = store(), now()
    state = records.state(task.handoffId)
    approvals = approval_requests()
    # Safe to retry: the approval of this kind and fix round is found again (and answers the new
    # attempt's task token); its email goes out once, marked as sent after SES took it.
    approval = approvals.create_pending(task.handoffId, task.approval, records.deal(task.handoffId),
                                        task.taskToken.get_secret_value(), at, fix_round=state.rework).approval
    if approval.mailed_at is None:
        link = approval_link(settings().approval_base_url, approval, link_key())
        mailer().send(render_approval_request(approval, link, now=at))
        approvals.mark_mailed(approval.approval_id, at)
    records.set_status(task.handoffId, HandoffStatus.AWAITING_APPROVAL)
    logger.info("approval requested", extra={"handoff_id": task.handoffId, "kind": approval.kind,
                                             "approval_id": approval.approval_id, "approver": approval.approver})
    return {"approvalId": approval.approval_id}


handler = step_handler(ApprovalTask)(request)
