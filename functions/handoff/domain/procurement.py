"""Purchase requisitions for the deal's subcontractors. Pure, no I/O."""

import hashlib

from handoff.contracts import ClosedWonEvent, PurchaseRequisition


def requisition_id(opportunity_id: str, index: int, vendor: str) -> str:
    """Deterministic, so a replayed event never raises a second requisition."""
    digest = hashlib.sha256(f"{opportunity_id}|{index}|{vendor.strip().casefold()}".encode()).hexdigest()
    return f"PR-{digest[:12].upper()}"


def purchase_requisitions(event: ClosedWonEvent, *, cost_center: str, project_code: str) -> list[PurchaseRequisition]:
    """One requisition per subcontractor (index from 1), for its cost in its own currency."""
    detail = event.detail
    return [
        PurchaseRequisition(
            vendor=sub.vendor,
            amount=sub.cost.value,
            currency=sub.cost.currency,
            cost_center=cost_center,
            project_code=project_code,
            # vendorId when known: a renamed vendor keeps its requisition.
            requisition_id=requisition_id(detail.opportunity.id, index, sub.vendor_id or sub.vendor),
        )
        for index, sub in enumerate(detail.subcontractors, 1)
    ]
