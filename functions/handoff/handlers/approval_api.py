"""The approval API behind API Gateway. GET /approvals/{id}?exp=&sig= shows the request and decides
nothing (mail scanners pre-open links); POST /approvals/{id} (form: decision, comment, exp, sig)
records the first decision and hands it to the waiting Step Functions task, as the approval's
verification says (handoff.domain.approvals.verification): `link` decides at once (the audit says
verifiedBy "link": possession only); `code` mails a one-time code to the approver and decides when
a POST brings it (form: code, exp, sig); `signin` decides nothing here (the console does)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from handoff.adapters import aws, from_settings, pages, verification_pages
from handoff.adapters.approval_items import MAX_VIEWS
from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.code_mail import render_decision_code
from handoff.adapters.decision_codes import DecisionCodes
from handoff.adapters.dynamodb_errors import transient
from handoff.adapters.mailer import Mailer
from handoff.adapters.task_callback import TaskCallback
from handoff.domain.approvals import Approval, LinkCheck, check_link, decision_output
from handoff.domain.approvals.verification import (
    CODE_LIFETIME,
    LINK_HOLDER,
    VERIFIED_BY_CODE,
    VERIFIED_BY_LINK,
    CodeCheck,
    check_code,
)
from handoff.domain.signing_keys import KeyRing
from handoff.observability import logger, metrics, tracer
from handoff.settings import settings

app = APIGatewayRestResolver()

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL carries the signature
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}
_DECISIONS = {"approve": "APPROVED", "reject": "REJECTED"}


# --- collaborators (handoff.adapters.from_settings builds them; tests replace these) -------------------
def _now() -> datetime:
    return datetime.now(UTC)


def _store() -> ApprovalStore:
    return from_settings.approvals()


def _keys(sig: str | None = None) -> KeyRing:
    return from_settings.link_keys(sig)


def _codes() -> DecisionCodes:
    return DecisionCodes(aws.table(settings().handoff_table))


def _mailer() -> Mailer:
    return Mailer(aws.client("ses"), settings().mail_from)


def _console_url() -> str:
    url = settings().console_url.strip("-").rstrip("/")
    return f"{url}/approvals" if url else ""


def _callback() -> TaskCallback:
    return from_settings.task_callback()


# --- request helpers -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    ip: str | None
    user_agent: str | None


def _caller() -> Caller:
    event = app.current_event
    identity = (event.raw_event.get("requestContext") or {}).get("identity") or {}
    return Caller(identity.get("sourceIp"), identity.get("userAgent") or event.headers.get("User-Agent")
                  or event.headers.get("user-agent"))


def _html(status: int, body: str) -> Response:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=_HEADERS)


class MalformedRequest(ValueError):
    """A form or link no browser following an approval email sends: answered 400, never 500."""


# The form has these fields and no others; a comment is at most 2000 characters, so a legitimate body
# stays far below MAX_FORM_BYTES even fully percent-encoded (3 bytes a character, 4 for emoji).
FORM_FIELDS = frozenset({"decision", "comment", "exp", "sig", "code"})
MAX_FORM_BYTES = 16 * 1024


def _form() -> dict[str, str]:
    event = app.current_event
    raw = event.body or ""
    if len(raw) > MAX_FORM_BYTES * 4 // 3 + 4:
        raise MalformedRequest("the form is too large")
    try:
        body = event.decoded_body or ""
        fields = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body), max_num_fields=len(FORM_FIELDS),
                          errors="strict")
    except (ValueError, UnicodeError) as error:  # bad base64, bad UTF-8, too many or broken fields
        raise MalformedRequest("the form cannot be read") from error
    if len(body.encode()) > MAX_FORM_BYTES:
        raise MalformedRequest("the form is too large")
    unknown = set(fields) - FORM_FIELDS
    if unknown or any(len(values) > 1 for values in fields.values()):
        raise MalformedRequest("the form has fields it should not have")
    return {k: v[0] for k, v in fields.items()}


def _link_params(form: dict[str, str] | None = None) -> tuple[str | None, str | None]:
    event = app.current_event
    form = form or {}
    return (form.get("exp") or event.get_query_string_value("exp"),
            form.get("sig") or event.get_query_string_value("sig"))


def _closed(approval: Approval) -> Response | None:
    """The answer for an approval that no longer takes decisions, if it is one."""
    if approval.status in ("APPROVED", "REJECTED"):
        return _html(200, pages.already_decided_page(approval))
    if approval.status in ("ESCALATED", "EXPIRED"):
        metrics.add_metric(name="ApprovalLinkExpired", unit=MetricUnit.Count, value=1)
        return _html(410, pages.expired_page(approval))
    return None


def _answer(approval: Approval, check: LinkCheck) -> Response | None:
    """The page for a link that may not decide (tampered, closed, expired), or None when it may."""
    if check is LinkCheck.TAMPERED:
        return _refused()
    if closed := _closed(approval):
        return closed
    if check is LinkCheck.EXPIRED:
        metrics.add_metric(name="ApprovalLinkExpired", unit=MetricUnit.Count, value=1)
        return _html(410, pages.expired_page(approval))
    return None


def _load(approval_id: str, exp: str | None, sig: str | None, now: datetime) -> tuple[Approval, LinkCheck] | None:
    """The approval and how its link checks; None when the id is unknown. An unknown id costs the same
    signature check as a known one, and both are answered by _refused: no enumeration oracle."""
    approval, keys = _store().get(approval_id), _keys(sig)
    if approval is None:
        check_link(approval_id, "unknown@invalid", exp, sig, keys, now)
        return None
    logger.append_keys(approval_id=approval.approval_id, handoff_id=approval.handoff_id, kind=approval.kind)
    return approval, check_link(approval.approval_id, approval.approver, exp, sig, keys, now)


def _refused() -> Response:
    """The one answer for a link that is not valid: unknown id, bad or missing signature, bad expiry."""
    logger.warning("approval link refused")
    metrics.add_metric(name="ApprovalLinkTampered", unit=MetricUnit.Count, value=1)
    return _html(403, pages.tampered_page())


# --- routes ------------------------------------------------------------------------------------------
@app.get("/approvals/<approval_id>")
def show(approval_id: str) -> Response:
    now, caller = _now(), _caller()
    exp, sig = _link_params()
    loaded = _load(approval_id, exp, sig, now)
    if loaded is None:
        return _refused()
    approval, check = loaded
    if check is not LinkCheck.TAMPERED:
        metrics.add_metric(name="ApprovalPageViews", unit=MetricUnit.Count, value=1)
        # Audit who opened it (mail scanners included); capped so repeated opens cannot grow the item.
        _store().append_audit(approval.approval_id, "viewed", now, actor=LINK_HOLDER, ip=caller.ip,
                              user_agent=caller.user_agent, max_entries=MAX_VIEWS)
    return _answer(approval, check) or _html(200, pages.approval_page(approval, exp=exp or "", sig=sig or "",
                                                                       console_url=_console_url()))


@app.post("/approvals/<approval_id>")
def decide(approval_id: str) -> Response:
    now, caller, form = _now(), _caller(), _form()
    exp, sig = _link_params(form)
    loaded = _load(approval_id, exp, sig, now)
    if loaded is None:
        return _refused()
    approval, check = loaded
    if "code" in form:
        return _confirm_code(approval, check, form["code"], caller, now, exp or "", sig or "")
    if answer := _answer(approval, check):
        return answer
    decision = _DECISIONS.get(form.get("decision", "").strip().lower())
    comment = form.get("comment", "").strip()[:2000]
    if decision is None or (decision == "REJECTED" and not comment):
        error = "Choose Approve or Reject." if decision is None else \
            "Please say why you reject: the deal owner needs it to act."
        return _html(400, pages.approval_page(approval, exp=exp or "", sig=sig or "", comment=comment, error=error,
                                              console_url=_console_url()))
    if approval.verification == "signin":
        _codes().refused(approval, "decision-refused", now, "sign-in required: a link cannot decide",
                         ip=caller.ip, user_agent=caller.user_agent)
        return _html(403, verification_pages.signin_required_page(approval, _console_url()))
    if approval.verification == "code":
        return _send_code(approval, decision, comment, caller, now, exp or "", sig or "")
    return _record(approval, decision, comment, caller, now, verified_by=VERIFIED_BY_LINK)


# --- one-time codes -------------------------------------------------------------------------------------
def _send_code(approval: Approval, decision: str, comment: str, caller: Caller, now: datetime, exp: str,
               sig: str) -> Response:
    """Mail a code to the approver's address; the decision waits for it on the code page."""
    key = _keys().current
    issued = _codes().issue(approval, decision, comment, key.secret, now, ip=caller.ip, user_agent=caller.user_agent,
                            kid=key.kid)
    if issued is None:
        current = _store().get(approval.approval_id) or approval
        if closed := _closed(current):
            return closed
        metrics.add_metric(name="ApprovalCodesExhausted", unit=MetricUnit.Count, value=1)
        return _html(403, verification_pages.code_refused_page(
            "Too many codes", f"Several codes were already sent for this approval. Contact the deal owner, "
                              f"{approval.deal_owner}, to have the request sent again."))
    try:
        _mailer().send(render_decision_code(approval, issued.code, decision, issued.challenge.expires_at,
                                            ip=caller.ip, now=now))
    except Exception:
        logger.exception("the one-time code could not be mailed")
        return _html(503, pages.unavailable_page())
    metrics.add_metric(name="ApprovalCodesSent", unit=MetricUnit.Count, value=1)
    return _html(200, verification_pages.code_page(approval, issued.challenge, exp=exp, sig=sig))


