"""One-time decision codes of approvals verified by `code`, on the approval's own item in the handoff
table (attribute codeChallenge, a keyed digest only; codesIssued counts the codes mailed). Every
transition is a conditional write: a code is issued only while the approval is pending and fewer
than MAX_CODES were mailed; a wrong entry counts against that code; the right one is consumed once
(removed), so a reused code finds nothing. Each of these is in the approval's audit."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed
from handoff.domain.approvals import Approval, AuditEntry
from handoff.domain.approvals.verification import (
    CODE_DIGITS,
    CODE_LIFETIME,
    LINK_HOLDER,
    MAX_CODE_ATTEMPTS,
    MAX_CODES,
    CodeChallenge,
    code_digest,
)

MAX_REFUSALS_AUDITED = 200  # audit entries for refused codes: a link holder cannot grow an item without bound


@dataclass(frozen=True)
class Issued:
    code: str
    challenge: CodeChallenge


def _key(approval: Approval) -> dict[str, str]:
    # The approval item's key, as handoff.adapters.approvals_store lays it out.
    return {"pk": f"HANDOFF#{approval.handoff_id}", "sk": f"APPROVAL#{approval.approval_id}"}


def _entry(action: str, at: datetime, actor: str, ip: str | None, user_agent: str | None, detail: str) -> dict:
    return AuditEntry(action=action, at=at, actor=actor, ip=(ip or None) and ip[:64],
                      user_agent=(user_agent or None) and user_agent[:256],
                      detail=detail[:500]).model_dump(mode="json", by_alias=True, exclude_none=True)


def challenge_of(item_or_approval: Any) -> CodeChallenge | None:
    raw = item_or_approval.get("codeChallenge") if isinstance(item_or_approval, dict) else None
    return CodeChallenge.model_validate(raw) if raw else None


class DecisionCodes:
    def __init__(self, table: Any):
        self._table = table

    def current(self, approval: Approval) -> tuple[CodeChallenge | None, int]:
        """The outstanding code (if any) and how many codes were mailed, read consistently."""
        item = self._table.get_item(Key=_key(approval), ConsistentRead=True,
                                    ProjectionExpression="codeChallenge, codesIssued").get("Item") or {}
        return challenge_of(item), int(item.get("codesIssued", 0))

    def issue(self, approval: Approval, decision: str, comment: str | None, key: bytes, now: datetime, *,
              ip: str | None, user_agent: str | None, kid: str = "k0") -> Issued | None:
        """A new code for this decision, replacing any earlier one. None: the approval is no longer
        pending, or MAX_CODES were mailed already."""
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        challenge_id = secrets.token_urlsafe(9)
        challenge = CodeChallenge(
            challenge_id=challenge_id, code_digest=code_digest(key, approval.approval_id, challenge_id, code), kid=kid,
            decision=decision, comment=comment or None, issued_at=now, expires_at=now + CODE_LIFETIME)
        entry = _entry("code-sent", now, LINK_HOLDER, ip, user_agent,
                       f"{decision.lower()} chosen; a one-time code was mailed to {approval.approver}")
        try:
            self._table.update_item(
                Key=_key(approval),
                UpdateExpression="SET #challenge = :challenge, #issued = if_not_exists(#issued, :zero) + :one, "
                                 "#audit = list_append(if_not_exists(#audit, :empty), :entry)",
                ConditionExpression="attribute_exists(pk) AND #status = :pending AND "
                                    "(attribute_not_exists(#issued) OR #issued < :max)",
                ExpressionAttributeNames={"#challenge": "codeChallenge", "#issued": "codesIssued", "#audit": "audit",
                                          "#status": "status"},
                ExpressionAttributeValues={
                    ":challenge": challenge.model_dump(mode="json", by_alias=True, exclude_none=True),
                    ":zero": 0, ":one": 1, ":empty": [], ":entry": [entry], ":pending": "PENDING", ":max": MAX_CODES})
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return Issued(code, challenge)

    def count_wrong(self, approval: Approval, challenge: CodeChallenge, now: datetime, *, ip: str | None,
                    user_agent: str | None) -> int:
        """One more wrong entry against this code; returns the entries left (0: ask for a new code)."""
        entry = _entry("code-refused", now, LINK_HOLDER, ip, user_agent, "wrong code")
        try:
            attributes = self._table.update_item(
                Key=_key(approval),
                UpdateExpression="SET #challenge.#attempts = #challenge.#attempts + :one, "
                                 "#audit = list_append(if_not_exists(#audit, :empty), :entry)",
                ConditionExpression="#challenge.#id = :id",
                ExpressionAttributeNames={"#challenge": "codeChallenge", "#attempts": "attempts", "#id": "challengeId",
                                          "#audit": "audit"},
                ExpressionAttributeValues={":one": 1, ":empty": [], ":entry": [entry], ":id": challenge.challenge_id},
                ReturnValues="UPDATED_NEW")["Attributes"]
        except ClientError as exc:
            if condition_failed(exc):  # replaced by a newer code meanwhile
                return 0
            raise
        return max(0, MAX_CODE_ATTEMPTS - int(attributes["codeChallenge"]["attempts"]))

    def consume(self, approval: Approval, challenge: CodeChallenge, now: datetime, *, ip: str | None,
                user_agent: str | None) -> bool:
        """Use the code once: removed while it is still the outstanding one with attempts left and the
        approval pending. False: another request used or replaced it first."""
        entry = _entry("code-accepted", now, approval.approver, ip, user_agent,
                       f"the code mailed to {approval.approver} was entered")
        try:
            self._table.update_item(
                Key=_key(approval),
                UpdateExpression="REMOVE #challenge SET #audit = list_append(if_not_exists(#audit, :empty), :entry)",
                ConditionExpression="#challenge.#id = :id AND #challenge.#attempts < :max AND #status = :pending",
                ExpressionAttributeNames={"#challenge": "codeChallenge", "#attempts": "attempts", "#id": "challengeId",
                                          "#audit": "audit", "#status": "status"},
                ExpressionAttributeValues={":empty": [], ":entry": [entry], ":id": challenge.challenge_id,
                                           ":max": MAX_CODE_ATTEMPTS, ":pending": "PENDING"})
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def refused(self, approval: Approval, action: str, now: datetime, detail: str, *, actor: str | None = None,
                ip: str | None, user_agent: str | None) -> None:
        """Audit a refused code or decision (expired, reused, exhausted, sign-in required), capped."""
        try:
            self._table.update_item(
                Key=_key(approval), UpdateExpression="SET #audit = list_append(if_not_exists(#audit, :empty), :entry)",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#audit) OR size(#audit) < :max)",
                ExpressionAttributeNames={"#audit": "audit"},
                ExpressionAttributeValues={":empty": [], ":max": MAX_REFUSALS_AUDITED,
                                           ":entry": [_entry(action, now, actor or LINK_HOLDER, ip, user_agent,
                                                             detail)]})
        except ClientError as exc:
            if not condition_failed(exc):
                raise
