"""Approval records in the handoff table, the Step Functions callback that consumes their task
tokens, and the link-signing key.

Item layout: pk = HANDOFF#<handoffId>, sk = APPROVAL#<approvalId>, attributes as in
handoff.domain.approvals.Approval (camelCase). Pending items carry gsi1pk = APPROVAL#PENDING and
gsi1sk = expiresAt so the sweeper queries instead of scanning; every transition out of PENDING
is a conditional write (status = PENDING), so exactly one decision, escalation or expiry wins.
The task token is not in this table: it is in the task-token table (handoff.adapters.task_tokens),
named by the approval's taskTokenRef, handed to Step Functions and nowhere else (never logged or
returned). An approval stored before that change may still carry its token here (taskToken): it
is used as before, and moved out when a retried request replaces it."""

import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed
from handoff.adapters.task_tokens import TaskTokens
from handoff.contracts import ClosedWonEvent
from handoff.domain.approvals import (
    PENDING_GSI_PK,
    Approval,
    ApprovalRequirement,
    AuditEntry,
    Status,
    escalated_approval,
    iso,
    new_approval,
    next_action,
    token_digest,
    token_kept_until,
)

_ID = re.compile(r"^([A-Za-z0-9-]{1,64})\.[A-Za-z0-9_-]{8,64}$")
MAX_VIEWS = 50  # "viewed" audit entries kept per approval: mail scanners must not grow an item without bound
_TEXT_LIMIT = 2000


def _pk(handoff_id: str) -> str:
    return f"HANDOFF#{handoff_id}"


def _key(approval_id: str) -> dict[str, str] | None:
    match = _ID.match(approval_id)
    return {"pk": _pk(match.group(1)), "sk": f"APPROVAL#{approval_id}"} if match else None


def new_approval_id(handoff_id: str) -> str:
    # The handoff id is part of the approval id, so a link alone finds the item's partition.
    return f"{handoff_id}.{secrets.token_urlsafe(9)}"


def _clip(value: str | None, limit: int = _TEXT_LIMIT) -> str | None:
    return value[:limit] if value else value


def _item(approval: Approval) -> dict[str, Any]:
    item = approval.model_dump(mode="json", by_alias=True, exclude_none=True)
    if approval.task_token is not None:  # only an approval stored before the task-token table
        item["taskToken"] = approval.task_token.get_secret_value()
    item.update(pk=_pk(approval.handoff_id), sk=f"APPROVAL#{approval.approval_id}")
    if approval.status == "PENDING":
        item.update(gsi1pk=PENDING_GSI_PK, gsi1sk=iso(approval.expires_at))
    return item


