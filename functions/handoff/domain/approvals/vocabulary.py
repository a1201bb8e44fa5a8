"""The approval vocabulary: kinds, statuses and actions, a contact, and how times and excerpts are written."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from handoff.contracts.timestamps import iso

ApprovalKind = Literal["legal", "finance", "compliance", "procurement"]
KINDS: tuple[ApprovalKind, ...] = ("legal", "finance", "compliance", "procurement")
Status = Literal["PENDING", "APPROVED", "REJECTED", "EXPIRED", "ESCALATED"]
Action = Literal["remind", "escalate", "expire"]
PENDING_GSI_PK = "APPROVAL#PENDING"
# The sweeper runs every 15 minutes (retried twice); the task's own timeout waits well beyond that.
TASK_TIMEOUT_SLACK = timedelta(hours=1)


def human_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%a %d %b %Y, %H:%M UTC")


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_utc), PlainSerializer(iso, return_type=str, when_used="json")]


def excerpt(text: str, limit: int = 160) -> str:
    """The text on one line, cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hours(value: Decimal) -> timedelta:
    return timedelta(seconds=int(value * 3600))


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Contact(_Model):
    name: str = Field(min_length=1)
    email: EmailStr

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
