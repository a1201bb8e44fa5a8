"""SES bounce and complaint notifications as SES publishes them to SNS: event publishing through a
configuration set (`eventType`, with the message's tags) and identity feedback notifications
(`notificationType`, no tags). Field names as in the SES developer guide ("Contents of event data
that Amazon SES publishes to Amazon SNS"); fields this product does not use are kept, not checked."""

import json
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from handoff.contracts import ContractError

MESSAGE_TAGS_HEADER = "X-SES-MESSAGE-TAGS"  # SES turns it into message tags and strips it
HANDOFF_TAG, NOTICE_TAG = "handoff", "notice"


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Recipient(_Model):
    emailAddress: str
    action: str | None = None
    status: str | None = None
    diagnosticCode: str | None = None


class Bounce(_Model):
    bounceType: Literal["Undetermined", "Permanent", "Transient"]
    bounceSubType: str = "General"
    bouncedRecipients: list[Recipient]
    timestamp: datetime
    feedbackId: str


class Complaint(_Model):
    complainedRecipients: list[Recipient]
    timestamp: datetime
    feedbackId: str
    complaintFeedbackType: str | None = None


class Mail(_Model):
    timestamp: datetime
    messageId: str
    source: str
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)

    def tag(self, name: str) -> str | None:
        values = self.tags.get(name) or []
        return values[0] if values else None


class SesFeedback(_Model):
    event_type: Literal["Bounce", "Complaint"] = Field(validation_alias=AliasChoices("eventType", "notificationType"))
    mail: Mail
    bounce: Bounce | None = None
    complaint: Complaint | None = None

    @property
    def feedback_id(self) -> str:
        found = self.bounce or self.complaint
        return found.feedbackId if found else self.mail.messageId

    @property
    def recipients(self) -> list[Recipient]:
        if self.bounce:
            return self.bounce.bouncedRecipients
        return self.complaint.complainedRecipients if self.complaint else []


def parse_feedback(message: str) -> SesFeedback | None:
    """The SNS message as SES feedback; None for event types this product does not act on
    (deliveries, opens ...). A message that is not SES's format is a ContractError naming the field."""
    try:
        raw = json.loads(message)
    except ValueError as exc:
        raise ContractError([{"field": "Sns.Message", "message": f"not JSON: {exc}"}]) from None
    kind = raw.get("eventType") or raw.get("notificationType") if isinstance(raw, dict) else None
    if kind not in ("Bounce", "Complaint"):
        return None
    from pydantic import ValidationError

    try:
        return SesFeedback.model_validate(raw)
    except ValidationError as exc:
        raise ContractError([{"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                             for e in exc.errors(include_url=False)]) from None


def message_tags(handoff_id: str, notice: str) -> str:
    """The X-SES-MESSAGE-TAGS value naming a handoff's notice (tag values: letters, digits, _ - . @)."""
    safe = "".join(c if c.isalnum() or c in "_-.@" else "-" for c in notice)
    return f"{HANDOFF_TAG}={handoff_id}, {NOTICE_TAG}={safe}"