def _entry(action: str, at: datetime, actor: str | None, ip: str | None = None, user_agent: str | None = None,
           detail: str | None = None, verified_by: str | None = None) -> dict[str, Any]:
    entry = AuditEntry(action=action, at=at, actor=actor, ip=_clip(ip, 64), user_agent=_clip(user_agent, 256),
                       detail=_clip(detail, 500), verified_by=verified_by)
    return entry.model_dump(mode="json", by_alias=True, exclude_none=True)


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
        key = _key(approval_id)
        if key is None:
            return None
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return Approval.model_validate(item) if item else None

    def list_for_handoff(self, handoff_id: str) -> list[Approval]:
        items, kwargs = [], {}
        while True:
            page = self._table.query(
                KeyConditionExpression=Key("pk").eq(_pk(handoff_id)) & Key("sk").begins_with("APPROVAL#"),
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
        self._table.put_item(Item=_item(approval), ConditionExpression="attribute_not_exists(pk)")
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
            audit=_entry("retried", now, "workflow", detail="the request step was retried: new task token"),
            condition="#status = :pending", values={":pending": "PENDING"},
        )
        return Approval.model_validate(item) if item is not None else None

    # --- transitions ----------------------------------------------------------------------------
    def _update(self, approval_id: str, sets: dict[str, Any], *, remove: tuple[str, ...] = (),
                audit: dict | None = None, condition: str = "", values: dict[str, Any] | None = None,
                ) -> dict | None:
        """SET/REMOVE with every attribute name as a placeholder (status, comment, level are reserved
        words). Returns the new item, or None when the condition failed."""
        key = _key(approval_id)
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
        entry = _entry(decision.lower(), now, actor, ip, user_agent, _clip(comment, 500), verified_by)
        sets = {"status": decision, "decidedBy": actor, "decidedAt": iso(now)} | (
            {"comment": _clip(comment)} if comment else {})
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
            remove=("decidedBy", "decidedAt", "comment"), audit=_entry("undone", now, "system", detail=detail),
            condition="#status = :decided AND #decidedAt = :at",
            values={":decided": approval.status, ":at": iso(approval.decided_at) if approval.decided_at else ""},
        ) is not None

    def expire(self, approval_id: str, now: datetime, *, actor: str = "sweeper", detail: str = "",
               expected_status: Status = "PENDING") -> bool:
        """EXPIRED; also for a decision that arrived after the task had timed out (expected_status
        APPROVED/REJECTED): the decision was not applied, so it is not reported as one."""
        return self._update(
            approval_id, {"status": "EXPIRED"}, remove=("gsi1pk", "gsi1sk", "decidedBy", "decidedAt"),
            audit=_entry("expired", now, actor, detail=detail), condition="#status = :expected",
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
            approval_id, {"remindedAt": iso(now)}, audit=_entry("reminded", now, "sweeper"),
            condition="#status = :pending AND attribute_not_exists(#remindedAt)", values={":pending": "PENDING"},
        ) is not None

    def schedule_reminder(self, approval_id: str, at: datetime, now: datetime, detail: str) -> bool:
        """(Re)arm the reminder, e.g. after an email could not be sent: the next sweep sends it."""
        return self._update(
            approval_id, {"remindAt": iso(at)}, remove=("remindedAt",),
            audit=_entry("reminder-rescheduled", now, "sweeper", detail=detail),
            condition="#status = :pending", values={":pending": "PENDING"},
        ) is not None

    def mark_mailed(self, approval_id: str, now: datetime) -> bool:
        return self._update(
            approval_id, {"mailedAt": iso(now)}, audit=_entry("mailed", now, "workflow"),
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
        entry = _entry("escalated", now, "sweeper", detail=f"to {new.approver} ({new.approval_id})")
        try:
            self._table.meta.client.transact_write_items(TransactItems=[
                {"Update": {
                    "TableName": self._table.name, "Key": _key(old_id),
                    "UpdateExpression": "SET #status = :escalated, #escalatedTo = :to, "
                                        "#audit = list_append(#audit, :entry) REMOVE #gsi1pk, #gsi1sk",
                    "ConditionExpression": "#status = :pending",
                    "ExpressionAttributeNames": {"#status": "status", "#escalatedTo": "escalatedTo", "#audit": "audit",
                                                 "#gsi1pk": "gsi1pk", "#gsi1sk": "gsi1sk"},
                    "ExpressionAttributeValues": {":escalated": "ESCALATED", ":to": new.approval_id,
                                                  ":entry": [entry], ":pending": "PENDING"},
                }},
                {"Put": {"TableName": self._table.name, "Item": _item(new),
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
        return self._update(approval_id, {}, audit=_entry(action, at, actor, ip, user_agent, detail),
                            condition=condition, values={":max": max_entries} if max_entries else None) is not None


# --- Step Functions ---------------------------------------------------------------------------------
GONE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
TOKEN_USED = "TaskTokenUsed"  # the task-token table no longer holds it: a decision or expiry already used it


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    gone_reason: str = ""  # TaskTimedOut / InvalidToken / TaskDoesNotExist: the workflow no longer waits


class TaskCallback:
    """Hands a decision to the waiting task. The only place a task token leaves the task-token
    table; once Step Functions took it (or no longer waits) the token is removed."""

    def __init__(self, sfn_client: Any, tokens: TaskTokens):
        self._sfn = sfn_client
        self._tokens = tokens

    def succeed(self, approval: Approval, output: dict[str, Any]) -> Delivery:
        return self._send(self._sfn.send_task_success, approval, output=json.dumps(output))

    def fail(self, approval: Approval, error: str, cause: str) -> Delivery:
        return self._send(self._sfn.send_task_failure, approval, error=error[:256], cause=cause[:32768])

    def _send(self, call: Any, approval: Approval, **kwargs: Any) -> Delivery:
        ref = approval.task_token_ref
        token = self._tokens.get(ref) if ref else (approval.task_token.get_secret_value() if approval.task_token else None)
        if token is None:
            return Delivery(False, TOKEN_USED)
        try:
            call(taskToken=token, **kwargs)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in GONE:
                self._used(ref, token)
                return Delivery(False, code)
            # AWS validation messages can echo parameter values: never let the token reach a log.
            message = str(exc.response["Error"].get("Message", "")).replace(token, "<task token>")
            raise ClientError({**exc.response, "Error": {**exc.response["Error"], "Message": message}},
                              exc.operation_name) from None
        self._used(ref, token)
        return Delivery(True)

    def _used(self, ref: str | None, token: str) -> None:
        if not ref:  # an approval stored with its token in the handoff table keeps it there (README)
            return
        try:
            self._tokens.consume(ref, token, datetime.now(UTC))
        except ClientError:  # Step Functions has the decision; TTL removes the token later
            logging.getLogger(__name__).warning("a used task token could not be removed; TTL will")
