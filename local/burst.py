"""A seeded burst of CRM events with a realistic mix, and the check that nothing was lost or
duplicated once the runtime has settled.

The mix, drawn from the examples (tests/fixtures, the same as ../shared/examples), each with its
own opportunity id and event id: closed-won deals (some preceded by a stage change of the same
deal), stage changes of deals still in the pipeline, needs-fix deals (blocked until fixed),
invalid events (fail their contract: quarantined, no handoff) and redelivered duplicates (an
earlier event sent again, same event id: nothing happens twice).

    python -m local burst --events 1000 --seed 14 --out .local/burst.json
    python -m local run .local/burst.json --allow-invalid
"""

import copy
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
# Shares of the mix (the rest of the events are closed-won deals).
SHARES = {"stage_change": 0.15, "needs_fix": 0.08, "invalid": 0.07, "duplicate": 0.10}
STAGE_CHANGE_BEFORE_CLOSE = 0.5  # of the stage changes, the share for a deal that closes in the burst
KIND_FIELD = "x-burst-kind"  # kept out of the events: the plan knows each event's kind


def _load(kind: str) -> dict[str, dict]:
    found = {}
    for path in sorted((FIXTURES / kind).glob("*.json")):
        try:
            found[path.stem] = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue  # truncated.json: not JSON, so not something a CRM can put on a bus
    return found


@dataclass
class Burst:
    """The events in publishing order, and what each one is."""

    events: list[dict] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # closed_won, stage_change, needs_fix, invalid, duplicate
    examples: list[str] = field(default_factory=list)  # the fixture each event came from
    needs_fix_known: bool = True  # False for events classified from a file: a blocked deal may be any

    def add(self, event: dict, kind: str, example: str) -> None:
        self.events.append(event)
        self.kinds.append(kind)
        self.examples.append(example)

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.kinds))

    def opportunities(self, kind: str) -> dict[str, str]:
        """Opportunity id -> example, of the events of one kind (first sending only)."""
        return {e["detail"]["opportunity"]["id"]: ex for e, k, ex in zip(self.events, self.kinds, self.examples, strict=True)
                if k == kind}


def generate(count: int, seed: int) -> Burst:
    """`count` events; the same seed gives the same events."""
    rng = random.Random(seed)
    closed_won, needs_fix, invalid = _load("closed-won"), _load("needs-fix"), _load("invalid")
    stage_changed = next(iter(_load("stage-changed").values()))
    burst = Burst()
    sent: list[tuple[dict, str]] = []  # events a CRM could redeliver: (event, example)
    planned_close: list[str] = []  # closed-won examples owed to deals that had a stage change

    def own(raw: dict, n: int, opportunity: str | None) -> dict:
        event = copy.deepcopy(raw)
        event["detail"]["eventId"] = f"burst-{seed}-evt-{n:05d}"
        deal = event["detail"].get("opportunity")
        if opportunity is not None and isinstance(deal, dict) and "id" in deal:  # an event missing its id stays so
            deal["id"] = opportunity
        return event

    weights = [*SHARES.values(), 1 - sum(SHARES.values())]
    kinds = [*SHARES, "closed_won"]
    n = 0
    while len(burst.events) < count:
        n += 1
        kind = rng.choices(kinds, weights)[0]
        opportunity = f"burst-{seed}-{n:05d}"
        if kind == "duplicate" and not sent:
            kind = "closed_won"
        if kind == "closed_won" and planned_close and rng.random() < 0.7:
            opportunity, example = planned_close.pop(0), rng.choice(sorted(closed_won))
            event = own(closed_won[example], n, opportunity)
        elif kind == "closed_won":
            example = rng.choice(sorted(closed_won))
            event = own(closed_won[example], n, opportunity)
        elif kind == "stage_change":
            example = "emea-erp-negotiation"
            event = own(stage_changed, n, opportunity)
            if rng.random() < STAGE_CHANGE_BEFORE_CLOSE:
                planned_close.append(opportunity)
        elif kind == "needs_fix":
            example = rng.choice(sorted(needs_fix))
            event = own(needs_fix[example], n, opportunity)
        elif kind == "invalid":
            example = rng.choice(sorted(invalid))
            event = own(invalid[example], n, opportunity)
        else:
            original, example = rng.choice(sent)
            event = copy.deepcopy(original)
        burst.add(event, kind, example)
        if kind in ("closed_won", "stage_change", "needs_fix"):
            sent.append((event, example))
    return burst


