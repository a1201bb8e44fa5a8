"""Dead-letter queues and where their messages go back to (pure: no AWS).

Three kinds of source, each redriven its own way (handoff.logic.redrive_dead_letters):
- `queue`: the DLQ of an SQS queue (its redrive policy). The messages go back to that queue
  (SQS's StartMessageMoveTask on AWS).
- `targets`: the DLQ of EventBridge rule targets. Each message is the event; its attributes name
  the rule and the target that did not take it (RULE_ARN, TARGET_ARN), and it is re-delivered there.
- `function`: a function's asynchronous-invocation DLQ. Each message is the event the function was
  invoked with; it is invoked again, asynchronously.

The configuration (`REDRIVE_QUEUES`, built by infra/recovery.py) is compact, for Lambda's 4 KB of
environment: `{name: [dlq url, kind, source]}`, the source being the source queue's URL, the
function's name, or "" for rule targets."""

import json
from dataclasses import dataclass, field
from typing import Any, Literal

SourceKind = Literal["queue", "targets", "function"]
KINDS: tuple[str, ...] = ("queue", "targets", "function")
SUMMARY_LENGTH = 160


class RedriveConfigInvalid(ValueError):
    pass


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str  # what operators call it: the construct's name, e.g. ExceptionsDeadLetters
    url: str
    kind: SourceKind
    source: str  # the source queue's URL, the function's name, or "" (rule targets: per message)

    @property
    def queue_name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def arn(self) -> str:
        return queue_arn(self.url)

    @property
    def destination(self) -> str:
        """Where its messages go back to, in words."""
        if self.kind == "queue":
            return f"queue {self.source.rstrip('/').rsplit('/', 1)[-1]}"
        if self.kind == "function":
            return f"function {self.source} (asynchronous invoke)"
        return "the rule target each message names (TARGET_ARN), or the event bus"

    @property
    def method(self) -> str:
        """How the redrive is done, for the report."""
        return {"queue": "moved back to the source queue",
                "function": "re-invoked asynchronously",
                "targets": "re-delivered to its target (StartExecution, Invoke, SendMessage) or PutEvents"}[self.kind]


def queue_arn(url: str) -> str:
    """https://sqs.<region>.amazonaws.com/<account>/<name> -> arn:aws:sqs:<region>:<account>:<name>."""
    host, account, name = url.split("://", 1)[-1].split("/")[:3]
    region = host.split(".")[1] if host.startswith("sqs.") else "us-east-1"
    partition = "aws-cn" if host.endswith(".cn") else "aws"
    return f"arn:{partition}:sqs:{region}:{account}:{name}"


def parse_config(text: str) -> list[DeadLetterQueue]:
    """The queues of `REDRIVE_QUEUES`, by name."""
    try:
        data = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise RedriveConfigInvalid(f"REDRIVE_QUEUES is not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise RedriveConfigInvalid("REDRIVE_QUEUES must be a JSON object keyed by queue name")
    queues = []
    for name, value in sorted(data.items()):
        if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)
                and value[1] in KINDS):
            raise RedriveConfigInvalid(f"REDRIVE_QUEUES[{name!r}] must be [url, one of {KINDS}, source]")
        queues.append(DeadLetterQueue(name, value[0], value[1], value[2]))
    return queues


def find(queues: list[DeadLetterQueue], wanted: str) -> DeadLetterQueue | None:
    """By the operators' name, or by the queue's own (physical) name."""
    return next((q for q in queues if wanted in (q.name, q.queue_name)), None)


@dataclass(frozen=True)
class DeadLetter:
    """One message waiting in a dead-letter queue."""

    message_id: str
    body: str
    attributes: dict[str, str]  # message attributes, string values
    receipt_handle: str = ""
    # The attributes as SQS holds them (data types), to send them on unchanged; opaque here.
    wire_attributes: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


# Where EventBridge (upper case) and Lambda (camel case) say what went wrong.
_ERROR_ATTRIBUTES = ("ERROR_MESSAGE", "ErrorMessage", "ERROR_CODE", "ErrorCode")


def summary(message: DeadLetter) -> dict[str, Any]:
    """A short description of a message for a dry run: what it is, for which deal, and why it is here."""
    try:
        body = json.loads(message.body)
    except (json.JSONDecodeError, TypeError):
        body = None
    described: dict[str, Any] = {"messageId": message.message_id}
    if isinstance(body, dict):
        detail: dict[str, Any] = body["detail"] if isinstance(body.get("detail"), dict) else {}
        opportunity: dict[str, Any] = detail["opportunity"] if isinstance(detail.get("opportunity"), dict) else {}
        for key, value in (("detailType", body.get("detail-type")), ("source", body.get("source")),
                           ("eventId", detail.get("eventId")), ("opportunityId", opportunity.get("id")),
                           ("handoffId", body.get("handoffId") or detail.get("handoffId")),
                           ("kind", body.get("kind"))):
            if isinstance(value, str) and value:
                described[key] = value
        if "Records" in body and isinstance(body["Records"], list):
            described["records"] = len(body["Records"])
    target = message.attributes.get("TARGET_ARN")
    if target:
        described["target"] = target
    error = next((message.attributes[a] for a in _ERROR_ATTRIBUTES if message.attributes.get(a)), "")
    if error:
        described["error"] = error[:SUMMARY_LENGTH]
    text = " ".join(str(described[k]) for k in ("detailType", "source", "eventId", "opportunityId", "handoffId", "kind")
                    if k in described)
    described["summary"] = (text or message.body)[:SUMMARY_LENGTH]
    return described


def execution_name(message: DeadLetter) -> str:
    """The execution a redriven event starts: one per dead-lettered message (Step Functions refuses a
    second start of a name, so a redrive that runs twice starts nothing twice). At most 80 characters."""
    try:
        event_id = str(json.loads(message.body).get("id") or "event")
    except (json.JSONDecodeError, AttributeError, TypeError):
        event_id = "event"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in event_id)[:36]
    return f"redrive-{safe}-{message.message_id.replace('-', '')[:32]}"[:80]
