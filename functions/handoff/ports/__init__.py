"""Ports: what the handoff needs from each system of record. Adapters live in handoff.adapters."""

from typing import Protocol

from handoff.contracts import (
    Account,
    BillingSchedule,
    CustomerRef,
    ProjectShell,
    PurchaseRequisition,
    StaffingRequest,
)


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
    def open_requests(
        self, opportunity_id: str, project_code: str | None, requests: list[StaffingRequest], *, firm: bool,
        idempotency_key: str,
    ) -> list[StaffingRequest]:
        ...

    def release(self, opportunity_id: str, *, idempotency_key: str) -> int:
        ...


class Procurement(Protocol):
    def raise_requisitions(
        self, project_code: str, requisitions: list[PurchaseRequisition], *, idempotency_key: str
    ) -> list[PurchaseRequisition]:
        ...


class CrmWriteback(Protocol):
    def project_created(self, opportunity_id: str, project_code: str, *, idempotency_key: str) -> None:
        ...
