"""The handoff store: one DynamoDB table holds each handoff's record, deal, step results,
timeline and exceptions under pk = HANDOFF#<id>. Step results are keyed by step name, so a
retried step overwrites its own entry instead of appending a second one."""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed as _condition_failed  # one check, every store
from handoff.adapters.handoff_index import YEARS_KEY, placement, search_attributes
from handoff.contracts import ClosedWonEvent, ExceptionEntry, HandoffRecord, HandoffStatus
from handoff.contracts.record import ApprovalEntry, TimelineEntry
from handoff.contracts.timestamps import iso
from handoff.domain.errors import HandoffNotFailed, HandoffNotFound
from handoff.domain.fix_loop import HandoffState, fix_round_step
from handoff.domain.retry import VALIDATE, RetryPlan, plan_retry, takes_new_deal
from handoff.domain.round_changes import summarise_round

RECORD = "RECORD"
DEAL = "DEAL"
PIPELINE = "PIPELINE"  # the newest stage change seen for the opportunity, kept with its handoff
# Complex values are stored as JSON text: amounts stay decimal strings, nothing turns into float.
_JSON_FIELDS = ("customer", "project", "billingSchedule", "staffingRequests", "purchaseRequisitions")


_HANDOFF_ID = re.compile(r"ho-[0-9a-f]{16}")


def handoff_id_for(source: str, opportunity_id: str) -> str:
    """One handoff per opportunity: the id is derived from it, so the conditional write dedupes."""
    return "ho-" + hashlib.sha256(f"{source}|{opportunity_id}".encode()).hexdigest()[:16]


def is_handoff_id(text: str) -> bool:
    return _HANDOFF_ID.fullmatch(text) is not None


def _pk(handoff_id: str) -> str:
    return f"HANDOFF#{handoff_id}"


@dataclass(frozen=True)
class Registration:
    handoff_id: str
    action: Literal["start", "resume", "retry", "duplicate"]
    status: str
    reason: str = ""
    resume_at: str | None = None  # where a retried handoff continues (a workflow state)


