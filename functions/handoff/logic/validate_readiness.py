"""Validating readiness, the use case of the CheckReadiness step: the playbook's rules and the
contract analysis give the exceptions; blocking ones put the handoff on hold (BLOCKED), email the
deal owner what to fix (once per fix round) and queue them for operations; otherwise the approvals the
deal needs are computed, recorded for later rounds and returned for the workflow's Map."""

from decimal import Decimal

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import business_metrics
from handoff.adapters.analysers import contract_analyser
from handoff.adapters.configuration import approver_directory, playbook_for
from handoff.adapters.from_settings import approval_rounds, approvals, store
from handoff.adapters.mailer import as_html, render_notice
from handoff.clock import now
from handoff.contracts import ClosedWonEvent, ExceptionEntry, HandoffStatus
from handoff.domain.approval_carryover import carry_over, required_in_round
from handoff.domain.approvals import (
    ApprovalRequirement,
    MarginUnknown,
    estimate_margin,
    required_approvals,
)
from handoff.domain.crm_fields import in_crm_terms, intake_of
from handoff.domain.customer_risk import customer_risk
from handoff.domain.fix_loop import fix_round_step
from handoff.domain.playbooks import Playbook, PlaybookError, UnknownServiceLine
from handoff.domain.priority import prioritise
from handoff.domain.readiness import check_readiness
from handoff.logic.notices import notify_once, queue_exceptions_once
from handoff.observability import logger, metrics

STEP = "ValidateReadiness"


def _fix_request(handoff_id: str, deal: ClosedWonEvent, blocking: list[ExceptionEntry], rework: int,
                 changes: str | None = None) -> None:
    owner = deal.detail.opportunity.owner
    items = "\n".join(f"- {e.field or e.step}: {e.message}" for e in blocking)
    if rework and changes:
        items += f"\n\nWhat the last correction changed: {changes}"
    text = (
        f"Hello {owner.name},\n\n"
        f"The handoff of \"{deal.detail.opportunity.name}\" (opportunity {deal.detail.opportunity.id}) is on hold "
        f"until these are fixed in the CRM:\n\n{items}\n\n"
        "Correct them on the opportunity and mark it closed-won again (operations can also resubmit it); the same "
        f"handoff continues from here. Fix round: {rework + 1}.\n"
    )
    message = render_notice(to=owner.email, subject=f"Action needed before kickoff: {deal.detail.opportunity.name}",
                            text=text, html=as_html(text))
    notify_once(handoff_id, f"fix-request#{rework}", message)  # one email per fix round, retries included


def _blocked_by_playbook(error: PlaybookError, service_line: str) -> list[ExceptionEntry]:
    """Said to the deal owner: the reason, never str(error), which carries the server's file path
    (the handler logs that for operators)."""
    if isinstance(error, UnknownServiceLine):
        message = f"{error.reason[:1].upper()}{error.reason[1:]}. Set the opportunity's service line to one of these."
    else:
        where = f" at {error.key}" if error.key else ""
        reason = error.reason.splitlines()[0]  # YAML errors go on with the offending lines
        message = (f"The {service_line!r} playbook cannot be used ({reason}{where}). Nothing needs to change "
                   "on the deal: operations fix the playbook and resubmit this handoff.")
    return [ExceptionEntry(code="UNKNOWN_PLAYBOOK", severity="BLOCKING", step=STEP, field="opportunity.serviceLine",
                           message=message)]


def _exceptions(deal: ClosedWonEvent, playbook: Playbook) -> tuple[list[ExceptionEntry], list[str], list[str]]:
    found = check_readiness(deal, playbook, today=now().date())
    analysis = contract_analyser().analyse(deal, max_payment_terms_days=playbook.billing.max_payment_terms_days)
    found += analysis.exceptions
    found = in_crm_terms(found, intake_of(deal.detail.model_extra))  # name the CRM field to fill in
    non_standard = list(dict.fromkeys(f.clause_id for f in analysis.findings if not f.standard))
    categories = sorted({str(f.category) for f in analysis.findings if not f.standard})
    risk = customer_risk(deal, playbook.exceptions.country_risk)
    return (prioritise(found, revenue_at_risk=deal.detail.contract.value, now=now(), playbook=playbook,
                       customer_risk=risk), non_standard, categories)