def write(burst: Burst, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(burst.events) + "\n")


def classify(events: list[dict]) -> Burst:
    """What each event of any list is, from the events alone (for a file given to `run`): the
    second sending of an event id is a duplicate; an event failing its contract is invalid; the
    rest by detail-type. Needs-fix deals are not told apart here (they are valid closed-won)."""
    from handoff.contracts import ContractError, parse_event, parse_stage_changed

    burst = Burst(needs_fix_known=False)
    seen: set[str] = set()
    for event in events:
        detail = event.get("detail") if isinstance(event, dict) else None
        event_id = detail.get("eventId") if isinstance(detail, dict) else None
        stage = isinstance(event, dict) and event.get("detail-type") == "Opportunity Stage Changed"
        try:
            (parse_stage_changed if stage else parse_event)(event)
            kind = "stage_change" if stage else "closed_won"
        except ContractError:
            kind = "invalid"
        if event_id in seen:
            kind = "duplicate"
        seen.add(event_id) if event_id else None
        burst.add(event, kind, "")
    return burst


@dataclass
class Outcome:
    """What the check found: `problems` is empty when nothing was lost or duplicated."""

    statuses: dict[str, int]
    counts: dict[str, int]
    problems: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"statuses": self.statuses, "counts": self.counts, "problems": self.problems}


SETTLED_OK = {"ACTIVATED", "BLOCKED", "AWAITING_APPROVAL", "REJECTED"}


