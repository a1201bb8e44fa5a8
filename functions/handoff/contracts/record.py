"""The handoff record: what the product reports for each handoff."""

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from handoff.contracts.base import RecordModel
from handoff.contracts.money import DecimalString


class HandoffStatus(StrEnum):
    RECEIVED = "RECEIVED"
    VALIDATING = "VALIDATING"
    BLOCKED = "BLOCKED"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    PROVISIONING = "PROVISIONING"
    ACTIVATED = "ACTIVATED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


SETTLED = {HandoffStatus.BLOCKED, HandoffStatus.ACTIVATED, HandoffStatus.REJECTED, HandoffStatus.FAILED}

Severity = Literal["BLOCKING", "WARNING"]
ExceptionCode = Literal[
    "MISSING_FIELD",
    "CONTRACT_NOT_SIGNED",
    "MILESTONES_MISMATCH",
    "CURRENCY_MISMATCH",
    "INVALID_TAX_ID",
    "DATES_INCOHERENT",
    "RATE_CARD_GAP",
    "NON_STANDARD_CLAUSE",
    "SCOPE_MISMATCH",
    "INTEGRATION_FAILURE",
    "APPROVAL_TIMEOUT",
    "AMOUNT_MISMATCH",
    "UNKNOWN_VENDOR",
    "MASTER_DATA_CONFLICT",
    "UNKNOWN_PLAYBOOK",
    "PROCESSING_FAILURE",
    "APPROVAL_EMAIL_BOUNCED",
    "FIX_REQUEST_EMAIL_BOUNCED",
]


class CustomerRef(RecordModel):
    erp_customer_id: str
    legal_name: str
    country: str
    match: Literal["existing", "created"]


class WbsNode(RecordModel):
    code: str
    name: str
    start: date
    end: date
    children: list["WbsNode"] = Field(default_factory=list)


class ProjectShell(RecordModel):
    code: str
    name: str
    cost_center: str
    tax_treatment: str
    start_date: date
    end_date: date
    wbs: list[WbsNode] = Field(default_factory=list)


class BillingLine(RecordModel):
    seq: int
    description: str
    amount: DecimalString
    tax: DecimalString
    due_date: date | None = None
    trigger: str | None = None
    estimate: bool = False


class BillingSchedule(RecordModel):
    contract_type: str
    currency: str
    total: DecimalString
    lines: list[BillingLine]
    tax_note: str | None = None


class StaffingRequest(RecordModel):
    role: str
    hours: int
    start_date: date
    location: str
    status: str
    skills: list[str] = Field(default_factory=list)
    request_id: str | None = None


class PurchaseRequisition(RecordModel):
    vendor: str
    amount: DecimalString
    currency: str
    cost_center: str
    project_code: str | None = None
    requisition_id: str | None = None


class ApprovalEntry(RecordModel):
    kind: str
    approver: str
    decision: Literal["PENDING", "APPROVED", "REJECTED", "EXPIRED", "ESCALATED"]
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    comment: str | None = None
    approval_id: str | None = None
    reason: str | None = None
    requested_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None


class ExceptionEntry(RecordModel):
    code: ExceptionCode
    severity: Severity
    message: str
    step: str
    field: str | None = None
    owner_group: str | None = None
    due_date: date | None = None
    priority: int | None = None


class TimelineEntry(RecordModel):
    step: str
    status: str
    at: AwareDatetime
    detail: str | None = None


class HandoffRecord(RecordModel):
    handoff_id: str
    opportunity_id: str
    event_id: str
    source: str
    status: HandoffStatus
    service_line: str
    region: str
    customer: CustomerRef | None = None
    project: ProjectShell | None = None
    billing_schedule: BillingSchedule | None = None
    staffing_requests: list[StaffingRequest] = Field(default_factory=list)
    purchase_requisitions: list[PurchaseRequisition] = Field(default_factory=list)
    approvals: list[ApprovalEntry] = Field(default_factory=list)
    exceptions: list[ExceptionEntry] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    received_at: AwareDatetime
    activated_at: AwareDatetime | None = None
    duration_seconds: float | None = None
    rework: int = 0
    launch_packet: str | None = None


def utc_now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