def _code_refused(approval: Approval, status: int, action: str, title: str, message: str, caller: Caller,
                  now: datetime) -> Response:
    logger.warning("approval code refused", extra={"reason": action})
    metrics.add_metric(name="ApprovalCodesRefused", unit=MetricUnit.Count, value=1)
    _codes().refused(approval, action, now, message, ip=caller.ip, user_agent=caller.user_agent)
    return _html(status, verification_pages.code_refused_page(title, message))


def _confirm_code(approval: Approval, check: LinkCheck, typed: str, caller: Caller, now: datetime, exp: str,
                  sig: str) -> Response:
    """A code entered on the page: the link must still be valid; the code must be the outstanding one,
    unexpired, with attempts left; then its decision is applied, once."""
    if check is LinkCheck.TAMPERED:
        return _refused()
    if approval.verification != "code":
        raise MalformedRequest("a code for an approval that takes none")
    if approval.status in ("APPROVED", "REJECTED"):
        return _code_refused(approval, 400, "code-reused", "This code was already used",
                             "This approval is already decided; a code works once.", caller, now)
    if answer := _answer(approval, check):
        return answer
    codes = _codes()
    challenge, _issued = codes.current(approval)
    if challenge is None:
        return _code_refused(approval, 400, "code-reused", "This code is not valid",
                             "No code is waiting for this approval: it was used, or never asked for.", caller, now)
    ring = _keys()
    key = ring.find(challenge.kid, now) or ring.current  # the key the code's digest was made with
    result = check_code(challenge, typed, key.secret, approval.approval_id, now)
    if result is CodeCheck.EXPIRED:
        return _code_refused(approval, 400, "code-expired", "This code has expired",
                             f"Codes work for {int(CODE_LIFETIME.total_seconds() // 60)} minutes.", caller, now)
    if result is CodeCheck.EXHAUSTED:
        return _code_refused(approval, 403, "code-exhausted", "Too many wrong codes",
                             "This code was entered wrongly too many times.", caller, now)
    if result is CodeCheck.WRONG:
        left = codes.count_wrong(approval, challenge, now, ip=caller.ip, user_agent=caller.user_agent)
        logger.warning("approval code refused", extra={"reason": "code-refused", "attempts_left": left})
        metrics.add_metric(name="ApprovalCodesRefused", unit=MetricUnit.Count, value=1)
        if left == 0:
            return _html(403, verification_pages.code_refused_page(
                "Too many wrong codes", "This code was entered wrongly too many times."))
        error = f"That code is not right. {left} attempt{'s' if left > 1 else ''} left."
        return _html(403, verification_pages.code_page(approval, challenge, exp=exp, sig=sig, error=error))
    if not codes.consume(approval, challenge, now, ip=caller.ip, user_agent=caller.user_agent):
        return _code_refused(approval, 400, "code-reused", "This code was already used",
                             "A code works once.", caller, now)
    return _record(approval, challenge.decision, challenge.comment or "", caller, now, verified_by=VERIFIED_BY_CODE)


