"""Staffing demand for resource management: soft while approvals run, firm once the deal is a project."""

import hashlib

from handoff.contracts import ClosedWonEvent, StaffingRequest

FIRM, SOFT, RELEASED = "FIRM", "SOFT", "RELEASED"


def request_id(opportunity_id: str, index: int, role: str) -> str:
    """Deterministic, so a replayed event maps onto the same requests instead of duplicating them."""
    digest = hashlib.sha256(f"{opportunity_id}|{index}|{role.strip().casefold()}".encode()).hexdigest()
    return f"SR-{digest[:12].upper()}"


def staffing_requests(event: ClosedWonEvent, *, firm: bool) -> list[StaffingRequest]:
    """One request per staffing need, in event order (index from 1)."""
    detail = event.detail
    return [
        StaffingRequest(
            role=need.role,
            hours=need.hours,
            start_date=need.start_date,
            location=need.location,
            status=FIRM if firm else SOFT,
            skills=list(need.skills),
            request_id=request_id(detail.opportunity.id, index, need.role),
        )
        for index, need in enumerate(detail.staffing, 1)
    ]


def _key(request: StaffingRequest) -> tuple[str, ...]:
    # Requests opened elsewhere may lack an id: fall back to their natural key.
    if request.request_id:
        return ("id", request.request_id)
    return ("natural", request.role.casefold(), request.start_date.isoformat(), request.location)


def firm_up(existing: list[StaffingRequest], wanted: list[StaffingRequest]) -> list[StaffingRequest]:
    """Reconcile open requests with the demand wanted now.

    Matched by request_id: wanted ones become FIRM with the wanted details (existing order kept),
    wanted ones not yet open are added FIRM, open ones no longer wanted become RELEASED. Duplicates
    on either side collapse to one.
    """
    wanted_by_key: dict[tuple[str, ...], StaffingRequest] = {}
    for request in wanted:
        wanted_by_key.setdefault(_key(request), request)
    result: list[StaffingRequest] = []
    seen: set[tuple[str, ...]] = set()
    for request in existing:
        key = _key(request)
        if key in seen:
            continue
        seen.add(key)
        match = wanted_by_key.get(key)
        result.append(request.model_copy(update={"status": RELEASED}) if match is None
                      else match.model_copy(update={"status": FIRM}))
    result += [r.model_copy(update={"status": FIRM}) for k, r in wanted_by_key.items() if k not in seen]
    return result
