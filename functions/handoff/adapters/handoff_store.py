"""The handoff store: one DynamoDB table holds each handoff's record, deal, step results,
timeline and exceptions under pk = HANDOFF#<id>. Step results are keyed by step name, so a
retried step overwrites its own entry instead of appending a second one.

This module holds the deal, the step results and timeline, and the stage-change cursor; the class
takes registration (adapters.handoff_registration), retry (adapters.handoff_retry) and the whole
record (adapters.handoff_record_view) from mixins on the same table; ids and keys are
adapters.handoff_keys."""

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed  # one check, every store
from handoff.adapters.handoff_keys import DEAL, JSON_FIELDS, PIPELINE, RECORD, handoff_id_for, is_handoff_id, pk
from handoff.adapters.handoff_record_view import HandoffRecordView, record_from_items
from handoff.adapters.handoff_registration import HandoffRegistration, Registration
from handoff.adapters.handoff_retry import HandoffRetry
from handoff.contracts import ClosedWonEvent, ExceptionEntry, HandoffRecord, HandoffStatus
from handoff.contracts.timestamps import iso
from handoff.domain.errors import HandoffNotFound
from handoff.domain.fix_loop import HandoffState


class HandoffStore(HandoffRegistration, HandoffRetry, HandoffRecordView):
    def __init__(self, table: Any):
        self._table = table

    def mark_provisioning(self, handoff_id: str) -> None:
        """PROVISIONING, and the round in which provisioning began: readiness and the approvals were
        passed in this round, so a retry resumes after them (domain.retry)."""
        self._table.update_item(
            Key={"pk": pk(handoff_id), "sk": RECORD}, UpdateExpression="SET #s = :p, gatePassedRound = rework",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":p": HandoffStatus.PROVISIONING.value})

    # --- the deal -------------------------------------------------------------------------
    @staticmethod
    def _deal_item(handoff_id: str, raw_event: dict) -> dict:
        return {"pk": pk(handoff_id), "sk": DEAL, "event": json.dumps(raw_event)}

    def _transact(self, actions: list[dict]) -> None:
        """TransactWriteItems on this table (the resource's client takes plain Python values)."""
        items = [{kind: {"TableName": self._table.name, **body} for kind, body in action.items()} for action in actions]
        self._table.meta.client.transact_write_items(TransactItems=items)

    def _deal_json(self, handoff_id: str) -> str:
        item = self._table.get_item(Key={"pk": pk(handoff_id), "sk": DEAL}, ConsistentRead=True).get("Item")
        if item is None:
            raise HandoffNotFound(f"no deal stored for handoff {handoff_id}")
        return item["event"]

    def raw_deal(self, handoff_id: str) -> dict:
        """The deal's event as received (unknown CRM fields included)."""
        return json.loads(self._deal_json(handoff_id))

    def deal(self, handoff_id: str) -> ClosedWonEvent:
        return ClosedWonEvent.model_validate_json(self._deal_json(handoff_id))

    # --- progress ---------------------------------------------------------------------------
    def results_so_far(self, handoff_id: str) -> HandoffRecord:
        """The RECORD item alone, as a HandoffRecord with an empty timeline, no exceptions and no
        approvals: what the steps stored (customer, project, billing, staffing, requisitions), read
        with one GetItem instead of a Query of every item (a provisioning step needs no more)."""
        return record_from_items(self._get(handoff_id), [])

    def _get(self, handoff_id: str) -> dict:
        item = self._table.get_item(Key={"pk": pk(handoff_id), "sk": RECORD}, ConsistentRead=True).get("Item")
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
            Key={"pk": pk(handoff_id), "sk": RECORD},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    @staticmethod
    def _encode(name: str, value: Any) -> Any:
        if name in JSON_FIELDS:
            return json.dumps(value)
        if isinstance(value, datetime):
            return iso(value)
        return value

    def record_step(self, handoff_id: str, step: str, status: str, at: datetime, *, detail: str | None = None) -> None:
        item = {"pk": pk(handoff_id), "sk": f"STEP#{step}", "step": step, "status": status, "at": iso(at)}
        if detail:
            item["detail"] = detail
        self._table.put_item(Item=item)

    def record_step_once(self, handoff_id: str, step: str, status: str, at: datetime, *, detail: str) -> bool:
        """A timeline entry that is never overwritten (an audit note: who resubmitted). False if it exists."""
        item = {"pk": pk(handoff_id), "sk": f"STEP#{step}", "step": step, "status": status, "at": iso(at),
                "detail": detail}
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def notice_sent(self, handoff_id: str, key: str) -> bool:
        return "Item" in self._table.get_item(Key={"pk": pk(handoff_id), "sk": f"NOTICE#{key}"},
                                              ConsistentRead=True)

    def mark_notice_sent(self, handoff_id: str, key: str, message_id: str, at: datetime) -> None:
        self._table.put_item(Item={"pk": pk(handoff_id), "sk": f"NOTICE#{key}", "messageId": message_id,
                                   "sentAt": iso(at)})

    def set_exceptions(self, handoff_id: str, step: str, exceptions: list[ExceptionEntry]) -> None:
        """Replace the exceptions a step raised (a re-run of the step replaces, never appends)."""
        # An empty list is written, not the item deleted: no function is granted DeleteItem on this table.
        key = {"pk": pk(handoff_id), "sk": f"EXCEPTIONS#{step}"}
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

    # --- pipeline stage changes -----------------------------------------------------------------
    def advance_pipeline(self, source: str, opportunity_id: str, occurred_at: datetime, raw_event: dict,
                         now: datetime) -> bool:
        """Keep stage changes in the order the CRM made them: True when this event is at least as
        new as every one seen for the opportunity (the same event again counts, so a retry that
        failed after this write still applies it); False when a newer one was already seen. The
        newest event is kept whole (its id and time are in it), for latest_pipeline_event."""
        try:
            self._table.update_item(
                Key={"pk": pk(handoff_id_for(source, opportunity_id)), "sk": PIPELINE},
                UpdateExpression="SET occurredAt = :at, updatedAt = :now, #event = :event",
                ConditionExpression="attribute_not_exists(occurredAt) OR occurredAt <= :at",
                ExpressionAttributeNames={"#event": "event"},
                ExpressionAttributeValues={":at": iso(occurred_at), ":now": iso(now), ":event": json.dumps(raw_event)},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def latest_pipeline_event(self, source: str, opportunity_id: str) -> dict | None:
        """The newest stage change seen for the opportunity, as received."""
        item = self._table.get_item(Key={"pk": pk(handoff_id_for(source, opportunity_id)), "sk": PIPELINE},
                                    ConsistentRead=True).get("Item")
        return json.loads(item["event"]) if item and "event" in item else None


__all__ = ["HandoffStore", "Registration", "handoff_id_for", "is_handoff_id"]
