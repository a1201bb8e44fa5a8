"""What must be approved and why: the routing rules (legal, finance, compliance, procurement) over a deal."""

import re
from datetime import timedelta
from decimal import Decimal

from pydantic import ConfigDict, computed_field

from handoff.contracts import ClosedWonEvent
from handoff.domain.approvals.directory import ApproverDirectory
from handoff.domain.approvals.margin import MarginUnknown, percent
from handoff.domain.approvals.verification import Verification
from handoff.domain.approvals.vocabulary import KINDS, TASK_TIMEOUT_SLACK, ApprovalKind, Contact, _Model, excerpt, hours
from handoff.domain.policy import ApprovalRules

# GDPR applies across the EEA: the EU 27 plus Iceland, Liechtenstein and Norway.
EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})
# Words in a clause or the scope that mean personal data is handled (payroll and HR data are).
_PERSONAL_DATA = re.compile(
    r"personal data|personally identifiable|\bPII\b|\bGDPR\b|\bDSGVO\b|\bRGPD\b|data subjects?|"
    r"data protection|payroll|employee (?:data|records)|health data|patient",
    re.IGNORECASE,
)


class ApprovalRequirement(_Model):
    """One approval the workflow waits for: a Map item in the state machine, as
    model_dump(mode="json", by_alias=True). Its timeoutSeconds is the task's TimeoutSecondsPath."""

    model_config = ConfigDict(extra="ignore")  # timeoutSeconds comes back in on the way in

    kind: ApprovalKind
    reason: str
    checklist: list[str]
    approver: Contact
    escalation_approver: Contact
    respond_within_hours: Decimal
    remind_before_hours: Decimal
    escalation_within_hours: Decimal
    verification: Verification | None = None  # the directory's, for the kind; None: the kind's default

    @property
    def respond_within(self) -> timedelta:
        return hours(self.respond_within_hours)

    @property
    def remind_before(self) -> timedelta:
        return hours(self.remind_before_hours)

    @property
    def escalation_within(self) -> timedelta:
        return hours(self.escalation_within_hours)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def timeout_seconds(self) -> int:
        """A backstop for the task: the sweeper normally expires the approval first, with a clearer cause."""
        return int((self.respond_within + self.escalation_within + TASK_TIMEOUT_SLACK).total_seconds())


def _legal(event: ClosedWonEvent, clause_refs: list[str]) -> tuple[str, list[str]]:
    contract = event.detail.contract
    by_id = {c.id: c for c in contract.clauses}
    by_title = {c.title.casefold(): c for c in contract.clauses}
    checks, names = [], []
    for ref in clause_refs:
        clause = by_id.get(ref) or by_title.get(ref.casefold())
        if clause is None:
            names.append(ref)
            checks.append(f"Clause {ref!r} was flagged as non-standard: find it in contract {contract.id} and "
                          "confirm the deviation is acceptable.")
            continue
        names.append(f"{clause.id} {clause.title}")
        checks.append(f'Clause {clause.id} "{clause.title}": "{excerpt(clause.text)}" Confirm this deviation '
                      "from our standard terms is acceptable, or state the fallback position.")
    checks.append(f"Confirm contract {contract.id} as signed is the version you reviewed.")
    return f"Non-standard contract clauses: {', '.join(names)}.", checks


def _finance(event: ClosedWonEvent, rules: ApprovalRules,
             margin: Decimal | MarginUnknown | None) -> tuple[list[str], list[str]]:
    d = event.detail
    value = d.contract.value
    reasons, checks = [], []
    if rules.finance_deal_value_over is not None:
        threshold = f"{format(rules.finance_deal_value_over, 'f')} {rules.finance_currency}"
        rate = Decimal(1) if value.currency == rules.finance_currency else rules.finance_fx_rates.get(value.currency)
        if rate is None:
            reasons.append(f"Contract value {value} cannot be compared with the {threshold} finance threshold "
                           f"(no {value.currency}/{rules.finance_currency} rate configured).")
        elif value.value * rate > rules.finance_deal_value_over:
            reasons.append(f"Contract value {value} is over the {threshold} finance threshold.")
        if reasons:
            checks += [
                f"Confirm {d.account.legal_name} can carry {value} of exposure (credit limit, collateral).",
                (f"Confirm payment terms of {d.contract.payment_terms_days} days and the {d.contract.type} "
                 "billing terms are acceptable."),
            ]
    floor = rules.finance_margin_below
    reason = None
    if floor is not None and isinstance(margin, MarginUnknown):  # a floor nobody can check is not a pass
        reason = f"The margin cannot be estimated against the {percent(floor)} floor: {margin.reason}."
    elif floor is not None and isinstance(margin, Decimal) and margin < floor:
        reason = f"Estimated margin {percent(margin)} is below the {percent(floor)} floor."
    if reason:
        reasons.append(reason)
        staffed = sum(s.hours for s in d.staffing)
        checks += [
            (f"Review the cost estimate behind the margin: {staffed} staffed hours across "
             f"{len(d.staffing)} roles, {len(d.subcontractors)} subcontractor(s)."),
            "Confirm any discount or rate deviation was authorised, or ask for a re-price.",
        ]
    return reasons, checks


