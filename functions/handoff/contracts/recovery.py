"""What the operators' recovery routes (RecoveryApi) take and answer: dead-letter queues and their
redrive, replays of the bus archive, the quarantine's requeue. Documented in the OpenAPI document
through handoff.contracts.operators_api."""

from typing import Any, Literal

from pydantic import ConfigDict, Field

from handoff.contracts.base import RecordModel


class DryRunBody(RecordModel):
    dry_run: bool = Field(False, description="True: say what would be done and change nothing.")


class DeadLetterQueueSummary(RecordModel):
    queue: str = Field(description="The queue's name for operators (the path's {queue}), e.g. UndeliveredEvents.")
    queue_name: str = Field(description="The SQS queue's own name (also accepted as {queue}).")
    source: Literal["queue", "targets", "function"] = Field(
        description="queue: an SQS queue's dead letters; targets: EventBridge rule targets'; function: a function's "
                    "failed asynchronous invocations.")
    destination: str = Field(description="Where a redrive sends its messages.")
    method: str = Field(description="How: moved back to the source queue (SQS StartMessageMoveTask), re-delivered "
                                    "to the rule target (StartExecution, Invoke, SendMessage, or PutEvents), or "
                                    "re-invoked asynchronously.")
    count: int = Field(description="Messages waiting (approximate, as SQS counts).")


class DeadLetterQueues(RecordModel):
    queues: list[DeadLetterQueueSummary]


class DeadLetterSummary(RecordModel):
    """One message a dry run would move."""

    model_config = ConfigDict(extra="allow")
    message_id: str
    summary: str = Field(description="What it is: detail-type, source, eventId, opportunity or handoff.")
    event_id: str | None = None
    opportunity_id: str | None = None
    handoff_id: str | None = None
    target: str | None = Field(None, description="The rule target that did not take it (TARGET_ARN).")
    error: str | None = Field(None, description="Why it was dead-lettered, as the service said.")


class Redriven(RecordModel):
    message_id: str = Field(description="The dead letter's message id.")
    to: str = Field(description="Where it went, e.g. StartExecution <state machine>, queue <name>.")


class RedriveFailure(RecordModel):
    message_id: str
    error: str = Field(description="Why it could not go; it stays in the dead-letter queue.")


class RedriveReport(DeadLetterQueueSummary):
    """200 to a dry run, 202 to a redrive of POST /dead-letters/{queue}/redrive."""

    dry_run: bool
    message_ids: list[str] | None = Field(None, description="Dry run: the ids of the messages that would move "
                                                             "(at most 50 listed; count is all of them).")
    messages: list[DeadLetterSummary] | list[Redriven] = Field(
        description="Dry run: a summary per message. Redrive: each message redriven and where to.")
    redriven: int | None = Field(None, description="Redrive: messages sent on and removed from the queue.")
    failed: list[RedriveFailure] | None = None
    remaining: int | None = Field(None, description="Redrive: messages still in the queue (failed ones, or beyond "
                                                    "the 500 one call handles: call again).")
    task_handle: str | None = Field(None, description="SQS's message move task, when SQS moves them itself.")
    resolved_items: list[str] | None = Field(None, description="Redrive: the work queue's items of the messages "
                                                               "redriven, now resolved.")


class RequeueBody(DryRunBody):
    key: str | None = Field(None, description="One quarantined event (quarantine/<date>/<eventId>.json); all when absent.")
    event: dict[str, Any] | None = Field(None, description="The corrected event that replaces the one at key.")


class RequeueReport(RecordModel):
    """200 to a dry run, 202 to POST /quarantine/requeue."""

    dry_run: bool
    requeued: list[dict[str, Any]] = Field(
        description="{key, eventId, detailType, busEventId}: put on the bus, moved to requeued/.")
    still_invalid: list[dict[str, Any]] = Field(
        description="{key, problems}: still failing the contract, left in quarantine.")


class ReplayBody(RecordModel):
    start: str = Field(description="UTC, ISO 8601 (2026-12-02T00:00:00Z): replay the events that happened from this "
                                   "time on. Not in the future, not before the archive's retention.")
    end: str = Field(description="UTC, ISO 8601: up to this time (excluded). After start, not in the future.")


class ReplayStarted(RecordModel):
    """202 to POST /replays (Location: /v1/replays/{replayName})."""

    replay_name: str = Field(description="<stack>-<start>-<end>-<random>: follow it with GET /replays/{replayName}.")
    replay_arn: str
    state: str = Field(description="STARTING, RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED.")
    start: str
    end: str
    archive: str = Field(description="The bus archive replayed from.")
    retention_days: int = Field(description="How long the archive keeps events (context archiveRetentionDays).")


class ReplayProgress(RecordModel):
    """200 to GET /replays/{replayName}: EventBridge's DescribeReplay."""

    model_config = ConfigDict(extra="allow")
    replay_name: str
    replay_arn: str | None = None
    state: str
    state_reason: str | None = None
    start: str | float | None = None
    end: str | float | None = None
    replay_start_time: str | float | None = None
    replay_end_time: str | float | None = None
    last_replayed_event_time: str | float | None = None
