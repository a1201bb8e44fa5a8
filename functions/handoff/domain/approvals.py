"""Human approvals, pure: who must approve a deal and why, what exactly to check, how approval
links are signed, and what the deadline policy says to do next. No AWS calls; the store, mailer
and handlers in handoff.adapters / handoff.handlers apply these decisions."""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    SecretStr,
    computed_field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from handoff.contracts import ClosedWonEvent
from handoff.contracts.timestamps import iso
from handoff.domain.policy import ApprovalRules

ApprovalKind = Literal["legal", "finance", "compliance", "procurement"]
KINDS: tuple[ApprovalKind, ...] = ("legal", "finance", "compliance", "procurement")
Status = Literal["PENDING", "APPROVED", "REJECTED", "EXPIRED", "ESCALATED"]
Action = Literal["remind", "escalate", "expire"]
PENDING_GSI_PK = "APPROVAL#PENDING"
# The sweeper runs every 15 minutes (retried twice); the task's own timeout waits well beyond that.
TASK_TIMEOUT_SLACK = timedelta(hours=1)
DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "config" / "approvers.yaml"

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


def human_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%a %d %b %Y, %H:%M UTC")


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_utc), PlainSerializer(iso, return_type=str, when_used="json")]


def hours(value: Decimal) -> timedelta:
    return timedelta(seconds=int(value * 3600))


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Contact(_Model):
    name: str = Field(min_length=1)
    email: EmailStr

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


# --- the approver directory ------------------------------------------------------------------
class ApproverRoute(_Model):
    region: str = "*"
    service_line: str = "*"
    approver: Contact
    escalation: Contact

    @model_validator(mode="after")
    def _distinct(self) -> "ApproverRoute":
        if self.approver.email.casefold() == self.escalation.email.casefold():
            raise ValueError(f"escalation for {self.approver.email} must be someone else")
        return self

    def matches(self, region: str, service_line: str) -> bool:
        return self.region in ("*", region) and self.service_line in ("*", service_line)

    @property
    def specificity(self) -> int:
        return (self.region != "*") * 2 + (self.service_line != "*")


class ApproverDirectory(_Model):
    """Approvers per kind; the most specific route wins (region + service line, region, service
    line, then "*"). Every kind needs a "*"/"*" route so routing never comes up empty."""

    approvers: dict[ApprovalKind, list[ApproverRoute]]

    @model_validator(mode="after")
    def _complete(self) -> "ApproverDirectory":
        for kind in KINDS:
            routes = self.approvers.get(kind, [])
            if not any(r.region == "*" and r.service_line == "*" for r in routes):
                raise ValueError(f"approvers.{kind} needs a route with region '*' and serviceLine '*'")
            keys = [(r.region, r.service_line) for r in routes]
            if len(keys) != len(set(keys)):
                raise ValueError(f"approvers.{kind} has two routes for the same region and service line")
        return self

    def route(self, kind: ApprovalKind, region: str, service_line: str) -> ApproverRoute:
        candidates = [r for r in self.approvers[kind] if r.matches(region, service_line)]
        return max(candidates, key=lambda r: r.specificity)

    @classmethod
    def from_yaml(cls, text: str) -> "ApproverDirectory":
        return cls.model_validate(yaml.safe_load(text))

    @classmethod
    def load(cls, path: Path = DEFAULT_DIRECTORY) -> "ApproverDirectory":
        return cls.from_yaml(path.read_text(encoding="utf-8"))


# --- what must be approved ---------------------------------------------------------------------
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


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.1'))} %"


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
        checks.append(f'Clause {clause.id} "{clause.title}": "{_excerpt(clause.text)}" Confirm this deviation '
                      "from our standard terms is acceptable, or state the fallback position.")
    checks.append(f"Confirm contract {contract.id} as signed is the version you reviewed.")
    return f"Non-standard contract clauses: {', '.join(names)}.", checks


@dataclass(frozen=True)
class MarginUnknown:
    """The margin could not be estimated; `reason` says why, for the finance approver."""

    reason: str


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
        reason = f"The margin cannot be estimated against the {_pct(floor)} floor: {margin.reason}."
    elif floor is not None and isinstance(margin, Decimal) and margin < floor:
        reason = f"Estimated margin {_pct(margin)} is below the {_pct(floor)} floor."
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
                checks.append(f'Clause {clause.id} "{clause.title}": "{_excerpt(clause.text)}" Confirm delivery '
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
        share = f" ({_pct(sub.cost.value / value.value)} of the contract value)" if (
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
        ))
    return result


