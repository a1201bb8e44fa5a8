"""The search of the operators' API (GET /handoffs): its query parameters and its answer."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from handoff.contracts.base import RecordModel
from handoff.contracts.event import Person
from handoff.contracts.money import Money
from handoff.contracts.record import HandoffStatus

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
SORTS = ("receivedAt", "updatedAt", "amount", "status", "opportunityName", "customerName")
Sort = Literal["receivedAt", "updatedAt", "amount", "status", "opportunityName", "customerName"]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=200)]


class SearchParameters(BaseModel):
    """GET /handoffs query parameters. Every filter narrows (AND); all are optional."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    status: Annotated[HandoffStatus | None, BeforeValidator(_upper)] = Field(
        None, description="The handoff's status (case-insensitive).")
    service_line: Text | None = Field(None, alias="serviceLine", description="The service line, as in the deal.")
    region: Annotated[Literal["AMER", "EMEA", "APAC"] | None, BeforeValidator(_upper)] = Field(
        None, description="The deal's region.")
    owner: Text | None = Field(
        None, description="The deal owner: their email, or their full name (both case-insensitive).")
    customer: Text | None = Field(
        None, description="The customer: the account's CRM id, or its legal name (case-insensitive, whole name).")
    from_: AwareDatetime | None = Field(
        None, alias="from", description="Received at or after this instant (ISO 8601 with a time zone, e.g. Z).")
    to: AwareDatetime | None = Field(
        None, description="Received at or before this instant (ISO 8601 with a time zone, e.g. Z).")
    q: Text | None = Field(
        None, description="Text found in the opportunity name or the customer name (case-insensitive).")
    sort: Sort = Field("receivedAt", description="What the items are ordered by; ties by receivedAt, then handoffId.")
    order: Literal["asc", "desc"] = Field("desc", description="Ascending or descending.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    cursor: Annotated[str, Field(min_length=1, max_length=2048)] | None = Field(
        None, description="The nextCursor of the previous page of the same search (opaque).")

    @field_validator("to")
    @classmethod
    def _window(cls, to: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("from_")
        if to and start and start > to:
            raise ValueError("must not be before from")
        return to


class HandoffListing(RecordModel):
    """A handoff as the search indexes hold it (adapters/handoff_index.py): its summary in a search
    answer, less the age, which depends on when it is asked."""

    handoff_id: str
    opportunity_id: str
    opportunity_name: str | None
    customer_name: str | None
    customer_id: str | None
    status: HandoffStatus
    service_line: str
    region: str
    owner: Person | None
    amount: Money | None
    received_at: datetime
    updated_at: datetime | None
    rework: int = Field(description="Fix rounds so far.")


class HandoffSummary(HandoffListing):
    """One handoff in a search answer."""

    age_seconds: int = Field(description="Seconds since the handoff was received.")


class SearchPage(RecordModel):
    items: list[HandoffSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    count: int = Field(description="Items on this page.")
