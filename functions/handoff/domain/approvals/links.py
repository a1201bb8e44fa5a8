"""Signed approval links: HMAC over the approval, approver and expiry; checked before anything is shown."""

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import quote

from handoff.domain.approvals.record import Approval


class LinkCheck(StrEnum):
    OK = "ok"
    TAMPERED = "tampered"
    EXPIRED = "expired"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def sign(approval_id: str, approver: str, expires_at: datetime, key: bytes) -> str:
    """HMAC-SHA256 over id, approver and expiry: a link works for one approval, one approver, until then."""
    message = f"v1\n{approval_id}\n{approver.casefold()}\n{_epoch(expires_at)}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(approval_id: str, approver: str, expires_at: datetime, signature: str, key: bytes) -> bool:
    return hmac.compare_digest(sign(approval_id, approver, expires_at, key).encode(), signature.encode())


def check_link(
    approval_id: str, approver: str, exp: str | None, sig: str | None, key: bytes, now: datetime,
) -> LinkCheck:
    """Signature first (a forged link is TAMPERED even when its exp is past), then expiry."""
    expires_at = link_expiry(exp)
    if expires_at is None or not sig or not _SIGNATURE.fullmatch(sig):
        return LinkCheck.TAMPERED
    if not verify(approval_id, approver, expires_at, sig, key):
        return LinkCheck.TAMPERED
    return LinkCheck.EXPIRED if now >= expires_at else LinkCheck.OK


# An HMAC-SHA256 digest in unpadded URL-safe base64 is 43 characters.
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")


# Links carry whole seconds since the epoch; no link is signed beyond the year 2100, and datetime
# cannot hold years past 9999 (`999999999999` would raise instead of being refused).
MAX_LINK_EPOCH = 4_102_444_800


def link_expiry(exp: str | None) -> datetime | None:
    """The expiry an `exp` parameter names, or None when it is no plausible epoch (ASCII digits only:
    str.isdigit() also accepts superscripts that int() refuses)."""
    if not exp or len(exp) > 10 or not exp.isascii() or not exp.isdigit():
        return None
    seconds = int(exp)
    return datetime.fromtimestamp(seconds, UTC) if seconds <= MAX_LINK_EPOCH else None


def approval_link(base_url: str, approval: Approval, key: bytes) -> str:
    sig = sign(approval.approval_id, approval.approver, approval.expires_at, key)
    return f"{base_url.rstrip('/')}/approvals/{quote(approval.approval_id, safe='')}" \
           f"?exp={_epoch(approval.expires_at)}&sig={sig}"
