"""Ports: what the handoff needs from each system of record. Adapters live in handoff.adapters."""

from typing import Protocol

from handoff.contracts import Account, BillingSchedule, CustomerRef, ProjectShell, PurchaseRequisition, StaffingRequest


class CustomerMaster(Protocol):
    def match_or_create(self, account: Account, *, idempotency_key: str) -> CustomerRef:
        """Match by ERP id, then normalised tax id, then normalised legal name + country; else create.
        Raises MasterDataConflict instead of overwriting conflicting data."""
        ...


class Projects(Protocol):
    def create_project(self, shell: ProjectShell, customer: CustomerRef, *, idempotency_key: str) -> ProjectShell:
        ...


class Billing(Protocol):
    def create_schedule(
        self, project_code: str, customer: CustomerRef, schedule: BillingSchedule, *, idempotency_key: str
    ) -> str:
        """Returns the billing system's schedule id."""
        ...


class Staffing(Protocol):
    """Staffing demand in resource management, one request per staffing need, keyed by request_id
    (deterministic per opportunity and need, see handoff.domain.staffing.request_id). Each call
    returns every request of the opportunity as it stands afterwards."""

    def open_soft(
        self, opportunity_id: str, requests: list[StaffingRequest], *, idempotency_key: str
    ) -> list[StaffingRequest]:
        """Tentative demand of an open deal (handoff.domain.staffing.soften): firm ones are never
        downgraded, soft ones no longer wanted are released."""
        ...

    def firm(
        self, opportunity_id: str, project_code: str, requests: list[StaffingRequest], *, idempotency_key: str
    ) -> list[StaffingRequest]:
        """The won deal's demand (handoff.domain.staffing.firm_up): soft requests with a wanted id
        become firm, missing ones are created firm, open ones no longer wanted are released."""
        ...

    def release(self, opportunity_id: str, *, idempotency_key: str) -> int:
        """A lost deal: soft requests are released, firm ones untouched. Returns how many were released."""
        ...


class Procurement(Protocol):
    def raise_requisitions(
        self, project_code: str, requisitions: list[PurchaseRequisition], *, idempotency_key: str
    ) -> list[PurchaseRequisition]:
        ...


class CrmWriteback(Protocol):
    def project_created(self, opportunity_id: str, project_code: str, *, idempotency_key: str, source: str = "",
                        status: str = "ACTIVATED", launch_packet: str | None = None) -> None:
        """The project back on the CRM record: its code, the handoff status and the launch packet
        (`source` says which CRM the deal came from, e.g. crm.salesforce)."""
        ...
