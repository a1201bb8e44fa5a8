"""Retrying a FAILED handoff: the plan (where it resumes, handoff.domain.retry), its start (a
conditional write: one retry at a time) and its abandonment when the workflow could not start. A
mixin of HandoffStore (adapters.handoff_store), on its table."""

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed
from handoff.adapters.handoff_keys import RECORD, pk
from handoff.contracts import ExceptionEntry, HandoffStatus
from handoff.contracts.timestamps import iso
from handoff.domain.errors import HandoffNotFailed
from handoff.domain.fix_loop import HandoffState
from handoff.domain.retry import RetryPlan, plan_retry


class HandoffRetry:
    _table: Any

    def plan_retry(self, handoff_id: str) -> RetryPlan:
        """Where the handoff resumes (domain.retry), from one read of its items."""
        items, base = self._items(handoff_id)
        state = HandoffState(handoff_id=base["handoffId"], opportunity_id=base["opportunityId"], source=base["source"],
                             status=base["status"], rework=int(base.get("rework", 0)),
                             event_ids=tuple(base.get("eventIds", [])))
        gate = base.get("gatePassedRound")
        succeeded = [i["step"] for i in items if i["sk"].startswith("STEP#") and i["status"] == "SUCCEEDED"]
        return plan_retry(state, int(base.get("retries", 0)), gate is not None and int(gate) == state.rework,
                          succeeded)

    def begin_retry(self, plan: RetryPlan, by: str, now: datetime, *, event_id: str | None = None,
                    raw_event: dict | None = None, also: list[dict] | None = None) -> None:
        """FAILED -> the retry's status, in one transaction with its timeline entry (who asked, where
        it resumes) and without the failure's exception. The condition is the judge of races: of two
        retries, one passes, the other raises HandoffNotFailed with the status it found. With
        `raw_event`, the event's deal replaces the stored one as a new fix round."""
        sets = ["#s = :status", "retries = :n"]
        values: dict[str, Any] = {":status": plan.status.value, ":n": plan.retry, ":failed": HandoffStatus.FAILED.value,
                                  ":prev": plan.retry - 1}
        if event_id is not None:
            sets += ["eventIds = list_append(eventIds, :es)"]
            values[":es"] = [event_id]
        # The failure's exception is emptied, not deleted: the callers may put and update, not delete.
        actions: list[dict] = [{"Put": {"Item": {"pk": pk(plan.handoff_id), "sk": "EXCEPTIONS#CloseHandoff",
                                                 "step": "CloseHandoff", "exceptions": "[]"}}}]
        if raw_event is not None:
            sets += ["eventId = :e", "rework = rework + :one"]
            values |= {":e": event_id, ":one": 1}
            actions.append({"Put": {"Item": self._deal_item(plan.handoff_id, raw_event)}})
        detail = f"requested by {by}; resumes at {plan.resume_at!r}"
        if raw_event is not None:
            detail += " with the event's deal"
        elif event_id is not None:
            detail += " with the stored deal (systems of record hold what was made from it)"
        actions += [
            {"Update": {
                "Key": {"pk": pk(plan.handoff_id), "sk": RECORD},
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": "#s = :failed AND (attribute_not_exists(retries) OR retries = :prev)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values,
            }},
            {"Put": {"Item": {"pk": pk(plan.handoff_id), "sk": f"STEP#Retry {plan.retry}", "step": f"Retry {plan.retry}",
                              "status": "STARTED", "at": iso(now), "detail": detail[:500]}}},
            *(also or []),
        ]
        try:
            self._transact(actions)
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            status = self.status(plan.handoff_id)
            raise HandoffNotFailed(f"handoff {plan.handoff_id} is {status}; only a FAILED handoff can be retried",
                                   status=status) from None

    def abandon_retry(self, plan: RetryPlan, reason: str, now: datetime) -> None:
        """The retry's execution did not start: FAILED again, saying why, so it can be retried."""
        try:
            self._table.update_item(
                Key={"pk": pk(plan.handoff_id), "sk": RECORD}, UpdateExpression="SET #s = :failed",
                ConditionExpression="#s = :status AND retries = :n", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":failed": HandoffStatus.FAILED.value, ":status": plan.status.value,
                                           ":n": plan.retry})
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            return
        self.set_exceptions(plan.handoff_id, "CloseHandoff", [ExceptionEntry(
            code="PROCESSING_FAILURE", severity="BLOCKING", step="Retry", message=f"the retry did not start: {reason}"[:1000])])
        self.record_step(plan.handoff_id, f"Retry {plan.retry}", "FAILED", now, detail=reason[:500])
