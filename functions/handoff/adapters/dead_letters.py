"""Dead-letter queues, read without consuming: the messages stay where they are for a redrive;
the work queue only records that they are there (one item per message id)."""

from dataclasses import dataclass
from typing import Any

# Where the error of a dead-lettered message is said: EventBridge targets and Lambda's
# asynchronous invocations name their attributes differently.
_ERROR_ATTRIBUTES = ("ERROR_MESSAGE", "ErrorMessage", "ERROR_CODE", "ErrorCode")


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    body: str
    error: str


class DeadLetterQueues:
    def __init__(self, sqs: Any, queues: dict[str, str]):
        """`queues`: a readable name -> the queue URL."""
        self._sqs = sqs
        self._queues = queues

    def peek(self, limit: int = 100) -> list[DeadLetter]:
        """Up to `limit` messages per queue, each seen once, left visible and in place."""
        found: list[DeadLetter] = []
        for name, url in sorted(self._queues.items()):
            seen: set[str] = set()
            while len(seen) < limit:
                batch = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                                  MessageAttributeNames=["All"]).get("Messages", [])
                new = [m for m in batch if m["MessageId"] not in seen]
                if not new:
                    break
                for message in new:
                    seen.add(message["MessageId"])
                    attributes = message.get("MessageAttributes") or {}
                    error = next((attributes[a].get("StringValue", "") for a in _ERROR_ATTRIBUTES if a in attributes),
                                 "")
                    found.append(DeadLetter(name, message["MessageId"], message.get("Body", ""), error))
        return found

    def empty(self) -> set[str]:
        """The queues holding no message at all: none visible, in flight or delayed."""
        names = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed")
        found = set()
        for name, url in sorted(self._queues.items()):
            attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))["Attributes"]
            if all(int(attributes.get(a, "0")) == 0 for a in names):
                found.add(name)
        return found
