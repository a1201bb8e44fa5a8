"""Signed approval links: HMAC over the key id, the approval, approver and expiry; checked before
anything is shown.

A link's `sig` is `<kid>.<mac>`: the key id names the key of the ring (handoff.domain.signing_keys)
that signed it, and is itself covered by the MAC, so swapping it breaks the signature. A link from
before key ids (`sig` is the bare 43-character MAC over the v1 message) is checked against the
unversioned key `k0` only, and so works while that key is current or, after the first rotation, the
previous key within its window; then it is refused like any bad signature. An unknown, retired or
swapped kid costs the same HMAC as a known one and answers exactly like a bad signature."""

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import quote

from handoff.domain.approvals.record import Approval
from handoff.domain.signing_keys import LEGACY_KID, KeyRing, SigningKey, as_ring


class LinkCheck(StrEnum):
    OK = "ok"
    TAMPERED = "tampered"
    EXPIRED = "expired"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _mac(message: str, secret: bytes) -> str:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _message(kid: str | None, approval_id: str, approver: str, expires_at: datetime) -> str:
    body = f"{approval_id}\n{approver.casefold()}\n{_epoch(expires_at)}"
    return f"v1\n{body}" if kid is None else f"v2\n{kid}\n{body}"


def sign(approval_id: str, approver: str, expires_at: datetime, key: SigningKey | bytes) -> str:
    """`<kid>.<mac>`: a link works for one approval, one approver, until then, under one key.
    A bare key (bytes) is the unversioned key k0."""
    signing = key if isinstance(key, SigningKey) else SigningKey(LEGACY_KID, key)
    return f"{signing.kid}.{_mac(_message(signing.kid, approval_id, approver, expires_at), signing.secret)}"


# An HMAC-SHA256 digest in unpadded URL-safe base64 is 43 characters; a kid never holds "." or "_".
_SIGNATURE = re.compile(r"(?:(?P<kid>[A-Za-z0-9-]{1,40})\.)?(?P<mac>[A-Za-z0-9_-]{43})")
# What an unknown kid is checked against: the same work as a known one, and never a match.
_NO_KEY = SigningKey("none", b"\0" * 32)


def verify(approval_id: str, approver: str, expires_at: datetime, signature: str,
           keys: KeyRing | SigningKey | bytes, now: datetime) -> bool:
    """Whether `signature` is a valid MAC under a key the ring accepts at `now`."""
    found = _SIGNATURE.fullmatch(signature)
    if found is None:
        return False
    kid = found["kid"]
    key = as_ring(keys).find(kid or LEGACY_KID, now)
    expected = _mac(_message(kid, approval_id, approver, expires_at), (key or _NO_KEY).secret)
    return hmac.compare_digest(expected.encode(), found["mac"].encode()) and key is not None


def signature_kid(sig: str | None) -> str | None:
    """The key id a link's `sig` names (None: none, or no well-formed signature)."""
    found = _SIGNATURE.fullmatch(sig) if sig else None
    return found["kid"] if found else None


def check_link(
    approval_id: str, approver: str, exp: str | None, sig: str | None, keys: KeyRing | SigningKey | bytes,
    now: datetime,
) -> LinkCheck:
    """Signature first (a forged link is TAMPERED even when its exp is past), then expiry."""
    expires_at = link_expiry(exp)
    if expires_at is None or not sig or not _SIGNATURE.fullmatch(sig):
        return LinkCheck.TAMPERED
    if not verify(approval_id, approver, expires_at, sig, keys, now):
        return LinkCheck.TAMPERED
    return LinkCheck.EXPIRED if now >= expires_at else LinkCheck.OK


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


def approval_link(base_url: str, approval: Approval, key: SigningKey | bytes) -> str:
    sig = sign(approval.approval_id, approval.approver, approval.expires_at, key)
    return f"{base_url.rstrip('/')}/approvals/{quote(approval.approval_id, safe='')}" \
           f"?exp={_epoch(approval.expires_at)}&sig={sig}"
