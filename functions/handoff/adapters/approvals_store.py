"""Approval records in the handoff table (layout: handoff.adapters.approval_items). Every transition
out of PENDING is a conditional write (status = PENDING), so exactly one decision, escalation or
expiry wins. The task token is not in this table: it is in the task-token table
(handoff.adapters.task_tokens), named by the approval's taskTokenRef, handed to Step Functions by
handoff.adapters.task_callback and nowhere else (never logged or returned). An approval stored before
that change may still carry its token here (taskToken): it is used as before, and moved out when a
retried request replaces it."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from handoff.adapters import approval_items as layout
from handoff.adapters.approval_items import MAX_VIEWS, new_approval_id
from handoff.adapters.dynamodb_errors import condition_failed
from handoff.adapters.task_tokens import TaskTokens
from handoff.contracts import ClosedWonEvent
from handoff.domain.approvals import (
    PENDING_GSI_PK,
    Approval,
    ApprovalRequirement,
    Status,
    escalated_approval,
    iso,
    new_approval,
    next_action,
    token_digest,
    token_kept_until,
)

__all__ = ["MAX_VIEWS", "ApprovalStore", "Created", "DecideResult", "new_approval_id"]


@dataclass(frozen=True)
class Created:
    approval: Approval
    created: bool  # False: this task token already had its approval (a retried request)


@dataclass(frozen=True)
class DecideResult:
    won: bool  # True: this call recorded the decision; False: see approval.status / decided_by / decided_at
    approval: Approval


class ApprovalStore:
    def __init__(self, table: Any, tokens: TaskTokens | None = None):
        self._table = table
        self._tokens = tokens  # only the request step stores tokens; readers need none

    def _put_token(self, approval: Approval, task_token: str) -> None:
        if self._tokens is None:
            raise RuntimeError("storing a task token needs the task-token table")
        self._tokens.put(approval.task_token_ref or approval.approval_id, task_token, handoff_id=approval.handoff_id,
                         digest=token_digest(task_token), keep_until=token_kept_until(approval))

    # --- reads ----------------------------------------------------------------------------------
    def get(self, approval_id: str) -> Approval | None:
        key = layout.key(approval_id)
        if key is None:
            return None
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return Approval.model_validate(item) if item else None

    def list_for_handoff(self, handoff_id: str) -> list[Approval]:
        items, kwargs = [], {}
        while True:
            page = self._table.query(
                KeyConditionExpression=Key("pk").eq(layout.pk(handoff_id)) & Key("sk").begins_with("APPROVAL#"),
                ConsistentRead=True, **kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted((Approval.model_validate(i) for i in items), key=lambda a: (a.created_at, a.level))

    def pending_due(self, now: datetime, lookahead: timedelta = timedelta(days=30)) -> list[Approval]:
        """Pending approvals with something to do now (remind, escalate, expire), via gsi1. The index
        is eventually consistent, so each candidate is re-read; the writes are conditional anyway.
        lookahead bounds the query: reminders fall due before expiresAt (gsi1sk)."""
        due, kwargs = [], {}
        while True:
            page = self._table.query(
                IndexName="gsi1",
                KeyConditionExpression=Key("gsi1pk").eq(PENDING_GSI_PK) & Key("gsi1sk").lte(iso(now + lookahead)),
                **kwargs)
            for item in page["Items"]:
                approval = self.get(item["sk"].removeprefix("APPROVAL#"))
                if approval and next_action(approval, now):
                    due.append(approval)
            if "LastEvaluatedKey" not in page:
                return sorted(due, key=lambda a: a.expires_at)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def pending(self) -> list[Approval]:
        """Every pending approval (gsi1), soonest due first; re-read, the index is eventually consistent."""
        found, kwargs = [], {}
        while True:
            page = self._table.query(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(PENDING_GSI_PK),
                                     **kwargs)
            found += [a for a in (self.get(i["sk"].removeprefix("APPROVAL#")) for i in page["Items"])
                      if a and a.status == "PENDING"]
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda a: a.expires_at)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def pending_requested_at(self) -> list[str]:
        """When each pending approval was requested (every one, via gsi1), for the pending gauges."""
        found, kwargs = [], {}
        while True:
            page = self._table.query(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(PENDING_GSI_PK),
                                     ProjectionExpression="createdAt", **kwargs)
            found += [item["createdAt"] for item in page["Items"] if item.get("createdAt")]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- creation -------------------------------------------------------------------------------
    def create_pending(self, handoff_id: str, requirement: ApprovalRequirement, event: ClosedWonEvent,
                       task_token: str, now: datetime, *, fix_round: int = 0) -> Created:
        """Idempotent per handoff, kind and fix round. A retried request (Step Functions gives every
        attempt a new task token) finds the approval it already created and points it at the new
        token, so the emailed link answers the attempt that waits; nothing is created or mailed
        again. A pending approval of the same kind from an earlier round (a re-run) is superseded."""
        digest = token_digest(task_token)
        for existing in self.list_for_handoff(handoff_id):
            if existing.kind != requirement.kind or existing.status != "PENDING":
                continue
            if existing.token_digest == digest:
                if existing.task_token is None:
                    self._put_token(existing, task_token)  # idempotent: the same token again
                return Created(existing, created=False)
            if existing.fix_round == fix_round:
                retargeted = self.retarget(existing.approval_id, task_token, now)
                if retargeted is not None:
                    return Created(retargeted, created=False)
                continue  # decided or expired meanwhile: not pending any more
            self.expire(existing.approval_id, now, actor="workflow", detail="superseded by a new request")
        approval = new_approval(new_approval_id(handoff_id), handoff_id, requirement, event, task_token, now,
                                fix_round=fix_round)
        self._put_token(approval, task_token)  # first: an approval never names a token that is not stored
        self._table.put_item(Item=layout.item(approval), ConditionExpression="attribute_not_exists(pk)")
        return Created(approval, created=True)

    def retarget(self, approval_id: str, task_token: str, now: datetime) -> Approval | None:
        """Point a pending approval at a retried task's new token (None: no longer pending). An approval
        stored with its token in this table gets a taskTokenRef and loses the token here."""
        current = self.get(approval_id)
        if current is None or current.status != "PENDING":
            return None
        ref = current.task_token_ref or current.approval_id
        self._put_token(current.model_copy(update={"task_token_ref": ref}), task_token)
        item = self._update(
            approval_id, {"taskTokenRef": ref, "tokenDigest": token_digest(task_token)}, remove=("taskToken",),
            audit=layout.entry("retried", now, "workflow", detail="the request step was retried: new task token"),
            condition="#status = :pending", values={":pending": "PENDING"},
        )
        return Approval.model_validate(item) if item is not None else None

    # --- transitions ----------------------------------------------------------------------------
    def _update(self, approval_id: str, sets: dict[str, Any], *, remove: tuple[str, ...] = (),
                audit: dict | None = None, condition: str = "", values: dict[str, Any] | None = None,
                ) -> dict | None:
        """SET/REMOVE with every attribute name as a placeholder (status, comment, level are reserved
        words). Returns the new item, or None when the condition failed."""
        key = layout.key(approval_id)
        if key is None:
            return None
        expr_values = {f":{n}": v for n, v in sets.items()} | (values or {})
        set_parts = [f"#{n} = :{n}" for n in sets]
        if audit is not None:
            set_parts.append("#audit = list_append(if_not_exists(#audit, :empty), :entry)")
            expr_values |= {":empty": [], ":entry": [audit]}
        expression = ("SET " + ", ".join(set_parts) if set_parts else "") + (
            " REMOVE " + ", ".join(f"#{n}" for n in remove) if remove else "")
        condition = f"attribute_exists(pk) AND ({condition})" if condition else "attribute_exists(pk)"
        # DynamoDB rejects unused placeholders: declare exactly those the expressions use.
        used = expression + " " + condition
        names = {f"#{n}": n for n in set(re.findall(r"#(\w+)", used))}
        expr_values = {k: v for k, v in expr_values.items() if re.search(rf"{k}\b", used)}
        try:
            return self._table.update_item(
                Key=key, UpdateExpression=expression.strip(), ExpressionAttributeNames=names,
                ReturnValues="ALL_NEW", ConditionExpression=condition,
                **({"ExpressionAttributeValues": expr_values} if expr_values else {}),
            )["Attributes"]
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise

    def decide(self, approval_id: str, decision: Status, actor: str, comment: str | None, ip: str | None,
               user_agent: str | None, now: datetime, *, verified_by: str = "link") -> DecideResult:
        """Record the first decision (APPROVED or REJECTED) while the approval is pending and unexpired;
        the audit says how the actor's identity was verified (`link`: possession of the emailed link
        only; `code`: the one-time code mailed to the approver; `cognito`: signed in to the console)."""
        if decision not in ("APPROVED", "REJECTED"):
            raise ValueError(f"not a decision: {decision}")
        entry = layout.entry(decision.lower(), now, actor, ip, user_agent, layout.clip(comment, 500), verified_by)
        sets = {"status": decision, "decidedBy": actor, "decidedAt": iso(now)} | (
            {"comment": layout.clip(comment)} if comment else {})
        item = self._update(
            approval_id, sets, remove=("gsi1pk", "gsi1sk"), audit=entry,
            condition="#status = :pending AND #expiresAt > :now",
            values={":pending": "PENDING", ":now": iso(now)},
        )
        if item is not None:
            return DecideResult(True, Approval.model_validate(item))
        current = self.get(approval_id)
        if current is None:
            raise LookupError(f"no approval {approval_id}")
        return DecideResult(False, current)

    def undo_decision(self, approval: Approval, now: datetime, detail: str) -> bool:
        """Back to PENDING when the decision could not be delivered to Step Functions (transient error),
        so the approver can simply try again."""
        return self._update(
            approval.approval_id, {"status": "PENDING", "gsi1pk": PENDING_GSI_PK, "gsi1sk": iso(approval.expires_at)},
            remove=("decidedBy", "decidedAt", "comment"), audit=layout.entry("undone", now, "system", detail=detail),
            condition="#status = :decided AND #decidedAt = :at",
            values={":decided": approval.status, ":at": iso(approval.decided_at) if approval.decided_at else ""},
        ) is not None

    def expire(self, approval_id: str, now: datetime, *, actor: str = "sweeper", detail: str = "",
               expected_status: Status = "PENDING") -> bool:
        """EXPIRED; also for a decision that arrived after the task had timed out (expected_status
        APPROVED/REJECTED): the decision was not applied, so it is not reported as one."""
        return self._update(
            approval_id, {"status": "EXPIRED"}, remove=("gsi1pk", "gsi1sk", "decidedBy", "decidedAt"),
            audit=layout.entry("expired", now, actor, detail=detail), condition="#status = :expected",
            values={":expected": expected_status},
        ) is not None

    def withdraw_pending(self, handoff_id: str, now: datetime, reason: str) -> list[str]:
        """Expire every pending approval of a handoff that stopped (rejected, failed, timed out), so the
        sweeper sends no more reminders for it. Returns the approval ids withdrawn."""
        return [a.approval_id for a in self.list_for_handoff(handoff_id)
                if a.status == "PENDING" and self.expire(a.approval_id, now, actor="workflow", detail=reason)]

    def mark_reminded(self, approval_id: str, now: datetime) -> bool:
        """Claim the one reminder (False: already reminded or no longer pending)."""
        return self._update(
            approval_id, {"remindedAt": iso(now)}, audit=layout.entry("reminded", now, "sweeper"),
            condition="#status = :pending AND attribute_not_exists(#remindedAt)", values={":pending": "PENDING"},
        ) is not None

    def schedule_reminder(self, approval_id: str, at: datetime, now: datetime, detail: str) -> bool:
        """(Re)arm the reminder, e.g. after an email could not be sent: the next sweep sends it."""
        return self._update(
            approval_id, {"remindAt": iso(at)}, remove=("remindedAt",),
            audit=layout.entry("reminder-rescheduled", now, "sweeper", detail=detail),
            condition="#status = :pending", values={":pending": "PENDING"},
        ) is not None

    def mark_mailed(self, approval_id: str, now: datetime) -> bool:
        return self._update(
            approval_id, {"mailedAt": iso(now)}, audit=layout.entry("mailed", now, "workflow"),
            condition="attribute_not_exists(#mailedAt)",
        ) is not None

    def escalate(self, old_id: str, now: datetime, *, to: Any = None, expires_at: datetime | None = None,
                 ) -> Approval | None:
        """Replace an unanswered level-0 approval by a level-1 one for the escalation approver (or `to`),
        carrying the same task token; the old one becomes ESCALATED and its link answers 410. One
        transaction, conditional on the old one still pending: None if it was decided meanwhile."""
        old = self.get(old_id)
        if old is None or old.status != "PENDING":
            return None
        if to is not None:
            old = old.model_copy(update={"escalation_approver": to})
        new = escalated_approval(old, new_approval_id(old.handoff_id), now)
        if expires_at is not None:
            new = new.model_copy(update={"expires_at": expires_at.replace(microsecond=0)})
        entry = layout.entry("escalated", now, "sweeper", detail=f"to {new.approver} ({new.approval_id})")
        try:
            self._table.meta.client.transact_write_items(TransactItems=[
                {"Update": {
                    "TableName": self._table.name, "Key": layout.key(old_id),
                    "UpdateExpression": "SET #status = :escalated, #escalatedTo = :to, "
                                        "#audit = list_append(#audit, :entry) REMOVE #gsi1pk, #gsi1sk",
                    "ConditionExpression": "#status = :pending",
                    "ExpressionAttributeNames": {"#status": "status", "#escalatedTo": "escalatedTo", "#audit": "audit",
                                                 "#gsi1pk": "gsi1pk", "#gsi1sk": "gsi1sk"},
                    "ExpressionAttributeValues": {":escalated": "ESCALATED", ":to": new.approval_id,
                                                  ":entry": [entry], ":pending": "PENDING"},
                }},
                {"Put": {"TableName": self._table.name, "Item": layout.item(new),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return new

    def append_audit(self, approval_id: str, action: str, at: datetime, *, actor: str | None = None,
                     ip: str | None = None, user_agent: str | None = None, detail: str | None = None,
                     max_entries: int | None = None) -> bool:
        condition = "size(#audit) < :max" if max_entries else ""
        return self._update(approval_id, {}, audit=layout.entry(action, at, actor, ip, user_agent, detail),
                            condition=condition, values={":max": max_entries} if max_entries else None) is not None
