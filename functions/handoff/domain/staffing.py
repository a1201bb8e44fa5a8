"""Staffing demand for resource management: soft (tentative) while the deal is in the pipeline,
firm once it is won, released when it is lost. Pure: adapters apply what these functions decide."""

import hashlib
from collections.abc import Callable, Iterable

from handoff.contracts import ClosedWonEvent, StaffingNeed, StaffingRequest

FIRM, SOFT, RELEASED = "FIRM", "SOFT", "RELEASED"


def request_id(opportunity_id: str, index: int, role: str) -> str:
    """Deterministic, so a replayed event maps onto the same requests instead of duplicating them."""
    digest = hashlib.sha256(f"{opportunity_id}|{index}|{role.strip().casefold()}".encode()).hexdigest()
    return f"SR-{digest[:12].upper()}"


def staffing_requests(event: ClosedWonEvent, *, firm: bool) -> list[StaffingRequest]:
    """One request per staffing need, in event order (index from 1)."""
    return requests_for(event.detail.opportunity.id, event.detail.staffing, status=FIRM if firm else SOFT)


def requests_for(opportunity_id: str, needs: Iterable[StaffingNeed], *, status: str) -> list[StaffingRequest]:
    """The requests of an opportunity's staffing needs. Closed-won and stage-changed events both
    come here, so a soft request opened before close has the id its firm successor will look for."""
    return [
        StaffingRequest(
            role=need.role,
            hours=need.hours,
            start_date=need.start_date,
            location=need.location,
            status=status,
            skills=list(need.skills),
            request_id=request_id(opportunity_id, index, need.role),
        )
        for index, need in enumerate(needs, 1)
    ]


def _key(request: StaffingRequest) -> tuple[str, ...]:
    # Requests opened elsewhere may lack an id: fall back to their natural key.
    if request.request_id:
        return ("id", request.request_id)
    return ("natural", request.role.casefold(), request.start_date.isoformat(), request.location)


def _reconcile(
    existing: list[StaffingRequest],
    wanted: list[StaffingRequest],
    becomes: Callable[[StaffingRequest, StaffingRequest | None], StaffingRequest],
    new_status: str,
) -> list[StaffingRequest]:
    """Each open request (existing order, duplicates collapsed) becomes `becomes(it, its wanted
    match or None)`; wanted requests not open yet are added with `new_status`."""
    wanted_by_key: dict[tuple[str, ...], StaffingRequest] = {}
    for request in wanted:
        wanted_by_key.setdefault(_key(request), request)
    result: list[StaffingRequest] = []
    seen: set[tuple[str, ...]] = set()
    for request in existing:
        key = _key(request)
        if key not in seen:
            seen.add(key)
            result.append(becomes(request, wanted_by_key.get(key)))
    return result + [r.model_copy(update={"status": new_status}) for k, r in wanted_by_key.items() if k not in seen]


def firm_up(existing: list[StaffingRequest], wanted: list[StaffingRequest]) -> list[StaffingRequest]:
    """Reconcile open requests with the demand of the won deal.

    Matched by request_id: wanted ones become FIRM with the wanted details (existing order kept),
    wanted ones not yet open are added FIRM, open ones no longer wanted become RELEASED. Duplicates
    on either side collapse to one.
    """

    def becomes(had: StaffingRequest, want: StaffingRequest | None) -> StaffingRequest:
        return had.model_copy(update={"status": RELEASED}) if want is None else want.model_copy(update={"status": FIRM})

    return _reconcile(existing, wanted, becomes, FIRM)


def soften(existing: list[StaffingRequest], wanted: list[StaffingRequest]) -> list[StaffingRequest]:
    """Tentative demand of an open deal, reconciled with what is open.

    Wanted requests become SOFT with the wanted details (a released one comes back: the deal
    revived); FIRM ones are never downgraded, whatever a late pipeline event says. SOFT ones no
    longer wanted are RELEASED; firm and released ones not wanted stay as they are. Once any
    request is FIRM the deal is won and its demand settled: a pipeline event delivered late changes
    nothing (it would bring back needs the won deal dropped).
    """
    if any(r.status == FIRM for r in existing):
        return list(existing)

    def becomes(had: StaffingRequest, want: StaffingRequest | None) -> StaffingRequest:
        if had.status == FIRM:
            return had
        if want is not None:
            return want.model_copy(update={"status": SOFT})
        return had.model_copy(update={"status": RELEASED}) if had.status == SOFT else had

    return _reconcile(existing, wanted, becomes, SOFT)


def release_soft(existing: list[StaffingRequest]) -> list[StaffingRequest]:
    """A lost deal: every SOFT request is RELEASED; firm commitments are never touched."""
    return [r.model_copy(update={"status": RELEASED}) if r.status == SOFT else r for r in existing]
