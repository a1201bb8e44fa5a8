"""The "Opportunity Closed Won" event, schema 1.0."""

import json
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

import pycountry
from pydantic import AfterValidator, AwareDatetime, BaseModel, EmailStr, Field, ValidationError, model_validator

from handoff.contracts.base import CanonicalModel
from handoff.contracts.errors import ContractError, describe_validation_error
from handoff.contracts.money import Money

SUPPORTED_MAJOR_VERSION = "1"
CLOSED_WON = "Opportunity Closed Won"


def _country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None or len(code) != 2:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


Country = Annotated[str, AfterValidator(_country)]
NonEmpty = Annotated[str, Field(min_length=1)]
EventModel = TypeVar("EventModel", bound=BaseModel)


class Person(CanonicalModel):
    name: NonEmpty
    email: EmailStr


class Opportunity(CanonicalModel):
    id: NonEmpty
    name: NonEmpty
    stage: NonEmpty
    probability: int = Field(ge=0, le=100, strict=True)
    amount: Money
    close_date: date
    owner: Person
    service_line: NonEmpty
    region: Literal["AMER", "EMEA", "APAC"]
    delivery_model: Literal["onsite", "remote", "hybrid", "offshore"]


class Address(CanonicalModel):
    line1: NonEmpty
    line2: str | None = None
    city: NonEmpty
    postal_code: NonEmpty
    region: str | None = None
    country: Country


class Account(CanonicalModel):
    crm_id: NonEmpty
    legal_name: NonEmpty
    country: Country
    tax_id: str | None = None
    erp_customer_id: str | None = None
    billing_address: Address
    billing_contact: Person


class Milestone(CanonicalModel):
    id: NonEmpty
    name: NonEmpty
    amount: Money
    due_date: date


class RateCardEntry(CanonicalModel):
    role: NonEmpty
    rate: Money
    unit: Literal["hour", "day"]


class Clause(CanonicalModel):
    id: NonEmpty
    title: str
    text: str


ContractType = Literal["fixed_fee", "milestone", "time_and_materials", "retainer"]


class Contract(CanonicalModel):
    id: NonEmpty
    status: Literal["draft", "in_review", "signed"]
    type: ContractType
    value: Money
    start_date: date
    end_date: date
    payment_terms_days: int = Field(ge=0, strict=True)
    milestones: list[Milestone] = Field(default_factory=list)
    rate_card: list[RateCardEntry] = Field(default_factory=list)
    not_to_exceed: Money | None = None
    monthly_fee: Money | None = None
    clauses: list[Clause] = Field(default_factory=list)
    signed_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _terms_for_type(self) -> "Contract":
        required = {"milestone": "milestones", "time_and_materials": "rate_card", "retainer": "monthly_fee"}
        attr = required.get(self.type)
        if attr and not getattr(self, attr):
            alias = {"milestones": "milestones", "rate_card": "rateCard", "monthly_fee": "monthlyFee"}[attr]
            raise ValueError(f"contract.{alias} is required for a {self.type} contract")
        return self


class Phase(CanonicalModel):
    name: NonEmpty
    start: date
    end: date


class Scope(CanonicalModel):
    summary: str
    countries: list[Country]
    phases: list[Phase]


class StaffingNeed(CanonicalModel):
    role: NonEmpty
    skills: list[str]
    hours: int = Field(gt=0, strict=True)
    start_date: date
    location: Country


class Subcontractor(CanonicalModel):
    vendor: NonEmpty
    vendor_id: str | None = None
    scope: str
    cost: Money
    country: Country


def _known_major(version: str) -> str:
    if version.split(".")[0] != SUPPORTED_MAJOR_VERSION:
        raise ValueError(f"schema version {version!r} is not supported (this product reads 1.x)")
    return version


# Every event of this product's contract is read by major version: 1.x is understood, 2.0 is not.
SchemaVersion = Annotated[str, AfterValidator(_known_major)]
CrmSource = Annotated[str, Field(pattern=r"^crm\.")]


class EventHeader(CanonicalModel):
    """What every CRM event's detail starts with (closed-won and stage changed share it)."""

    schema_version: SchemaVersion
    event_id: NonEmpty
    occurred_at: AwareDatetime


class ClosedWonDetail(EventHeader):
    opportunity: Opportunity
    account: Account
    contract: Contract
    scope: Scope
    staffing: list[StaffingNeed]
    subcontractors: list[Subcontractor] = Field(default_factory=list)


class CrmEnvelope(CanonicalModel):
    """The EventBridge envelope every CRM event comes in; each event adds its detail-type and detail."""

    source: CrmSource


class ClosedWonEvent(CrmEnvelope):
    detail_type: Literal["Opportunity Closed Won"] = Field(alias="detail-type")
    detail: ClosedWonDetail


def parse_event(raw: Any) -> ClosedWonEvent:
    """Validate an EventBridge envelope (dict or JSON text); raise ContractError naming each field."""
    return parse_envelope(raw, ClosedWonEvent)


def parse_envelope(raw: Any, model: type[EventModel]) -> EventModel:
    """Validate an EventBridge envelope (dict or JSON text) as `model`; ContractError names each field."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ContractError([{"field": "(event)", "message": f"not valid JSON: {exc}"}]) from None
    if not isinstance(raw, dict):
        raise ContractError([{"field": "(event)", "message": "an event must be a JSON object"}])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise describe_validation_error(exc) from None
