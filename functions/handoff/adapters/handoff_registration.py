"""Registering a closed-won event with its handoff: a new handoff starts; a corrected event for a
BLOCKED one resumes it (a fix round); an event for a FAILED one retries it; the same event again, or
one for a handoff under way, is a duplicate. One transaction per registration; the execution that
took an event keeps it, so a retried AcceptEvent gets its own registration back. A mixin of
HandoffStore (adapters.handoff_store), on its table."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed
from handoff.adapters.handoff_index import YEARS_KEY, placement, search_attributes
from handoff.adapters.handoff_keys import RECORD, handoff_id_for, pk
from handoff.contracts import ClosedWonEvent, HandoffStatus
from handoff.contracts.timestamps import iso
from handoff.domain.errors import HandoffNotFailed
from handoff.domain.fix_loop import fix_round_step
from handoff.domain.retry import VALIDATE, RetryPlan, takes_new_deal
from handoff.domain.round_changes import summarise_round


@dataclass(frozen=True)
class Registration:
    handoff_id: str
    action: Literal["start", "resume", "retry", "duplicate"]
    status: str
    reason: str = ""
    resume_at: str | None = None  # where a retried handoff continues (a workflow state)



class HandoffRegistration:
    _table: Any

    def register(self, event: ClosedWonEvent, raw_event: dict, now: datetime, *,
                 execution_id: str | None = None) -> Registration:
        """`execution_id`: the workflow execution taking the event. Each acceptance is kept with it
        (`ACCEPTED#<eventId>`, in the same transaction), so a retry of the step in that execution
        (the first attempt's answer lost to a timeout or a throttled write after the commit) gets
        the same registration back; another execution with the same event is a duplicate."""
        detail = event.detail
        handoff_id = handoff_id_for(event.source, detail.opportunity.id)
        item = {
            "pk": pk(handoff_id),
            "sk": RECORD,
            "handoffId": handoff_id,
            "opportunityId": detail.opportunity.id,
            "eventId": detail.event_id,
            "eventIds": [detail.event_id],
            "source": event.source,
            "status": HandoffStatus.RECEIVED.value,
            "serviceLine": detail.opportunity.service_line,
            "region": detail.opportunity.region,
            "receivedAt": iso(now),
            "updatedAt": iso(now),
            "rework": 0,
            **search_attributes(event),
            **placement(handoff_id, now),
        }
        # The years the search reads when no filter narrows it (a set: the same year again adds nothing).
        self._table.update_item(Key=YEARS_KEY, UpdateExpression="ADD years :y",
                                ExpressionAttributeValues={":y": {item["receivedYear"]}})
        # The record and its deal in one transaction: a crash between two writes would leave a
        # handoff without its deal that every redelivery then takes for a duplicate.
        try:
            self._transact([
                {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": self._deal_item(handoff_id, raw_event)}},
                *self._accepted(handoff_id, detail.event_id, execution_id, "start", HandoffStatus.RECEIVED.value),
            ])
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            return self._on_existing(handoff_id, event, raw_event, now, execution_id)
        self.record_step(handoff_id, "AcceptEvent", "SUCCEEDED", now, detail=f"event {detail.event_id}")
        return Registration(handoff_id, "start", HandoffStatus.RECEIVED.value)

    @staticmethod
    def _accepted(handoff_id: str, event_id: str, execution_id: str | None, action: str, status: str,
                  resume_at: str | None = None) -> list[dict]:
        """The transaction item recording which execution took `event_id`, and what it was told."""
        if execution_id is None:
            return []
        item = {"pk": pk(handoff_id), "sk": f"ACCEPTED#{event_id}", "executionId": execution_id,
                "action": action, "status": status}
        if resume_at is not None:
            item["resumeAt"] = resume_at
        return [{"Put": {"Item": item}}]

    def _taken_by(self, handoff_id: str, event_id: str, execution_id: str | None) -> Registration | None:
        """The registration `execution_id` got for `event_id` on an earlier attempt, if it took it."""
        if execution_id is None:
            return None
        item = self._table.get_item(Key={"pk": pk(handoff_id), "sk": f"ACCEPTED#{event_id}"},
                                    ConsistentRead=True).get("Item")
        if item is None or item.get("executionId") != execution_id:
            return None
        return Registration(handoff_id, item["action"], item["status"], "the step retried",  # type: ignore[arg-type]
                            item.get("resumeAt"))

    def _on_existing(self, handoff_id: str, event: ClosedWonEvent, raw_event: dict, now: datetime,
                     execution_id: str | None = None) -> Registration:
        current = self._get(handoff_id)
        event_id = event.detail.event_id
        if event_id in current.get("eventIds", []):
            again = self._taken_by(handoff_id, event_id, execution_id)
            if again is not None:
                if again.action == "start":  # its timeline entry may not have been written
                    self.record_step(handoff_id, "AcceptEvent", "SUCCEEDED", now, detail=f"event {event_id}")
                return again
            return Registration(handoff_id, "duplicate", current["status"], "same event delivered again")
        if current["status"] == HandoffStatus.FAILED.value:
            return self._retry_on_event(handoff_id, event_id, raw_event, now, execution_id)
        if current["status"] != HandoffStatus.BLOCKED.value:
            self.record_step(handoff_id, f"IgnoredEvent {event_id}", "IGNORED", now,
                             detail=f"handoff is {current['status']}; only a BLOCKED handoff takes a corrected event")
            return Registration(handoff_id, "duplicate", current["status"], f"handoff already {current['status']}")
        # A corrected event for a blocked handoff: one more fix round on the same handoff.
        # The round and the corrected deal in one transaction: the eventId is used up only together
        # with the deal it brought. The last round's exceptions go with it (readiness writes its own
        # anew; an APPROVAL_TIMEOUT from CloseHandoff would otherwise outlive the round it blocked).
        exception_items = [item for item in self._query(handoff_id) if item["sk"].startswith("EXCEPTIONS#")]
        summary = search_attributes(event)  # the corrected deal's name, customer, owner and amount
        # Emptied, not deleted: no function is granted DeleteItem on the handoff table.
        last_round = [{"Put": {"Item": {"pk": pk(handoff_id), "sk": item["sk"], "step": item.get("step", ""),
                                        "exceptions": "[]"}}}
                      for item in exception_items if item.get("exceptions") != "[]"]
        blocking = [(e["code"], e.get("field")) for item in exception_items for e in json.loads(item["exceptions"])
                    if e.get("severity") == "BLOCKING"]
        previous_deal = self.raw_deal(handoff_id)
        try:
            self._transact([
                *last_round,
                {"Update": {
                    "Key": {"pk": pk(handoff_id), "sk": RECORD},
                    "UpdateExpression": "SET #s = :validating, eventId = :e, eventIds = list_append(eventIds, :es), "
                                        "rework = rework + :one, updatedAt = :now, " + ", ".join(
                                            f"#{n} = :{n}" for n in summary),
                    "ConditionExpression": "#s = :blocked AND NOT contains(eventIds, :e)",
                    "ExpressionAttributeNames": {"#s": "status", **{f"#{n}": n for n in summary}},
                    "ExpressionAttributeValues": {
                        ":validating": HandoffStatus.VALIDATING.value, ":blocked": HandoffStatus.BLOCKED.value,
                        ":e": event_id, ":es": [event_id], ":one": 1, ":now": iso(now),
                        **{f":{n}": v for n, v in summary.items()},
                    },
                }},
                {"Put": {"Item": self._deal_item(handoff_id, raw_event)}},
                *self._accepted(handoff_id, event_id, execution_id, "resume", HandoffStatus.VALIDATING.value),
            ])
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            # Another correction won the race: say so on the timeline, as for any ignored event.
            status = self._get(handoff_id)["status"]
            self.record_step(handoff_id, f"IgnoredEvent {event_id}", "IGNORED", now,
                             detail=f"another correction was taken first; the handoff is {status}")
            return Registration(handoff_id, "duplicate", status, "resubmitted concurrently")
        # Its own timeline entry per round: the blocked round stays visible.
        # With what changed and why it matters (advice only), also kept for the next fix request.
        fix_round = int(current.get("rework", 0)) + 1
        changes = summarise_round(previous_deal.get("detail", {}), raw_event.get("detail", {}), fix_round, blocking)
        self.record_step(handoff_id, fix_round_step("AcceptEvent", fix_round), "SUCCEEDED",
                         now, detail=f"corrected event {event_id}. {changes}")
        self.save(handoff_id, roundSummary=changes)
        return Registration(handoff_id, "resume", HandoffStatus.VALIDATING.value)

    def _retry_on_event(self, handoff_id: str, event_id: str, raw_event: dict, now: datetime,
                        execution_id: str | None = None) -> Registration:
        """A new CRM event for a FAILED handoff retries it (README "Retry a failed handoff"): with the
        event's deal while nothing was created from the stored one, else with the stored deal."""
        plan = self.plan_retry(handoff_id)
        new_deal = takes_new_deal(plan.resume_at)
        if new_deal:
            plan = RetryPlan(handoff_id, plan.retry, VALIDATE, HandoffStatus.VALIDATING)
        try:
            self.begin_retry(plan, f"CRM event {event_id}", now, event_id=event_id,
                             raw_event=raw_event if new_deal else None,
                             also=self._accepted(handoff_id, event_id, execution_id, "retry", plan.status.value,
                                                 plan.resume_at))
        except HandoffNotFailed as refused:  # another retry or event was first
            self.record_step(handoff_id, f"IgnoredEvent {event_id}", "IGNORED", now,
                             detail=f"another retry was taken first; the handoff is {refused.status}")
            return Registration(handoff_id, "duplicate", refused.status, "retried concurrently")
        return Registration(handoff_id, "retry", plan.status.value, "retry on a new event", plan.resume_at)