# --- the decision -------------------------------------------------------------------------------------
def _record(approval: Approval, decision: str, comment: str, caller: Caller, now: datetime, *,
            verified_by: str) -> Response:
    store = _store()
    result = store.decide(approval.approval_id, decision, approval.approver, comment or None, caller.ip,
                          caller.user_agent, now, verified_by=verified_by)
    if not result.won:
        # A double click or a replay: the first decision stands and nothing is sent again.
        return _closed(result.approval) or _html(410, pages.expired_page(result.approval))
    decided = result.approval
    callback = _callback()
    try:
        if decision == "APPROVED":
            delivery = callback.succeed(decided, decision_output(decided))
        else:
            delivery = callback.fail(decided, "Approval.Rejected", comment)
    except Exception:
        logger.exception("could not deliver the decision to Step Functions; decision undone")
        store.undo_decision(decided, _now(), "Step Functions did not take the decision; the approver may retry")
        return _html(503, pages.unavailable_page())
    if not delivery.delivered:
        logger.warning("the workflow no longer waits for this approval", extra={"reason": delivery.gone_reason})
        metrics.add_metric(name="ApprovalTaskGone", unit=MetricUnit.Count, value=1)
        store.expire(decided.approval_id, now, actor=decided.approver, expected_status=decided.status,
                     detail=f"{decided.status.lower()} after the task ended ({delivery.gone_reason})")
        return _html(410, pages.task_gone_page(decided))
    logger.info("approval decided", extra={"decision": decision})
    metrics.add_metric(name=f"Approvals{decision.title()}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ApprovalDecisionSeconds", unit=MetricUnit.Seconds,
                       value=(now - decided.created_at).total_seconds())
    return _html(200, pages.decided_page(decided))


@app.exception_handler(MalformedRequest)
def _malformed(exc: MalformedRequest) -> Response:
    logger.warning("malformed approval request", extra={"reason": str(exc)})  # no stack trace: not a fault
    return _html(400, pages.malformed_page())


@app.exception_handler(ClientError)
def _aws_error(exc: ClientError) -> Response:
    if transient(exc):
        # Throttled or a transaction met another: nothing was decided; the approver may press again.
        logger.warning("DynamoDB busy", extra={"error": exc.response.get("Error", {}).get("Code")})
        return _html(503, pages.unavailable_page())
    return _unexpected(exc)


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("approval request failed")
    return _html(500, pages.error_page())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
