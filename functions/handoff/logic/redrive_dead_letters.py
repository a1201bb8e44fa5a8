"""Redrive dead-letter queues to where their messages were going, or say what a redrive would do
(a dry run changes nothing). Queue-sourced DLQs are moved back to their queue (handoff.ports.redrive
.QueueMover); the others' messages are re-delivered one by one and deleted only once the destination
took them. Every receiver is idempotent (the event's eventId, a step's idempotency record, a work
item per message), so a message that was already processed does its work once. The work queue's
items of the messages sent back are resolved (a message that fails again dead-letters anew, with a
new item); SQS's own move task names no messages, so its items close once the queue is seen empty
(handoff.logic.work_queue.dead_letter_queues_emptied)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.adapters.work_items_store import WorkItemStore
from handoff.domain.errors import HandoffError
from handoff.domain.redrive import DeadLetterQueue, summary
from handoff.logic.work_queue import dead_letters_redriven
from handoff.ports.redrive import DeadLetters, QueueMover, Redelivery

# A dry run describes at most this many messages per queue (the count is exact); a redrive handles
# at most MAX_REDRIVE per call, and says how many are left (call again).
PEEK_LIMIT = 50
MAX_REDRIVE = 500


@dataclass
class QueueReport:
    queue: str
    queue_name: str
    kind: str
    destination: str
    method: str
    count: int
    dry_run: bool
    messages: list[dict[str, Any]] = field(default_factory=list)  # a dry run's summaries
    redriven: list[dict[str, str]] = field(default_factory=list)  # {"messageId", "to"}
    failed: list[dict[str, str]] = field(default_factory=list)  # {"messageId", "error"}: still in the DLQ
    task_handle: str | None = None
    remaining: int = 0
    resolved_items: list[str] = field(default_factory=list)  # the work items closed by the redrive

    def to_json_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"queue": self.queue, "queueName": self.queue_name, "source": self.kind,
                                "destination": self.destination, "method": self.method, "count": self.count,
                                "dryRun": self.dry_run}
        if self.dry_run:
            body["messageIds"] = [m["messageId"] for m in self.messages]
            body["messages"] = self.messages
        else:
            body.update({"redriven": len(self.redriven), "messages": self.redriven, "failed": self.failed,
                         "remaining": self.remaining, "resolvedItems": self.resolved_items})
            if self.task_handle:
                body["taskHandle"] = self.task_handle
        return body


def describe(queue: DeadLetterQueue, dead_letters: DeadLetters) -> dict[str, Any]:
    """A queue as GET /dead-letters lists it."""
    return {"queue": queue.name, "queueName": queue.queue_name, "source": queue.kind,
            "destination": queue.destination, "method": queue.method, "count": dead_letters.count(queue)}


def redrive(queue: DeadLetterQueue, *, dry_run: bool, dead_letters: DeadLetters, mover: QueueMover,
            redelivery: Redelivery, work_items: WorkItemStore | None = None, actor: str = "recovery",
            now: datetime | None = None) -> QueueReport:
    """`work_items` and `now`: resolve the work queue's items of the messages sent back, as `actor`."""
    report = QueueReport(queue.name, queue.queue_name, queue.kind, queue.destination, queue.method,
                         dead_letters.count(queue), dry_run)
    if dry_run:
        report.messages = [summary(m) for m in dead_letters.peek(queue, PEEK_LIMIT)]
        return report
    if report.count == 0:
        return report
    if queue.kind == "queue":
        moved = mover.move(queue, MAX_REDRIVE)
        report.method = f"{report.method} ({moved.how})"
        report.redriven = [{"messageId": m, "to": queue.destination} for m in moved.moved]
        report.failed = moved.failed
        report.task_handle = moved.task_handle
    else:
        for message in dead_letters.take(queue, MAX_REDRIVE):
            try:
                to = redelivery.redeliver(queue, message)
            except (ClientError, BotoCoreError, HandoffError, RuntimeError) as exc:
                report.failed.append({"messageId": message.message_id, "error": str(exc)[:300]})
                dead_letters.release(queue, message)  # it stays, visible, for the next look
                continue
            dead_letters.delete(queue, message)
            report.redriven.append({"messageId": message.message_id, "to": to})
    report.remaining = 0 if report.task_handle else dead_letters.count(queue)
    if work_items is not None and now is not None and report.redriven:
        report.resolved_items = [i.item_id for i in dead_letters_redriven(work_items, queue.name, report.redriven,
                                                                           actor, now)]
    return report