def _approvals(handoff_id: str, rework: int, deal: ClosedWonEvent, playbook: Playbook,
               non_standard: list[str], margin: Decimal | MarginUnknown) -> list[ApprovalRequirement]:
    """The approvals this round needs: what the deal requires now, plus what an earlier round required
    and nobody approved (handoff.domain.approval_carryover); recorded for the rounds to come."""
    directory = approver_directory()
    required = required_approvals(deal, playbook.approvals, directory, non_standard_clauses=non_standard,
                                  estimated_margin=margin)
    history = approval_rounds()
    earlier = history.earlier(handoff_id, before_round=rework) if rework else []
    if earlier:
        approved = {a.kind for a in approvals().list_for_handoff(handoff_id) if a.status == "APPROVED"}
        required = carry_over(required, earlier, approved, deal, directory, playbook.approvals.deadlines)
        carried = [r.kind for r in required if r.reason.startswith("Required since")]
        if carried:
            logger.warning("approvals carried over from an earlier round", extra={"handoff_id": handoff_id,
                                                                                 "kinds": carried})
    history.record(handoff_id, rework, required_in_round(required, rework, earlier))
    return required


def validate(handoff_id: str) -> dict:
    records = store()
    records.set_status(handoff_id, HandoffStatus.VALIDATING)
    rework = records.state(handoff_id).rework
    step = fix_round_step(STEP, rework)
    deal = records.deal(handoff_id)
    try:
        playbook = playbook_for(deal)
        exceptions, non_standard, categories = _exceptions(deal, playbook)
    except PlaybookError as error:
        logger.error("playbook cannot be used", extra={"handoff_id": handoff_id, "error": str(error)})
        playbook = None
        exceptions = in_crm_terms(_blocked_by_playbook(error, deal.detail.opportunity.service_line),
                                  intake_of(deal.detail.model_extra))
        non_standard, categories = [], []
    records.set_exceptions(handoff_id, STEP, exceptions)
    blocking = [e for e in exceptions if e.severity == "BLOCKING"]
    if blocking and playbook is not None:
        # What this deal would need approved is kept even when it is blocked: a correction must not drop it.
        _approvals(handoff_id, rework, deal, playbook, non_standard, estimate_margin(
            deal, playbook.cost_rates, playbook.default_cost_rate, playbook.cost_rate_currency))
    if blocking or playbook is None:
        records.set_status(handoff_id, HandoffStatus.BLOCKED)
        records.record_step(handoff_id, step, "BLOCKED", now(),
                            detail=", ".join(sorted({e.code for e in blocking})))
        _fix_request(handoff_id, deal, blocking, rework, records.round_summary(handoff_id))
        queue_exceptions_once(handoff_id, f"blocked#{rework}", HandoffStatus.BLOCKED.value, blocking,
                              priority=max((e.priority or 0) for e in blocking), fix_round=rework)
        metrics.add_metric(name="HandoffBlocked", unit=MetricUnit.Count, value=1)
        business_metrics.handoff_counted("HandoffsBlocked", deal)
        logger.info("handoff blocked", extra={"handoff_id": handoff_id, "codes": [e.code for e in blocking]})
        return {"ready": False, "approvals": []}

    margin = estimate_margin(deal, playbook.cost_rates, playbook.default_cost_rate, playbook.cost_rate_currency)
    # For analytics (facts `assessed`): the margin and the kinds of non-standard clause of this round.
    floor = playbook.approvals.finance_margin_below
    records.save(handoff_id, estimatedMargin=str(margin) if isinstance(margin, Decimal) else None,
                 marginFloor=str(floor) if floor is not None else None, nonStandardClauses=",".join(categories))
    approvals = _approvals(handoff_id, rework, deal, playbook, non_standard, margin)
    status = HandoffStatus.AWAITING_APPROVAL if approvals else HandoffStatus.PROVISIONING
    records.set_status(handoff_id, status)
    records.record_step(handoff_id, step, "SUCCEEDED", now(),
                        detail=f"{len(exceptions)} warning(s); approvals: {', '.join(a.kind for a in approvals) or 'none'}")
    logger.info("handoff ready", extra={"handoff_id": handoff_id, "approvals": [a.kind for a in approvals]})
    return {"ready": True, "approvals": [a.model_dump(mode="json", by_alias=True) for a in approvals]}
