"""Reading a handoff whole: its items (record, step results, timeline, exceptions, approvals) put
together as the public HandoffRecord (docs/contract.md section 3), and the list of every handoff. A
mixin of HandoffStore (adapters.handoff_store), on its table."""

import json
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from handoff.adapters.dynamodb_pages import every_item
from handoff.adapters.handoff_keys import JSON_FIELDS, RECORD, pk
from handoff.contracts import ExceptionEntry, HandoffRecord
from handoff.contracts.record import ApprovalEntry, TimelineEntry
from handoff.domain.errors import HandoffNotFound


class HandoffRecordView:
    _table: Any

    def record(self, handoff_id: str) -> HandoffRecord:
        items, base = self._items(handoff_id)
        return record_from_items(base, items)

    def handoff_ids(self) -> list[str]:
        """Every handoff (operator listing; a Scan is fine at this scale, the table is keyed for the flow)."""
        items = every_item(self._table.scan, FilterExpression="sk = :r", ExpressionAttributeValues={":r": RECORD},
                           ProjectionExpression="handoffId")
        return sorted(i["handoffId"] for i in items)

    def _items(self, handoff_id: str) -> tuple[list[dict], dict]:
        """Every item of the handoff, and its RECORD item among them (HandoffNotFound without one)."""
        items = self._query(handoff_id)
        base = next((i for i in items if i["sk"] == RECORD), None)
        if base is None:
            raise HandoffNotFound(f"no handoff {handoff_id}")
        return items, base

    def _query(self, handoff_id: str) -> list[dict]:
        return list(every_item(self._table.query, KeyConditionExpression=Key("pk").eq(pk(handoff_id)), ConsistentRead=True))


def record_from_items(base: dict, items: list[dict]) -> HandoffRecord:
    """The public record from the RECORD item and the handoff's other items."""
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
    fields = {name: json.loads(base[name]) for name in JSON_FIELDS if name in base}
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
