"""The "Opportunity Stage Changed" event, schema 1.0: the pipeline before close.

CONTRACT.md (version 1) defines only the closed-won event; this one shares its envelope (source
`crm.*`, detail with schemaVersion, eventId, occurredAt) and its field names and types, so a CRM
integration sends one shape. Only what soft staffing needs is required: the opportunity's id,
stage, probability, service line and region, the account's country (playbook variants), and the
staffing needs known so far. Unknown extra fields are accepted and kept, as for closed-won."""

from datetime import date
from typing import Any, Literal

from pydantic import Field

from handoff.contracts.base import CanonicalModel
from handoff.contracts.event import (
    ContractType,
    Country,
    CrmEnvelope,
    EventHeader,
    NonEmpty,
    Person,
    StaffingNeed,
    parse_envelope,
)
from handoff.contracts.money import Money

STAGE_CHANGED = "Opportunity Stage Changed"


class PipelineOpportunity(CanonicalModel):
    id: NonEmpty
    stage: NonEmpty  # the CRM's stage name, e.g. "Proposal", "Negotiation", "Closed Lost"
    probability: int = Field(ge=0, le=100, strict=True)  # percent, as in the closed-won event
    service_line: NonEmpty
    region: Literal["AMER", "EMEA", "APAC"]
    previous_stage: str | None = None
    name: str | None = None
    amount: Money | None = None
    close_date: date | None = None
    owner: Person | None = None
    delivery_model: Literal["onsite", "remote", "hybrid", "offshore"] | None = None


class PipelineAccount(CanonicalModel):
    crm_id: NonEmpty
    country: Country
    legal_name: str | None = None


class PipelineContract(CanonicalModel):
    """Before close the contract is usually a draft: only its type matters here (playbook variants)."""

    type: ContractType


class StageChangedDetail(EventHeader):
    opportunity: PipelineOpportunity
    account: PipelineAccount
    contract: PipelineContract | None = None
    staffing: list[StaffingNeed] = Field(default_factory=list)


class StageChangedEvent(CrmEnvelope):
    detail_type: Literal["Opportunity Stage Changed"] = Field(alias="detail-type")
    detail: StageChangedDetail


def parse_stage_changed(raw: Any) -> StageChangedEvent:
    """Validate an EventBridge envelope (dict or JSON text); raise ContractError naming each field."""
    return parse_envelope(raw, StageChangedEvent)