def estimate_margin(event: ClosedWonEvent, cost_rates: dict[str, Decimal], default_rate: Decimal,
                    cost_currency: str) -> Decimal | MarginUnknown:
    """(value - cost) / value, cost = staffed hours x hourly cost rate per role (default_rate for roles
    not listed; rates in `cost_currency`) + subcontractor costs. No exchange rates are guessed: costs
    in another currency than the contract's make the margin unknown."""
    d = event.detail
    value = d.contract.value
    if value.value <= 0:
        return MarginUnknown(f"the contract value is {value}")
    if d.staffing and cost_currency != value.currency:
        return MarginUnknown(f"cost rates are in {cost_currency}, the contract in {value.currency}")
    foreign = sorted({s.cost.currency for s in d.subcontractors if s.cost.currency != value.currency})
    if foreign:
        return MarginUnknown(f"subcontractors are priced in {', '.join(foreign)}, the contract in {value.currency}")
    rates = {role.casefold(): rate for role, rate in cost_rates.items()}
    cost = sum((rates.get(s.role.casefold(), default_rate) * s.hours for s in d.staffing), Decimal(0))
    cost += sum((s.cost.value for s in d.subcontractors), Decimal(0))
    return ((value.value - cost) / value.value).quantize(Decimal("0.0001"))


# --- the deal as the approver sees it ---------------------------------------------------------------
SUMMARY_LABELS: dict[str, str] = {
    "opportunity": "Opportunity",
    "customer": "Customer",
    "value": "Contract value",
    "contract": "Contract",
    "term": "Term",
    "serviceLine": "Service line",
    "region": "Region",
    "countries": "Delivery countries",
    "scope": "Scope",
    "owner": "Deal owner",
}


def deal_summary(event: ClosedWonEvent) -> dict[str, str]:
    d = event.detail
    c = d.contract
    return {
        "opportunity": f"{d.opportunity.name} ({d.opportunity.id})",
        "customer": f"{d.account.legal_name} ({d.account.country})",
        "value": str(c.value),
        "contract": f"{c.id}, {c.type.replace('_', ' ')}, {c.status}, payment {c.payment_terms_days} days",
        "term": f"{c.start_date.isoformat()} to {c.end_date.isoformat()}",
        "serviceLine": d.opportunity.service_line,
        "region": d.opportunity.region,
        "countries": ", ".join(d.scope.countries),
        "scope": _excerpt(d.scope.summary, 300),
        "owner": f"{d.opportunity.owner.name} <{d.opportunity.owner.email}>",
    }


def summary_rows(summary: dict[str, str]) -> list[tuple[str, str]]:
    """Label/value rows in a fixed order (DynamoDB maps do not keep order)."""
    rows = [(label, summary[key]) for key, label in SUMMARY_LABELS.items() if summary.get(key)]
    return rows + sorted((k, v) for k, v in summary.items() if k not in SUMMARY_LABELS)


# --- the approval record ------------------------------------------------------------------------------
class AuditEntry(_Model):
    action: str
    at: UtcDateTime
    actor: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    detail: str | None = None
    verified_by: str | None = None  # decisions: how the actor was verified (signed-link, cognito, local)