class HandoffStore:
    def __init__(self, table: Any):
        self._table = table

    # --- registration -------------------------------------------------------------------
    def register(self, event: ClosedWonEvent, raw_event: dict, now: datetime) -> Registration:
        detail = event.detail
        handoff_id = handoff_id_for(event.source, detail.opportunity.id)
        item = {
            "pk": _pk(handoff_id),
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
            ])
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            return self._on_existing(handoff_id, event, raw_event, now)
        self.record_step(handoff_id, "AcceptEvent", "SUCCEEDED", now, detail=f"event {detail.event_id}")
        return Registration(handoff_id, "start", HandoffStatus.RECEIVED.value)

    def _on_existing(self, handoff_id: str, event: ClosedWonEvent, raw_event: dict, now: datetime) -> Registration:
        current = self._get(handoff_id)
        event_id = event.detail.event_id
        if event_id in current.get("eventIds", []):
            return Registration(handoff_id, "duplicate", current["status"], "same event delivered again")
        if current["status"] == HandoffStatus.FAILED.value:
            return self._retry_on_event(handoff_id, event_id, raw_event, now)
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
        last_round = [{"Put": {"Item": {"pk": _pk(handoff_id), "sk": item["sk"], "step": item.get("step", ""),
                                        "exceptions": "[]"}}}
                      for item in exception_items if item.get("exceptions") != "[]"]
        blocking = [(e["code"], e.get("field")) for item in exception_items for e in json.loads(item["exceptions"])
                    if e.get("severity") == "BLOCKING"]
        previous_deal = self.raw_deal(handoff_id)
        try:
            self._transact([
                *last_round,
                {"Update": {
                    "Key": {"pk": _pk(handoff_id), "sk": RECORD},
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
            ])
        except ClientError as exc:
            if not _condition_failed(exc):
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

    def _retry_on_event(self, handoff_id: str, event_id: str, raw_event: dict, now: datetime) -> Registration:
        """A new CRM event for a FAILED handoff retries it (README "Retry a failed handoff"): with the
        event's deal while nothing was created from the stored one, else with the stored deal."""
        plan = self.plan_retry(handoff_id)
        new_deal = takes_new_deal(plan.resume_at)
        if new_deal:
            plan = RetryPlan(handoff_id, plan.retry, VALIDATE, HandoffStatus.VALIDATING)
        try:
            self.begin_retry(plan, f"CRM event {event_id}", now, event_id=event_id,
                             raw_event=raw_event if new_deal else None)
        except HandoffNotFailed as refused:  # another retry or event was first
            self.record_step(handoff_id, f"IgnoredEvent {event_id}", "IGNORED", now,
                             detail=f"another retry was taken first; the handoff is {refused.status}")
            return Registration(handoff_id, "duplicate", refused.status, "retried concurrently")
        return Registration(handoff_id, "retry", plan.status.value, "retry on a new event", plan.resume_at)

    # --- retry of a FAILED handoff ------------------------------------------------------------
    def plan_retry(self, handoff_id: str) -> RetryPlan:
        """Where the handoff resumes (domain.retry), from one read of its items."""
        items = self._query(handoff_id)
        base = next((i for i in items if i["sk"] == RECORD), None)
        if base is None:
            raise HandoffNotFound(f"no handoff {handoff_id}")
        state = HandoffState(handoff_id=base["handoffId"], opportunity_id=base["opportunityId"], source=base["source"],
                             status=base["status"], rework=int(base.get("rework", 0)),
                             event_ids=tuple(base.get("eventIds", [])))
        gate = base.get("gatePassedRound")
        succeeded = [i["step"] for i in items if i["sk"].startswith("STEP#") and i["status"] == "SUCCEEDED"]
        return plan_retry(state, int(base.get("retries", 0)), gate is not None and int(gate) == state.rework,
                          succeeded)

    def begin_retry(self, plan: RetryPlan, by: str, now: datetime, *, event_id: str | None = None,
                    raw_event: dict | None = None) -> None:
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
        actions: list[dict] = [{"Put": {"Item": {"pk": _pk(plan.handoff_id), "sk": "EXCEPTIONS#CloseHandoff",
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
                "Key": {"pk": _pk(plan.handoff_id), "sk": RECORD},
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": "#s = :failed AND (attribute_not_exists(retries) OR retries = :prev)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values,
            }},
            {"Put": {"Item": {"pk": _pk(plan.handoff_id), "sk": f"STEP#Retry {plan.retry}", "step": f"Retry {plan.retry}",
                              "status": "STARTED", "at": iso(now), "detail": detail[:500]}}},
        ]
        try:
            self._transact(actions)
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            status = self.status(plan.handoff_id)
            raise HandoffNotFailed(f"handoff {plan.handoff_id} is {status}; only a FAILED handoff can be retried",
                                   status=status) from None

    def abandon_retry(self, plan: RetryPlan, reason: str, now: datetime) -> None:
        """The retry's execution did not start: FAILED again, saying why, so it can be retried."""
        try:
            self._table.update_item(
                Key={"pk": _pk(plan.handoff_id), "sk": RECORD}, UpdateExpression="SET #s = :failed",
                ConditionExpression="#s = :status AND retries = :n", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":failed": HandoffStatus.FAILED.value, ":status": plan.status.value,
                                           ":n": plan.retry})
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            return
        self.set_exceptions(plan.handoff_id, "CloseHandoff", [ExceptionEntry(
            code="PROCESSING_FAILURE", severity="BLOCKING", step="Retry", message=f"the retry did not start: {reason}"[:1000])])
        self.record_step(plan.handoff_id, f"Retry {plan.retry}", "FAILED", now, detail=reason[:500])

    def mark_provisioning(self, handoff_id: str) -> None:
        """PROVISIONING, and the round in which provisioning began: readiness and the approvals were
        passed in this round, so a retry resumes after them (domain.retry)."""
        self._table.update_item(
            Key={"pk": _pk(handoff_id), "sk": RECORD}, UpdateExpression="SET #s = :p, gatePassedRound = rework",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":p": HandoffStatus.PROVISIONING.value})

    # --- the deal -------------------------------------------------------------------------
    @staticmethod
    def _deal_item(handoff_id: str, raw_event: dict) -> dict:
        return {"pk": _pk(handoff_id), "sk": DEAL, "event": json.dumps(raw_event)}

    def _transact(self, actions: list[dict]) -> None:
        """TransactWriteItems on this table (the resource's client takes plain Python values)."""
        items = [{kind: {"TableName": self._table.name, **body} for kind, body in action.items()} for action in actions]
        self._table.meta.client.transact_write_items(TransactItems=items)

    def _deal_json(self, handoff_id: str) -> str:
        item = self._table.get_item(Key={"pk": _pk(handoff_id), "sk": DEAL}, ConsistentRead=True).get("Item")
        if item is None:
            raise HandoffNotFound(f"no deal stored for handoff {handoff_id}")
        return item["event"]

    def raw_deal(self, handoff_id: str) -> dict:
        """The deal's event as received (unknown CRM fields included)."""
        return json.loads(self._deal_json(handoff_id))

    def deal(self, handoff_id: str) -> ClosedWonEvent:
        return ClosedWonEvent.model_validate_json(self._deal_json(handoff_id))

    # --- progress ---------------------------------------------------------------------------
    def _get(self, handoff_id: str) -> dict:
        item = self._table.get_item(Key={"pk": _pk(handoff_id), "sk": RECORD}, ConsistentRead=True).get("Item")
        if item is None:
            raise HandoffNotFound(f"no handoff {handoff_id}")
        return item

    def round_summary(self, handoff_id: str) -> str | None:
        """What the latest fix round changed and why it matters (handoff.domain.round_changes)."""
        return self._get(handoff_id).get("roundSummary")

    def retries(self, handoff_id: str) -> int:
        """How many times the handoff was retried after failing."""
        return int(self._get(handoff_id).get("retries", 0))

    def status(self, handoff_id: str) -> str:
        return self._get(handoff_id)["status"]

    def state(self, handoff_id: str) -> HandoffState:
        item = self._get(handoff_id)
        return HandoffState(handoff_id=item["handoffId"], opportunity_id=item["opportunityId"], source=item["source"],
                            status=item["status"], rework=int(item.get("rework", 0)),
                            event_ids=tuple(item.get("eventIds", [])))

    def set_status(self, handoff_id: str, status: HandoffStatus, **fields: Any) -> None:
        self.save(handoff_id, status=status.value, **fields)

    def save(self, handoff_id: str, **fields: Any) -> None:
        """Store step results (customer, project, billingSchedule, ...) on the record."""
        if not fields:
            return
        fields.setdefault("updatedAt", datetime.now(UTC))
        names, values, sets = {}, {}, []
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = self._encode(name, value)
            sets.append(f"#f{i} = :f{i}")
        self._table.update_item(
            Key={"pk": _pk(handoff_id), "sk": RECORD},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    @staticmethod
    def _encode(name: str, value: Any) -> Any:
        if name in _JSON_FIELDS:
            return json.dumps(value)
        if isinstance(value, datetime):
            return iso(value)
        return value

    def record_step(self, handoff_id: str, step: str, status: str, at: datetime, *, detail: str | None = None) -> None:
        item = {"pk": _pk(handoff_id), "sk": f"STEP#{step}", "step": step, "status": status, "at": iso(at)}
        if detail:
            item["detail"] = detail
        self._table.put_item(Item=item)

    def record_step_once(self, handoff_id: str, step: str, status: str, at: datetime, *, detail: str) -> bool:
        """A timeline entry that is never overwritten (an audit note: who resubmitted). False if it exists."""
        item = {"pk": _pk(handoff_id), "sk": f"STEP#{step}", "step": step, "status": status, "at": iso(at),
                "detail": detail}
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def notice_sent(self, handoff_id: str, key: str) -> bool:
        return "Item" in self._table.get_item(Key={"pk": _pk(handoff_id), "sk": f"NOTICE#{key}"},
                                              ConsistentRead=True)

    def mark_notice_sent(self, handoff_id: str, key: str, message_id: str, at: datetime) -> None:
        self._table.put_item(Item={"pk": _pk(handoff_id), "sk": f"NOTICE#{key}", "messageId": message_id,
                                   "sentAt": iso(at)})

    def set_exceptions(self, handoff_id: str, step: str, exceptions: list[ExceptionEntry]) -> None:
        """Replace the exceptions a step raised (a re-run of the step replaces, never appends)."""
        # An empty list is written, not the item deleted: no function is granted DeleteItem on this table.
        key = {"pk": _pk(handoff_id), "sk": f"EXCEPTIONS#{step}"}
        payload = json.dumps([e.to_json_dict() for e in exceptions])
        self._table.put_item(Item={**key, "step": step, "exceptions": payload})

    def next_sequence(self, name: str) -> int:
        """An atomic counter (project code numbers); gaps are possible, duplicates are not."""
        item = self._table.update_item(
            Key={"pk": f"COUNTER#{name}", "sk": "COUNTER"}, UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"}, ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(item["Attributes"]["value"])

    # --- reporting ------------------------------------------------------------------------
    def record(self, handoff_id: str) -> HandoffRecord:
        items = self._query(handoff_id)
        base = next((i for i in items if i["sk"] == RECORD), None)
        if base is None:
            raise HandoffNotFound(f"no handoff {handoff_id}")
        timeline = [
            TimelineEntry(step=i["step"], status=i["status"], at=i["at"], detail=i.get("detail"))
            for i in items if i["sk"].startswith("STEP#")
        ]
        exceptions: list[ExceptionEntry] = []
        for i in items:
            if i["sk"].startswith("EXCEPTIONS#"):
                exceptions += [ExceptionEntry.model_validate(e) for e in json.loads(i["exceptions"])]
        approvals = []
        for i in items:
            if i["sk"].startswith("APPROVAL#"):
                approvals.append(_approval_entry(i))
                timeline += _approval_timeline(i)
        timeline.sort(key=lambda t: t.at)
        received = datetime.fromisoformat(base["receivedAt"])
        activated = datetime.fromisoformat(base["activatedAt"]) if base.get("activatedAt") else None
        fields = {name: json.loads(base[name]) for name in _JSON_FIELDS if name in base}
        return HandoffRecord.model_validate({
            "handoffId": base["handoffId"],
            "opportunityId": base["opportunityId"],
            "eventId": base["eventId"],
            "source": base["source"],
            "status": base["status"],
            "serviceLine": base["serviceLine"],
            "region": base["region"],
            **fields,
            "approvals": [a.to_json_dict() for a in approvals],
            "exceptions": [e.to_json_dict() for e in exceptions],
            "timeline": [t.to_json_dict() for t in timeline],
            "receivedAt": received,
            "activatedAt": activated,
            "durationSeconds": round((activated - received).total_seconds(), 3) if activated else None,
            "rework": int(base.get("rework", 0)),
            "launchPacket": base.get("launchPacket"),
        })

    # --- pipeline stage changes -----------------------------------------------------------------
    def advance_pipeline(self, source: str, opportunity_id: str, occurred_at: datetime, raw_event: dict,
                         now: datetime) -> bool:
        """Keep stage changes in the order the CRM made them: True when this event is at least as
        new as every one seen for the opportunity (the same event again counts, so a retry that
        failed after this write still applies it); False when a newer one was already seen. The
        newest event is kept whole (its id and time are in it), for latest_pipeline_event."""
        try:
            self._table.update_item(
                Key={"pk": _pk(handoff_id_for(source, opportunity_id)), "sk": PIPELINE},
                UpdateExpression="SET occurredAt = :at, updatedAt = :now, #event = :event",
                ConditionExpression="attribute_not_exists(occurredAt) OR occurredAt <= :at",
                ExpressionAttributeNames={"#event": "event"},
                ExpressionAttributeValues={":at": iso(occurred_at), ":now": iso(now), ":event": json.dumps(raw_event)},
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def latest_pipeline_event(self, source: str, opportunity_id: str) -> dict | None:
        """The newest stage change seen for the opportunity, as received."""
        item = self._table.get_item(Key={"pk": _pk(handoff_id_for(source, opportunity_id)), "sk": PIPELINE},
                                    ConsistentRead=True).get("Item")
        return json.loads(item["event"]) if item and "event" in item else None

    def handoff_ids(self) -> list[str]:
        """Every handoff (operator listing; a Scan is fine at this scale, the table is keyed for the flow)."""
        ids, kwargs = [], {}
        while True:
            page = self._table.scan(
                FilterExpression="sk = :r", ExpressionAttributeValues={":r": RECORD},
                ProjectionExpression="handoffId", **kwargs,
            )
            ids += [i["handoffId"] for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return sorted(ids)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query(self, handoff_id: str) -> list[dict]:
        items, kwargs = [], {}
        while True:
            page = self._table.query(KeyConditionExpression=Key("pk").eq(_pk(handoff_id)), ConsistentRead=True,
                                     **kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _approval_entry(item: dict) -> ApprovalEntry:
    return ApprovalEntry(
        kind=item["kind"], approver=item["approver"], decision=item["status"],
        decided_by=item.get("decidedBy"), decided_at=item.get("decidedAt"), comment=item.get("comment"),
        approval_id=item["approvalId"], reason=item.get("reason"), requested_at=item.get("createdAt"),
        expires_at=item.get("expiresAt"),
    )


def _approval_timeline(item: dict) -> list[TimelineEntry]:
    return [
        TimelineEntry(step=f"Approval {item['kind']}", status=str(entry.get("action", "")).upper(), at=entry["at"],
                      detail=entry.get("actor"))
        for entry in item.get("audit", [])
        if entry.get("action") != "viewed"
    ]