def mentions_personal_data(event: ClosedWonEvent) -> bool:
    d = event.detail
    texts = [d.scope.summary] + [f"{c.title} {c.text}" for c in d.contract.clauses]
    return any(_PERSONAL_DATA.search(t) for t in texts)


def _compliance(event: ClosedWonEvent, rules: ApprovalRules) -> tuple[list[str], list[str]]:
    d = event.detail
    reasons, checks = [], []
    eu = sorted(({d.account.country} | set(d.scope.countries)) & EEA)
    if rules.compliance_personal_data_eu and eu and mentions_personal_data(event):
        reasons.append(f"Personal data is processed in the EU/EEA ({', '.join(eu)}).")
        checks.append(f"Confirm a data processing agreement (GDPR Art. 28) with {d.account.legal_name} "
                      "covers this engagement.")
        outside = sorted(({s.location for s in d.staffing} | {s.country for s in d.subcontractors}) - EEA)
        if outside:
            checks.append(f"Work is staffed or subcontracted outside the EEA ({', '.join(outside)}): confirm "
                          "standard contractual clauses or an adequacy decision cover the transfer.")
        for sub in d.subcontractors:
            checks.append(f"Confirm {sub.vendor} ({sub.country}, {sub.scope}) is approved as a sub-processor.")
        for clause in d.contract.clauses:
            if _PERSONAL_DATA.search(f"{clause.title} {clause.text}"):
                checks.append(f'Clause {clause.id} "{clause.title}": "{excerpt(clause.text)}" Confirm delivery '
                              "can meet this obligation.")
    involved = {d.account.country, d.account.billing_address.country, *d.scope.countries}
    involved |= {s.location for s in d.staffing} | {s.country for s in d.subcontractors}
    restricted = sorted(involved & {c.upper() for c in rules.compliance_restricted_countries})
    if restricted:
        reasons.append(f"Restricted countries involved: {', '.join(restricted)}.")
        checks.append(f"Screen {d.account.legal_name}, its owners and the subcontractors against sanctions lists "
                      f"and export-control rules for {', '.join(restricted)}; confirm any licence needed.")
    return reasons, checks


def _procurement(event: ClosedWonEvent) -> tuple[str, list[str]]:
    d = event.detail
    value = d.contract.value
    checks = []
    for sub in d.subcontractors:
        vendor = f"{sub.vendor} ({sub.vendor_id})" if sub.vendor_id else f"{sub.vendor} (not in the vendor master)"
        share = f" ({percent(sub.cost.value / value.value)} of the contract value)" if (
            sub.cost.currency == value.currency and value.value > 0) else ""
        checks.append(f"{vendor}, {sub.country}: {sub.scope}. Cost {sub.cost}{share}: confirm it fits the budget.")
        if not sub.vendor_id:
            checks.append(f"Onboard {sub.vendor}: master agreement, insurance and tax forms before any work starts.")
    checks.append("Confirm each vendor has a signed master agreement and that flow-down terms match the customer "
                  "contract.")
    names = ", ".join(f"{s.vendor} ({s.cost})" for s in d.subcontractors)
    return f"Work is subcontracted: {names}.", checks


def required_approvals(
    event: ClosedWonEvent,
    rules: ApprovalRules,
    directory: ApproverDirectory,
    *,
    non_standard_clauses: list[str],
    estimated_margin: Decimal | MarginUnknown | None,
) -> list[ApprovalRequirement]:
    """The approvals a deal needs, at most one per kind (reasons combined), in a stable order.
    non_standard_clauses are clause ids (or titles) the clause analyser flagged."""
    found: dict[ApprovalKind, tuple[str, list[str]]] = {}
    if rules.legal_on_non_standard_clauses and non_standard_clauses:
        found["legal"] = _legal(event, non_standard_clauses)
    reasons, checks = _finance(event, rules, estimated_margin)
    if reasons:
        found["finance"] = (" ".join(reasons), checks)
    reasons, checks = _compliance(event, rules)
    if reasons:
        found["compliance"] = (" ".join(reasons), checks)
    if rules.procurement_on_subcontractors and event.detail.subcontractors:
        found["procurement"] = _procurement(event)
    opportunity = event.detail.opportunity
    deadlines = rules.deadlines
    result = []
    for kind in KINDS:
        if kind not in found:
            continue
        route = directory.route(kind, opportunity.region, opportunity.service_line)
        reason, checklist = found[kind]
        result.append(ApprovalRequirement(
            kind=kind, reason=reason, checklist=checklist, approver=route.approver,
            escalation_approver=route.escalation, respond_within_hours=deadlines.respond_within_hours,
            remind_before_hours=deadlines.remind_before_hours,
            escalation_within_hours=deadlines.escalation_within_hours,
            verification=directory.verification_for(kind),
        ))
    return result
