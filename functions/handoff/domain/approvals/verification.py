"""How a decision is bound to the approver, per approval kind (issue 13): `link` (whoever holds the
emailed link decides; the audit says only possession was verified), `code` (choosing Approve or
Reject mails a one-time code to the approver's address, and the decision is applied only when that
code is entered on the page) or `signin` (the decision is made in the console, signed in as the
approver). Pure: the code's digest and its checks; the adapters draw codes and mail them."""

import hashlib
import hmac
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from handoff.domain.approvals.vocabulary import ApprovalKind, UtcDateTime, _Model

Verification = Literal["link", "code", "signin"]
VERIFICATIONS: tuple[Verification, ...] = ("link", "code", "signin")
# Every kind commits the firm (terms, money, regulatory exposure, spend), and a code needs nothing
# but the directory's address: a forwarded link or a shared mailbox alone cannot decide. `signin`
# once a kind's approvers have console accounts; `link` only where possession is accepted.
DEFAULT_VERIFICATION: dict[ApprovalKind, Verification] = {
    "legal": "code", "finance": "code", "compliance": "code", "procurement": "code"}
# What the audit's verifiedBy says for each way a decision can arrive.
VERIFIED_BY_LINK = "link"  # possession of the signed link only: the actor is not verified
VERIFIED_BY_CODE = "code"  # the code mailed to the approver's address was entered
# The audit's actor for what anyone holding the link can do (open the page, ask for a code, enter a
# wrong one): the approver is who the link was mailed to, not necessarily who clicked.
LINK_HOLDER = "holder of the approval link (not verified)"
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5  # wrong entries per code; then a new code must be asked for
MAX_CODES = 5  # codes mailed per approval: a link holder cannot flood the approver or keep guessing


class CodeChallenge(_Model):
    """The one outstanding code of an approval, stored on its item as a keyed digest only. The
    decision and comment are those chosen when the code was asked for: entering the code applies
    exactly that, nothing a later form says."""

    challenge_id: str
    code_digest: str
    kid: str = "k0"  # the link-signing key the digest is keyed with (a rotation may follow within minutes)
    decision: Literal["APPROVED", "REJECTED"]
    comment: str | None = None
    issued_at: UtcDateTime
    expires_at: UtcDateTime
    attempts: int = 0


class CodeCheck(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # MAX_CODE_ATTEMPTS wrong entries already


def code_digest(key: bytes, approval_id: str, challenge_id: str, code: str) -> str:
    """HMAC-SHA256 under the link-signing key: the table's readers cannot brute-force 10^6 codes
    offline from what is stored."""
    message = f"code-v1\n{approval_id}\n{challenge_id}\n{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def normalized_code(text: str) -> str | None:
    """The code as typed (spaces and dashes allowed between digits), or None if it cannot be one."""
    code = "".join(text.split()).replace("-", "")
    return code if len(code) == CODE_DIGITS and code.isascii() and code.isdigit() else None


def check_code(challenge: CodeChallenge, typed: str, key: bytes, approval_id: str, now: datetime) -> CodeCheck:
    if challenge.attempts >= MAX_CODE_ATTEMPTS:
        return CodeCheck.EXHAUSTED
    if now >= challenge.expires_at:
        return CodeCheck.EXPIRED
    code = normalized_code(typed)
    expected = challenge.code_digest.encode()
    given = code_digest(key, approval_id, challenge.challenge_id, code or "").encode()
    return CodeCheck.OK if code is not None and hmac.compare_digest(expected, given) else CodeCheck.WRONG


def masked_address(email: str) -> str:
    """Enough of the address for the approver to recognise it, not enough to harvest it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * 3}@{domain}"