def check(runtime: Any, burst: Burst, *, decided: str = "approve") -> Outcome:
    """Every closed-won deal has exactly one handoff, ACTIVATED (or BLOCKED, or waiting on or
    rejected at an approval when approvals were not approved); every needs-fix deal is BLOCKED;
    every invalid event is quarantined and has no handoff; nothing was created twice in the
    systems of record (the ledger: projects, billing schedules, staffing requests, requisitions,
    CRM write-backs) or mailed twice (launch packets, approval requests)."""
    problems: list[str] = []
    records = runtime.records()
    by_opportunity: dict[str, list[Any]] = {}
    for record in records:
        by_opportunity.setdefault(record.opportunity_id, []).append(record)
    statuses = dict(Counter(r.status for r in records))
    closed = burst.opportunities("closed_won")
    blocked = burst.opportunities("needs_fix")
    wanted = {"approve": {"ACTIVATED"}, "reject": {"ACTIVATED", "REJECTED"},
              "none": {"ACTIVATED", "AWAITING_APPROVAL"}}.get(decided, SETTLED_OK)
    if not burst.needs_fix_known:
        wanted = wanted | {"BLOCKED"}
    for opportunity, example in closed.items():
        found = by_opportunity.get(opportunity, [])
        if len(found) != 1:
            problems.append(f"{opportunity} ({example}): {len(found)} handoffs, expected 1")
        elif found[0].status not in wanted:
            why = "; ".join(e.message for e in found[0].exceptions)[:500]  # the error that closed it
            problems.append(f"{opportunity} ({example}): {found[0].status}, expected {sorted(wanted)}"
                            + (f" ({why})" if why else ""))
    for opportunity, example in blocked.items():
        found = by_opportunity.get(opportunity, [])
        if len(found) != 1 or found[0].status != "BLOCKED":
            problems.append(f"{opportunity} ({example}): {[r.status for r in found]}, expected one BLOCKED")
    invalid_ids = {e["detail"]["eventId"] for e, k in zip(burst.events, burst.kinds, strict=True) if k == "invalid"}
    quarantined = {q["key"].rsplit("/", 1)[-1].removesuffix(".json") for q in runtime.quarantined()}  # <eventId>.json
    missing = sorted(invalid_ids - quarantined)
    if missing:
        problems.append(f"{len(missing)} invalid event(s) not quarantined: {missing[:5]}")
    for e, k in zip(burst.events, burst.kinds, strict=True):
        opportunity = (e["detail"].get("opportunity") or {}).get("id")
        if k == "invalid" and opportunity in by_opportunity:
            problems.append(f"invalid event {e['detail']['eventId']} made a handoff for {opportunity}")

    ledger = _ledger_by_type(runtime)
    counts: dict[str, int] = {"handoffs": len(records), "quarantined": len(quarantined)}
    per_handoff = {"projects": ledger.get("project", []), "billing_schedules": ledger.get("billing_schedule", []),
                   "crm_writebacks": ledger.get("crm_writeback", [])}
    activated = {r.opportunity_id: r for r in records if r.status == "ACTIVATED"}
    for name, items in per_handoff.items():
        counts[name] = len(items)
        owners = Counter(_handoff_of(i) for i in items)
        twice = [o for o, c in owners.items() if c > 1]
        if twice:
            problems.append(f"{name}: more than one for {twice[:5]}")
        if name != "crm_writebacks" and len(items) != len(activated):
            problems.append(f"{name}: {len(items)} for {len(activated)} activated handoffs")
    requisitions = ledger.get("requisition", [])
    counts["requisitions"] = len(requisitions)
    expected_requisitions = sum(len(r.purchase_requisitions) for r in activated.values())
    if len(requisitions) != expected_requisitions:
        problems.append(f"requisitions: {len(requisitions)} in the ledger, {expected_requisitions} on the handoffs")
    staffing = ledger.get("staffing_request", [])
    firm = [s for s in staffing if s.get("status") != "SOFT" and s.get("opportunityId") in activated]
    counts["staffing_requests"] = len(staffing)
    expected_staffing = sum(len(r.staffing_requests) for r in activated.values())
    if len(firm) != expected_staffing:
        problems.append(f"staffing requests: {len(firm)} firm in the ledger, {expected_staffing} on the handoffs")
    emails = runtime.emails()
    counts["emails"] = len(emails)
    launch = Counter(m.subject for m in emails if m.subject.startswith("Launch packet ready"))
    counts["launch_packet_emails"] = sum(launch.values())
    if sum(launch.values()) != len(activated) or any(c > 1 for c in launch.values()):
        problems.append(f"launch packet emails: {sum(launch.values())} for {len(activated)} activated, "
                        f"{sum(1 for c in launch.values() if c > 1)} subject(s) sent more than once")
    requests = Counter((m.to, m.subject) for m in emails if m.links() and "approv" in m.subject.lower())
    counts["approval_emails"] = sum(requests.values())
    return Outcome(statuses, counts, problems)


def _handoff_of(item: dict) -> str:
    """The handoff that wrote a ledger item: its idempotency key is <handoffId>:<step>."""
    return str(item.get("idempotencyKey") or item.get("pk")).split(":")[0]


def _ledger_by_type(runtime: Any) -> dict[str, list[dict]]:
    """The ledger's items (the local systems of record) by type, in one scan."""
    from handoff.adapters.ledger.store import plain

    table = runtime.session.resource("dynamodb").Table(runtime.env("LEDGER_TABLE"))
    found: dict[str, list[dict]] = {}
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        for item in page.get("Items", []):
            found.setdefault(str(item.get("type")), []).append(plain(item))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(count: int, seed: int, out: Path) -> int:
    burst = generate(count, seed)
    write(burst, out)
    print(f"{len(burst.events)} events to {out}: " + ", ".join(f"{k} {v}" for k, v in sorted(burst.counts().items())))
    return 0
