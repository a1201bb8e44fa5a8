"""What a redrive of dead-letter queues needs: read and remove messages of a dead-letter queue, move
a queue's dead letters back to their source queue, and re-deliver one message to where it was going."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from handoff.domain.redrive import DeadLetter, DeadLetterQueue


class DeadLetters(Protocol):
    def count(self, queue: DeadLetterQueue) -> int:
        """Messages waiting (visible and in flight)."""
        ...

    def peek(self, queue: DeadLetterQueue, limit: int) -> list[DeadLetter]:
        """Up to `limit` messages, each once, left in place and visible."""
        ...

    def take(self, queue: DeadLetterQueue, limit: int) -> Iterator[DeadLetter]:
        """Each message once, hidden while it is handled; it comes back unless deleted."""
        ...

    def release(self, queue: DeadLetterQueue, message: DeadLetter) -> None:
        """A taken message that could not be handled: visible again at once."""
        ...

    def delete(self, queue: DeadLetterQueue, message: DeadLetter) -> None: ...


@dataclass(frozen=True)
class Moved:
    how: str  # "StartMessageMoveTask" or "ReceiveMessage, SendMessage, DeleteMessage"
    moved: list[str]  # the dead letters' message ids moved (empty for a move task: SQS moves them itself)
    failed: list[dict[str, str]]  # {"messageId", "error"}: left in the dead-letter queue
    task_handle: str | None = None


class QueueMover(Protocol):
    def move(self, queue: DeadLetterQueue, limit: int) -> Moved:
        """Move the dead letters of a queue-sourced DLQ back to the source queue; never loses one."""
        ...


class Redelivery(Protocol):
    def redeliver(self, queue: DeadLetterQueue, message: DeadLetter) -> str:
        """Deliver one dead letter again to where it was going; says where and how. Raises when the
        destination did not take it (the message then stays)."""
        ...
