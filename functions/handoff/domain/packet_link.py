"""Signed links to a handoff's launch packet, with the approval links' signing (HMAC over key id,
id, purpose and expiry; the same key ring and rotation). The link names the handoff, not an S3
object: S3 presigned URLs die with the credentials that signed them (hours, for a Lambda role),
so the API presigns afresh on each click."""

from datetime import datetime, timedelta
from urllib.parse import quote

from handoff.domain.approvals import LinkCheck, check_link, sign
from handoff.domain.signing_keys import KeyRing, SigningKey

PURPOSE = "launch-packet"  # signed in the approver's place: never an email address, so never an approval link
LINK_VALIDITY = timedelta(days=90)  # the kickoff and the first weeks of delivery
S3_LINK_SECONDS = 300  # what the click is redirected to: fresh and short-lived


def packet_link(base_url: str, handoff_id: str, expires_at: datetime, key: SigningKey | bytes) -> str:
    sig = sign(handoff_id, PURPOSE, expires_at, key)
    return f"{base_url.rstrip('/')}/launch-packets/{quote(handoff_id, safe='')}?exp={int(expires_at.timestamp())}&sig={sig}"


def check_packet_link(handoff_id: str, exp: str | None, sig: str | None, keys: KeyRing | SigningKey | bytes,
                      now: datetime) -> LinkCheck:
    return check_link(handoff_id, PURPOSE, exp, sig, keys, now)


def packet_key(handoff_id: str) -> str:
    """The readable packet (Markdown) that a link opens."""
    return f"launch-packets/{handoff_id}/packet.md"
