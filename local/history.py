"""python -m local history: a seeded, SYNTHETIC history of handoffs written as facts, so that
`python -m local report --facts DIR` shows meaningful analytics on the first day. Every fact is
marked synthetic (column `synthetic`, and the report says so). The same seed gives the same
facts; the months end on --until (default 2026-11-30), not on today, for the same reason.

The shapes are plausible, not measured: ERP and multi-country deals raise more exceptions, new
customers miss tax ids, milestone contracts mismatch, approvals take hours to days and some time
out, billing and CRM integrations fail now and then and are retried."""

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from handoff.domain.facts import Fact, sequence_text

SERVICE_LINES = {  # weight, contract types (weighted), mean margin, base exception probability
    "erp-implementation": (30, {"milestone": 6, "fixed_fee": 2, "time_and_materials": 2}, 0.31, 0.42),
    "advisory": (25, {"fixed_fee": 5, "time_and_materials": 4, "milestone": 1}, 0.38, 0.22),
    "managed-services": (20, {"retainer": 8, "time_and_materials": 2}, 0.45, 0.15),
    "data-analytics": (25, {"time_and_materials": 5, "milestone": 3, "fixed_fee": 2}, 0.36, 0.28),
}
REGIONS = {"AMER": (40, ["US", "CA"]), "EMEA": (40, ["DE", "FR", "GB", "NL", "ES"]), "APAC": (20, ["AU", "SG", "JP"])}
CODES = {  # code: (weight, owner group, when more likely)
    "MISSING_FIELD": (5, "sales-ops"), "INVALID_TAX_ID": (4, "finance"), "CONTRACT_NOT_SIGNED": (3, "legal"),
    "MILESTONES_MISMATCH": (3, "finance"), "RATE_CARD_GAP": (2, "pricing"), "DATES_INCOHERENT": (2, "sales-ops"),
    "CURRENCY_MISMATCH": (1, "finance"), "UNKNOWN_VENDOR": (1, "procurement"),
}
FIELDS = {"MISSING_FIELD": "account.billingContact.email", "INVALID_TAX_ID": "account.taxId",
          "CONTRACT_NOT_SIGNED": "contract.status", "MILESTONES_MISMATCH": "contract.milestones",
          "RATE_CARD_GAP": "contract.rateCard", "DATES_INCOHERENT": "contract.endDate",
          "CURRENCY_MISMATCH": "contract.value.currency", "UNKNOWN_VENDOR": "subcontractors[0].vendor"}
CLAUSE_KINDS = ["liability_cap", "unlimited_liability", "termination_for_convenience", "penalties",
                "payment_terms", "ip_ownership", "data_residency"]
SYSTEMS = {"customer_master": 0.01, "projects": 0.01, "billing": 0.05, "staffing": 0.02, "procurement": 0.03,
           "crm": 0.04}
STEPS = [("customer_master", "SyncCustomerMaster", "match_or_create"),
         ("projects", "CreateProjectShell", "create_project"),
         ("billing", "SetupBillingSchedule", "create_schedule"), ("staffing", "RequestStaffing", "firm"),
         ("procurement", "RaisePurchaseRequisitions", "raise_requisitions"),
         ("crm", "MarkActivated", "project_created")]
HOUR, DAY = 3600.0, 86400.0


def _pick(rng: random.Random, weights: dict[str, Any]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[w[0] if isinstance(w, tuple) else w for w in weights.values()])[0]


def _lognormal(rng: random.Random, median: float, spread: float = 0.8) -> float:
    return median * math.exp(rng.gauss(0, spread))


@dataclass
class _Writer:
    seed: int
    handoff_id: str
    facts: list[Fact] = field(default_factory=list)
    counter: list[int] = field(default_factory=lambda: [0])

    def __call__(self, kind: str, ts: float, **fields: Any) -> None:
        self.counter[0] += 1
        n = self.counter[0]
        at = datetime.fromtimestamp(ts, UTC)
        self.facts.append(Fact(
            fact_id=hashlib.sha256(f"synthetic|{self.seed}|{self.handoff_id}|{n}".encode()).hexdigest()[:32],
            seq=sequence_text(int(ts * 1000) * 1000 + n % 1000), kind=kind, synthetic=True,
            handoff_id=self.handoff_id, occurred_at=at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            ts=round(ts, 3), dt=at.date().isoformat(), **fields))