class Approval(BaseModel):
    """One approval request as stored (camelCase attributes). The task token is a SecretStr: it
    prints as '**********' in logs and reprs, and only the Step Functions callback unwraps it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    approval_id: str
    handoff_id: str
    kind: ApprovalKind
    approver: str
    approver_name: str
    reason: str
    checklist: list[str]
    deal_summary: dict[str, str]
    deal_owner: Contact
    task_token: SecretStr = Field(repr=False)
    token_digest: str
    created_at: UtcDateTime
    expires_at: UtcDateTime
    remind_at: UtcDateTime | None = None
    reminded_at: UtcDateTime | None = None
    mailed_at: UtcDateTime | None = None
    status: Status = "PENDING"
    decided_by: str | None = None
    decided_at: UtcDateTime | None = None
    comment: str | None = None
    level: int = 0
    fix_round: int = 0  # the handoff's fix round it was requested in: a retry in the round finds it
    escalation_approver: Contact | None = None
    escalated_to: str | None = None
    escalated_from: str | None = None
    previous_approver: Contact | None = None
    remind_before_hours: Decimal = Decimal(12)
    escalation_within_hours: Decimal = Decimal(24)
    audit: list[AuditEntry] = Field(default_factory=list)

    @property
    def contact(self) -> Contact:
        return Contact(name=self.approver_name, email=self.approver)


def token_digest(task_token: str) -> str:
    """Stable, non-reversible reference to a task token (idempotency and log correlation)."""
    return hashlib.sha256(task_token.encode()).hexdigest()[:16]


def remind_time(expires_at: datetime, remind_before: timedelta, now: datetime) -> datetime | None:
    """When to remind, or None if that moment is already past (no reminder right after a request)."""
    at = expires_at - remind_before
    return at if at > now else None


def new_approval(
    approval_id: str, handoff_id: str, requirement: ApprovalRequirement, event: ClosedWonEvent, task_token: str,
    now: datetime, *, fix_round: int = 0,
) -> Approval:
    expires = (now + requirement.respond_within).replace(microsecond=0)  # links carry whole seconds
    owner = event.detail.opportunity.owner
    return Approval(
        approval_id=approval_id, handoff_id=handoff_id, kind=requirement.kind,
        approver=requirement.approver.email, approver_name=requirement.approver.name, reason=requirement.reason,
        checklist=requirement.checklist, deal_summary=deal_summary(event),
        deal_owner=Contact(name=owner.name, email=owner.email), task_token=SecretStr(task_token),
        token_digest=token_digest(task_token), created_at=now, expires_at=expires, fix_round=fix_round,
        remind_at=remind_time(expires, requirement.remind_before, now), status="PENDING", level=0,
        escalation_approver=requirement.escalation_approver,
        remind_before_hours=requirement.remind_before_hours,
        escalation_within_hours=requirement.escalation_within_hours,
        audit=[AuditEntry(action="requested", at=now, actor="workflow", detail=f"to {requirement.approver.email}")],
    )


def escalated_approval(old: Approval, new_id: str, now: datetime) -> Approval:
    """The level-1 request that replaces an unanswered one: same task token, new approver and link."""
    to = old.escalation_approver
    if to is None:
        raise ValueError(f"approval {old.approval_id} has no escalation approver")
    expires = (now + hours(old.escalation_within_hours)).replace(microsecond=0)
    return old.model_copy(update={
        "approval_id": new_id, "approver": to.email, "approver_name": to.name, "created_at": now,
        "expires_at": expires, "remind_at": remind_time(expires, hours(old.remind_before_hours), now),
        "reminded_at": None, "mailed_at": None, "status": "PENDING", "level": old.level + 1,
        "escalation_approver": None, "escalated_from": old.approval_id, "escalated_to": None,
        "previous_approver": old.contact,
        "audit": [AuditEntry(action="requested", at=now, actor="sweeper",
                             detail=f"escalated from {old.approver} ({old.approval_id})")],
    })


def next_action(approval: Approval, now: datetime) -> Action | None:
    """Deadline policy: remind once at remindAt; at expiresAt escalate a first-level request (if
    there is someone to escalate to), expire an escalated one."""
    if approval.status != "PENDING":
        return None
    if now >= approval.expires_at:
        return "escalate" if approval.level == 0 and approval.escalation_approver else "expire"
    if approval.remind_at and approval.reminded_at is None and now >= approval.remind_at:
        return "remind"
    return None


def decision_output(approval: Approval) -> dict[str, Any]:
    """What SendTaskSuccess hands back to the state machine."""
    return {
        "decision": approval.status, "approver": approval.decided_by, "comment": approval.comment or "",
        "decidedAt": iso(approval.decided_at) if approval.decided_at else None,
        "kind": approval.kind, "approvalId": approval.approval_id,
    }


def timeout_cause(approval: Approval) -> str:
    who = f"{approval.approver_name} <{approval.approver}>"
    if approval.previous_approver:
        who = f"{approval.previous_approver} nor, after escalation, {who}"
    return (f"The {approval.kind} approval for handoff {approval.handoff_id} was not answered: "
            f"no decision from {who} by {iso(approval.expires_at)}.")


# --- signed links -------------------------------------------------------------------------------------
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
