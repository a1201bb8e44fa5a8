"""How an approval is laid out in the handoff table: its keys (pk = HANDOFF#<handoffId>,
sk = APPROVAL#<approvalId>), its id, the item (attributes as in handoff.domain.approvals.Approval,
camelCase; pending ones carry gsi1pk = APPROVAL#PENDING and gsi1sk = expiresAt, so the sweeper
queries instead of scanning) and its audit entries, clipped to bounded sizes."""

import re
import secrets
from datetime import datetime
from typing import Any

from handoff.domain.approvals import PENDING_GSI_PK, Approval, AuditEntry, iso

_ID = re.compile(r"^([A-Za-z0-9-]{1,64})\.[A-Za-z0-9_-]{8,64}$")
MAX_VIEWS = 50  # "viewed" audit entries kept per approval: mail scanners must not grow an item without bound
_TEXT_LIMIT = 2000


def pk(handoff_id: str) -> str:
    return f"HANDOFF#{handoff_id}"


def key(approval_id: str) -> dict[str, str] | None:
    match = _ID.match(approval_id)
    return {"pk": pk(match.group(1)), "sk": f"APPROVAL#{approval_id}"} if match else None


def new_approval_id(handoff_id: str) -> str:
    # The handoff id is part of the approval id, so a link alone finds the item's partition.
    return f"{handoff_id}.{secrets.token_urlsafe(9)}"


def clip(value: str | None, limit: int = _TEXT_LIMIT) -> str | None:
    return value[:limit] if value else value


def item(approval: Approval) -> dict[str, Any]:
    item = approval.model_dump(mode="json", by_alias=True, exclude_none=True)
    if approval.task_token is not None:  # only an approval stored before the task-token table
        item["taskToken"] = approval.task_token.get_secret_value()
    item.update(pk=pk(approval.handoff_id), sk=f"APPROVAL#{approval.approval_id}")
    if approval.status == "PENDING":
        item.update(gsi1pk=PENDING_GSI_PK, gsi1sk=iso(approval.expires_at))
    return item


def entry(action: str, at: datetime, actor: str | None, ip: str | None = None, user_agent: str | None = None,
           detail: str | None = None, verified_by: str | None = None) -> dict[str, Any]:
    entry = AuditEntry(action=action, at=at, actor=actor, ip=clip(ip, 64), user_agent=clip(user_agent, 256),
                       detail=clip(detail, 500), verified_by=verified_by)
    return entry.model_dump(mode="json", by_alias=True, exclude_none=True)
