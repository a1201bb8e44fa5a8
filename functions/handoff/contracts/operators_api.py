"""The operators' API (HandoffApi, IAM-authorized): its routes as a table, with the models of what
each takes and answers. docs/openapi/operators-api.json is generated from this table
(`python -m handoff.contracts.openapi`); tests check the table against the handler's routes and the
template's methods, and the committed document against the table.

A new route is one line in OPERATIONS (and its handler and API Gateway method)."""

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from handoff.contracts.base import RecordModel
from handoff.contracts.event import ClosedWonEvent
from handoff.contracts.record import HandoffRecord
from handoff.contracts.recovery import (
    DeadLetterQueues,
    DryRunBody,
    RedriveReport,
    ReplayBody,
    ReplayProgress,
    ReplayStarted,
    RequeueBody,
    RequeueReport,
)
from handoff.contracts.search import SearchPage, SearchParameters


class Problem(RecordModel):
    field: str = Field(description="The field or parameter at fault, e.g. detail.opportunity.id or limit.")
    message: str


class ErrorAnswer(RecordModel):
    """What every refusal of the operators' API answers."""

    model_config = ConfigDict(extra="allow")
    message: str
    status: str | None = Field(None, description="The handoff's current status, when the answer is about one.")
    problems: list[Problem] | None = None


class ResubmitAccepted(RecordModel):
    """202 to POST /handoffs/{handoffId}/resubmit (Location: /v1/handoffs/{handoffId})."""

    handoff_id: str
    opportunity_id: str
    event_id: str = Field(description="The eventId put on the bus.")
    corrected: bool = Field(description="True when a corrected event was sent, False when the stored deal was.")
    status: str = Field(description="The handoff's status when accepted (still BLOCKED).")
    rework: int = Field(description="Fix rounds so far.")
    fix_round: int = Field(description="The round this resubmission starts.")
    message: str


class RetryAccepted(RecordModel):
    """202 to POST /handoffs/{handoffId}/retry (Location: /v1/handoffs/{handoffId})."""

    handoff_id: str
    retry: int = Field(description="Which retry of this handoff this is, 1 for the first.")
    resume_at: str = Field(description="The workflow state the handoff resumes at: the first step that had not "
                                       "succeeded (Validate readiness when it failed before provisioning).")
    status: str = Field(description="The handoff's status now: PROVISIONING, or VALIDATING when it re-validates.")
    execution_arn: str = Field(description="The execution that resumes it, named <handoffId>-retry-<retry>.")
    execution_name: str
    message: str


# Answers every route may give, by status code.
ERRORS = {
    400: "A query parameter is not valid (each is named in problems).",
    404: "No handoff with this id.",
    409: "The handoff is not in the status the action needs (BLOCKED to resubmit, FAILED to retry; the status is "
         "in the answer), or it already took this eventId.",
    413: "The event is over the event bus's 256 KiB (size and limit in the answer).",
    422: "The body does not meet the contract, or is for another opportunity (fields named in problems).",
    503: "The event bus or the workflow did not take the request; nothing changed, retry (Retry-After).",
}


def errors(*codes: int) -> dict[int, tuple[str, type[BaseModel]]]:
    return {code: (ERRORS[code], ErrorAnswer) for code in codes}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as API Gateway names it: /handoffs/{handoffId}
    operation_id: str
    summary: str
    responses: dict[int, tuple[str, type[BaseModel]]]
    query: type[BaseModel] | None = None  # each field is a query parameter
    body: type[BaseModel] | None = None  # an optional JSON body
    description: str = ""
    tags: tuple[str, ...] = field(default=("handoffs",))
    handler: str = "handoff_api"  # the module of handoff.handlers that serves it


PATH_PARAMETERS = {"handoffId": "The handoff's id: ho- and 16 hex digits, derived from the CRM source and opportunity.",
                   "queue": "A dead-letter queue's name as GET /dead-letters lists it (or the SQS queue's own name).",
                   "replayName": "The replay's name, as POST /replays answered it."}
RECOVERY_TAGS, RECOVERY_HANDLER = ("recovery",), "recovery_api"

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/handoffs", "searchHandoffs", "Search the handoffs: filters, sort, cursor pages",
              {200: ("A page of handoff summaries.", SearchPage), **errors(400)}, query=SearchParameters),
    Operation("GET", "/handoffs/{handoffId}", "getHandoff", "Read one handoff",
              {200: ("The handoff record (docs/contract.md section 3).", HandoffRecord), **errors(404)}),
    Operation("POST", "/handoffs/{handoffId}/resubmit", "resubmitHandoff",
              "Continue a BLOCKED handoff with a corrected event, or re-validate the stored deal (no body)",
              {202: ("Accepted: put on the bus; GET the handoff to follow it.", ResubmitAccepted),
               **errors(404, 409, 413, 422, 503)}, body=ClosedWonEvent),
    Operation("POST", "/handoffs/{handoffId}/retry", "retryHandoff",
              "Resume a FAILED handoff at the step that failed, once the cause is fixed (no body)",
              {202: ("Accepted: a new execution resumes it; GET the handoff to follow it. The caller's IAM ARN "
                     "is on the timeline (Retry <n>).", RetryAccepted), **errors(404, 409, 503)}),
    Operation("GET", "/dead-letters", "listDeadLetterQueues",
              "Every dead-letter queue: its source, how a redrive sends its messages back, how many wait",
              {200: ("The dead-letter queues.", DeadLetterQueues)}, tags=RECOVERY_TAGS, handler=RECOVERY_HANDLER),
    Operation("POST", "/dead-letters/{queue}/redrive", "redriveDeadLetters",
              "Redrive a dead-letter queue to its source, or say what would move ({\"dryRun\": true})",
              {200: ("Dry run: the count, message ids and a summary per message; nothing changed.", RedriveReport),
               202: ("Redriven: each message sent on (deleted only once the destination took it), or SQS's move "
                     "task started.", RedriveReport),
               404: ("No dead-letter queue of that name (the names are in problems' message).", ErrorAnswer),
               **errors(422, 503)},
              body=DryRunBody, tags=RECOVERY_TAGS, handler=RECOVERY_HANDLER),
    Operation("POST", "/replays", "replayArchive",
              "Replay a time window of the bus archive onto the bus (every rule gets the events again, each with "
              "replay-name; receivers are idempotent, so what already ran is a duplicate)",
              {202: ("Started: follow it with GET /replays/{replayName}.", ReplayStarted),
               422: ("The window cannot be replayed: end not after start, in the future, or before the archive's "
                     "retention (the field is named in problems).", ErrorAnswer), **errors(503)},
              body=ReplayBody, tags=RECOVERY_TAGS, handler=RECOVERY_HANDLER),
    Operation("GET", "/replays/{replayName}", "getReplay", "How a replay is going",
              {200: ("The replay's state and window.", ReplayProgress),
               404: ("No replay of that name.", ErrorAnswer)}, tags=RECOVERY_TAGS, handler=RECOVERY_HANDLER),
    Operation("POST", "/quarantine/requeue", "requeueQuarantine",
              "Re-ingest quarantined events that meet the contract now, or one with a corrected event",
              {200: ("Dry run: what would be requeued and what is still invalid.", RequeueReport),
               202: ("Requeued: put on the bus once, moved out of the quarantine.", RequeueReport),
               **errors(422, 503)}, body=RequeueBody, tags=RECOVERY_TAGS, handler=RECOVERY_HANDLER),
)
