"""Dead-letter queues on SQS: read and remove their messages, and move them back to their source
queue, by SQS's own redrive (StartMessageMoveTask) or, where that API is not available (moto), by
receiving from the dead-letter queue and sending to the source, deleting only after the send."""

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.domain.redrive import DeadLetter, DeadLetterQueue
from handoff.ports.redrive import Moved

# How long a taken message stays hidden while it is re-sent: long enough for one send, short enough
# that a message whose send failed is back soon.
HANDLING_SECONDS = 30


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    wire = message.get("MessageAttributes") or {}
    return DeadLetter(message["MessageId"], message.get("Body", ""),
                      {k: v.get("StringValue", "") for k, v in wire.items() if "StringValue" in v},
                      message.get("ReceiptHandle", ""), wire)


class SqsDeadLetters:
    def __init__(self, sqs: Any):
        self._sqs = sqs

    def count(self, queue: DeadLetterQueue) -> int:
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0))

    def _receive(self, queue: DeadLetterQueue, visibility: int, limit: int) -> Iterator[DeadLetter]:
        seen: set[str] = set()
        while len(seen) < limit:
            batch = self._sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=min(10, limit - len(seen)),
                                              VisibilityTimeout=visibility, MessageAttributeNames=["All"],
                                              WaitTimeSeconds=0).get("Messages", [])
            new = [m for m in batch if m["MessageId"] not in seen]
            for again in (m for m in batch if m["MessageId"] in seen):
                # One this walk saw and let go (it could not be handled): visible again, not handled twice.
                self._sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=again["ReceiptHandle"],
                                                    VisibilityTimeout=0)
            if not new:
                return
            for message in new:
                seen.add(message["MessageId"])
                yield _dead_letter(message)

    def peek(self, queue: DeadLetterQueue, limit: int) -> list[DeadLetter]:
        # Received with a visibility timeout (with none, SQS keeps answering the same first ones),
        # then made visible again at once: the queue ends as it was.
        seen = list(self._receive(queue, HANDLING_SECONDS, limit))
        for start in range(0, len(seen), 10):
            self._sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for i, m in enumerate(seen[start:start + 10])])
        return seen

    def take(self, queue: DeadLetterQueue, limit: int) -> Iterator[DeadLetter]:
        return self._receive(queue, HANDLING_SECONDS, limit)

    def release(self, queue: DeadLetterQueue, message: DeadLetter) -> None:
        self._sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=message.receipt_handle,
                                           VisibilityTimeout=0)

    def delete(self, queue: DeadLetterQueue, message: DeadLetter) -> None:
        self._sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message.receipt_handle)


class MoveTaskMover:
    """SQS's redrive: a message move task from the dead-letter queue back to the queue its messages
    came from (no DestinationArn). SQS moves them asynchronously and loses none."""

    def __init__(self, sqs: Any):
        self._sqs = sqs

    def move(self, queue: DeadLetterQueue, limit: int) -> Moved:
        del limit  # the task moves them all
        handle = self._sqs.start_message_move_task(SourceArn=queue.arn)["TaskHandle"]
        return Moved("StartMessageMoveTask", [], [], handle)


class ReceiveSendMover:
    """The same move done by hand: each message is sent to the source queue as it was (body and
    attributes) and deleted from the dead-letter queue only once the send succeeded. A crash between
    the two leaves a copy in both; the receivers are idempotent, so that copy does nothing twice."""

    def __init__(self, sqs: Any, dead_letters: SqsDeadLetters):
        self._sqs = sqs
        self._dead_letters = dead_letters

    def move(self, queue: DeadLetterQueue, limit: int) -> Moved:
        moved: list[str] = []
        failed: list[dict[str, str]] = []
        for message in self._dead_letters.take(queue, limit):
            try:
                self._sqs.send_message(QueueUrl=queue.source, MessageBody=message.body,
                                       **({"MessageAttributes": message.wire_attributes}
                                          if message.wire_attributes else {}))
            except (ClientError, BotoCoreError) as exc:
                failed.append({"messageId": message.message_id, "error": str(exc)[:300]})
                self._dead_letters.release(queue, message)
                continue
            self._dead_letters.delete(queue, message)
            moved.append(message.message_id)
        return Moved("ReceiveMessage, SendMessage, DeleteMessage", moved, failed)