def generate(seed: int, handoffs: int = 300, months: int = 6, until: date = date(2026, 11, 30)) -> list[Fact]:
    rng = random.Random(seed)
    end = datetime(until.year, until.month, until.day, 18, tzinfo=UTC).timestamp()
    start = end - months * 30.4 * DAY
    facts: list[Fact] = []
    counter = [0]
    for i in range(handoffs):
        handoff_id = "ho-" + hashlib.sha256(f"synthetic|{seed}|{i}".encode()).hexdigest()[:16]
        write = _Writer(seed, handoff_id, facts, counter)
        _one(rng, write, i, start + (end - start) * rng.random())
    return sorted(facts, key=lambda f: f.seq)


def _one(rng: random.Random, write: _Writer, index: int, closed: float) -> None:
    line = _pick(rng, SERVICE_LINES)
    _, contracts, mean_margin, base_rate = SERVICE_LINES[line]
    region = _pick(rng, REGIONS)
    pool = REGIONS[region][1]
    countries = sorted(rng.sample(pool, k=min(len(pool), 1 + (rng.random() < 0.3) + (rng.random() < 0.1))))
    contract_type = _pick(rng, contracts)
    new_customer = rng.random() < 0.35
    subcontractors = rng.choice([0, 0, 0, 1, 2]) if line != "managed-services" else 0
    clauses = sorted(rng.sample(CLAUSE_KINDS, k=rng.choice([0, 0, 0, 1, 1, 2])))
    amount = round(_lognormal(rng, {"erp-implementation": 600_000, "advisory": 120_000}.get(line, 250_000), 0.7), -2)
    margin = max(0.02, rng.gauss(mean_margin - 0.04 * subcontractors - 0.05 * ("unlimited_liability" in clauses)
                                 - 0.03 * (contract_type == "fixed_fee"), 0.07))
    dims = {"opportunity_id": f"SYN-{index:05d}", "service_line": line, "region": region}
    received = closed + _lognormal(rng, 20 * 60, 1.0)
    write("deal", received, contract_type=contract_type, amount=f"{amount:.2f}", currency="EUR" if region == "EMEA"
          else "USD", close_date=datetime.fromtimestamp(closed, UTC).date().isoformat(), closed_ts=round(closed, 3),
          payment_terms_days=rng.choice([30, 30, 45, 60, 90]), subcontractors=subcontractors,
          countries=",".join(countries), account_country=countries[0], customer_new=new_customer, **dims)
    write("received", received, status="RECEIVED", fix_round=0, **dims)
    if rng.random() < 0.4:  # soft staffing opened while the deal was in the pipeline
        write("staffing_soft", closed - _lognormal(rng, 12 * DAY, 0.5), **dims)
    rate = base_rate + 0.12 * (len(countries) > 1) + 0.08 * new_customer + 0.1 * (contract_type == "milestone") \
        + 0.06 * bool(clauses)
    now, fix_round, status = received + 5, 0, "VALIDATING"
    write("status_changed", now, status=status, previous_status="RECEIVED", fix_round=0, **dims)
    while rng.random() < rate and fix_round < 3:  # a blocking round
        codes = {_pick(rng, CODES) for _ in range(1 + (rng.random() < 0.3))}
        if new_customer and rng.random() < 0.4:
            codes.add("INVALID_TAX_ID")
        if contract_type == "milestone" and rng.random() < 0.3:
            codes.add("MILESTONES_MISMATCH")
        for code in sorted(codes):
            write("exception_raised", now, code=code, severity="BLOCKING", field=FIELDS[code],
                  owner_group=CODES[code][1], step="ValidateReadiness", priority=600 + rng.randint(0, 300), **dims)
        write("step", now + 1, step="ValidateReadiness", fix_round=fix_round, status="BLOCKED",
              detail=", ".join(sorted(codes)))
        write("status_changed", now + 1, status="BLOCKED", previous_status="VALIDATING", fix_round=fix_round, **dims)
        if rng.random() < 0.12:  # never fixed (yet)
            return
        now += _lognormal(rng, {"legal": 3, "finance": 1.5}.get(CODES[sorted(codes)[0]][1], 1) * DAY, 0.9)
        fix_round += 1
        write("round_started", now, fix_round=fix_round, status="VALIDATING", **dims)
        for code in sorted(codes):
            write("exception_resolved", now, code=code, severity="BLOCKING", field=FIELDS[code],
                  owner_group=CODES[code][1], step="ValidateReadiness", **dims)
        write("status_changed", now, status="VALIDATING", previous_status="BLOCKED", fix_round=fix_round, **dims)
        rate *= 0.35
    for kind in clauses[:1]:
        write("exception_raised", now, code="NON_STANDARD_CLAUSE", severity="WARNING", owner_group="legal",
              field="contract.clauses", step="AnalyseContract", detail=kind, **dims)
    write("step", now + 1, step="ValidateReadiness", fix_round=fix_round, status="SUCCEEDED")
    write("assessed", now + 1, margin=round(margin, 4), margin_floor=0.25, clauses=",".join(clauses), fix_round=fix_round,
          **dims)
    kinds = (["finance"] if amount > 400_000 or margin < 0.25 else []) + (["legal"] if clauses else []) \
        + (["procurement"] if subcontractors else [])
    if kinds:
        write("status_changed", now + 1, status="AWAITING_APPROVAL", previous_status="VALIDATING",
              fix_round=fix_round, **dims)
    latest = now + 1
    for kind in kinds:
        asked = now + 2
        approval_id = f"{write.handoff_id}.{kind}"
        write("approval_requested", asked, approval_kind=kind, approval_id=approval_id, decision="PENDING")
        roll = rng.random()
        if roll < 0.05:
            decided = asked + 7 * DAY
            write("approval_decided", decided, approval_kind=kind, approval_id=approval_id, decision="EXPIRED",
                  duration_seconds=7 * DAY)
            write("exception_raised", decided, code="APPROVAL_TIMEOUT", severity="BLOCKING", owner_group=kind,
                  step="CloseHandoff", field=f"approvals.{kind}", **dims)
            write("status_changed", decided, status="BLOCKED", previous_status="AWAITING_APPROVAL",
                  fix_round=fix_round, **dims)
            return
        took = _lognormal(rng, {"finance": 9 * HOUR, "legal": 30 * HOUR, "procurement": 5 * HOUR}[kind], 0.9)
        decision = "REJECTED" if roll < 0.08 else "APPROVED"
        write("approval_decided", asked + took, approval_kind=kind, approval_id=approval_id, decision=decision,
              duration_seconds=round(took, 3))
        if decision == "REJECTED":
            write("status_changed", asked + took, status="REJECTED", previous_status="AWAITING_APPROVAL",
                  fix_round=fix_round, **dims)
            return
        latest = max(latest, asked + took)
    now = latest + 30
    write("status_changed", now, status="PROVISIONING", previous_status="AWAITING_APPROVAL" if kinds else "VALIDATING",
          fix_round=fix_round, **dims)
    for system, step, operation in STEPS:
        if system == "procurement" and not subcontractors:
            continue
        while rng.random() < SYSTEMS[system]:  # a failed attempt, retried by the state machine
            write("system_call", now, system=system, operation=operation, step=step, outcome="FAILED",
                  error="IntegrationTransient", duration_seconds=round(_lognormal(rng, 4, 0.5), 3))
            now += 2 ** rng.randint(1, 5)
        if rng.random() < 0.004:
            write("system_call", now, system=system, operation=operation, step=step, outcome="FAILED",
                  error="IntegrationPermanent", duration_seconds=0.4)
            write("exception_raised", now, code="INTEGRATION_FAILURE", severity="BLOCKING", owner_group="integration",
                  step=step, **dims)
            write("status_changed", now, status="FAILED", previous_status="PROVISIONING", fix_round=fix_round, **dims)
            return
        took = _lognormal(rng, 0.8, 0.6)
        write("system_call", now, system=system, operation=operation, step=step, outcome="SUCCEEDED",
              duration_seconds=round(took, 3))
        now += took + 1
        write("step", now, step=step, fix_round=fix_round, status="SUCCEEDED")
        if system == "billing":
            lines_total = amount if rng.random() > 0.03 else amount - 100
            write("billing_schedule", now, contract_type=contract_type, amount=f"{amount:.2f}",
                  lines_total=f"{lines_total:.2f}", outcome="SET", fix_round=fix_round, **dims)
    write("status_changed", now, status="ACTIVATED", previous_status="PROVISIONING", fix_round=fix_round, **dims)
    write("activated", now, status="ACTIVATED", fix_round=fix_round, duration_seconds=round(now - received, 3), **dims)
    if rng.random() < 0.02:
        later = now + _lognormal(rng, 5 * DAY)
        write("billing_schedule", later, contract_type=contract_type, amount=f"{amount:.2f}",
              lines_total=f"{amount:.2f}", outcome="CORRECTED_AFTER_ACTIVATION", fix_round=fix_round, **dims)


def main(seed: int, out: Path, handoffs: int, months: int) -> int:
    from local.report import write_facts

    facts = generate(seed, handoffs, months)
    out.mkdir(parents=True, exist_ok=True)
    files = write_facts(facts, out)
    print(f"SYNTHETIC history: {handoffs} handoffs over {months} months, {len(facts)} facts in {len(files)} "
          f"file(s) under {out} (seed {seed})")
    return 0
