"""The approval sweep: for each pending approval that is due, remind once, then escalate once (new
approver, new signed link, the old link answers 410), then expire (the task fails with
Approval.TimedOut); a handoff that ended meanwhile has its requests withdrawn. Every step is a
conditional write first, so a re-run is harmless."""

from dataclasses import dataclass, field
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.mailer import Mailer, render_escalation, render_escalation_notice, render_reminder
from handoff.adapters.task_callback import TaskCallback
from handoff.contracts.record import SETTLED
from handoff.domain.approvals import Approval, approval_link, next_action, timeout_cause
from handoff.domain.signing_keys import SigningKey
from handoff.observability import logger, metrics


@dataclass
class SweepReport:
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sweeper:
    approvals: ApprovalStore
    handoffs: HandoffStore
    mailer: Mailer
    callback: TaskCallback
    key: SigningKey
    base_url: str

    def sweep(self, now: datetime) -> SweepReport:
        report = SweepReport()
        for approval in self.approvals.pending_due(now):
            action = next_action(approval, now)
            try:
                if action == "expire":
                    self._expire(approval, now, report)
                elif self._handoff_stopped(approval, now, report):
                    continue
                elif action == "remind":
                    self._remind(approval, now, report)
                elif action == "escalate":
                    self._escalate(approval, now, report)
            except Exception:
                logger.exception("approval sweep step failed",
                                 extra={"approval_id": approval.approval_id, "action": action})
                report.failed.append(approval.approval_id)
        return report

    def _link(self, approval: Approval) -> str:
        return approval_link(self.base_url, approval, self.key)

    def _handoff_stopped(self, approval: Approval, now: datetime, report: SweepReport) -> bool:
        """A handoff that ended (a sibling approval was rejected, it failed) needs no more reminders."""
        try:
            status = self.handoffs.status(approval.handoff_id)
        except LookupError:
            return False
        if status not in SETTLED:
            return False
        if self.approvals.expire(approval.approval_id, now, detail=f"handoff is {status}; request withdrawn"):
            report.withdrawn.append(approval.approval_id)
        return True

    def _remind(self, approval: Approval, now: datetime, report: SweepReport) -> None:
        if not self.approvals.mark_reminded(approval.approval_id, now):
            return  # reminded by an earlier run, or decided meanwhile
        try:
            self.mailer.send(render_reminder(approval, self._link(approval), now=now))
        except Exception:
            # Re-arm so the next run tries again rather than never reminding.
            self.approvals.schedule_reminder(approval.approval_id, approval.remind_at or now, now, "reminder not sent")
            raise
        metrics.add_metric(name="ApprovalsReminded", unit=MetricUnit.Count, value=1)
        report.reminded.append(approval.approval_id)

    def _escalate(self, approval: Approval, now: datetime, report: SweepReport) -> None:
        new = self.approvals.escalate(approval.approval_id, now)
        if new is None:
            return  # decided or escalated meanwhile
        metrics.add_metric(name="ApprovalsEscalated", unit=MetricUnit.Count, value=1)
        report.escalated.append(approval.approval_id)
        try:
            self.mailer.send(render_escalation(new, self._link(new), now=now))
        except Exception:
            # The new approval exists; arm its reminder now so the next run mails its link.
            self.approvals.schedule_reminder(new.approval_id, now, now, "escalation email not sent")
            raise
        self.approvals.mark_mailed(new.approval_id, now)
        try:
            self.mailer.send(render_escalation_notice(approval, new, now=now))
        except Exception:  # a courtesy note: its loss must not fail the escalation
            logger.exception("escalation notice to the first approver not sent")

    def _expire(self, approval: Approval, now: datetime, report: SweepReport) -> None:
        # Fail the task first: if Step Functions is unavailable nothing changes and the next run retries;
        # a task already gone (timed out, stopped) still gets its record closed.
        delivery = self.callback.fail(approval, "Approval.TimedOut", timeout_cause(approval))
        detail = "no answer in time" if delivery.delivered else f"no answer in time; task {delivery.gone_reason}"
        if self.approvals.expire(approval.approval_id, now, detail=detail):
            metrics.add_metric(name="ApprovalsExpired", unit=MetricUnit.Count, value=1)
            report.expired.append(approval.approval_id)
