"""Lambda's SQS event source mappings on the embedded runtime: poll each queue, invoke the function
with a batch in Lambda's SQS event shape, delete what succeeded (partial batch responses honoured)
and let the rest come back, so the queue's redrive policy dead-letters what keeps failing."""

import threading
import time
from typing import Any

from local.moto_bridge import Activity
from local.provision import ACCOUNT, REGION

Invoke = Any  # (function_name, event) -> (payload, error_type or None)


def _sqs_event(queue_arn: str, messages: list[dict]) -> dict:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    } for m in messages]}


class QueuePoller:
    def __init__(self, sources: list[dict], sqs: Any, invoke: Invoke, activity: Activity, interval: float = 0.01,
                 idle_interval: float = 0.2):
        """Polls every `interval` while messages come, backing off to `idle_interval` while the
        queues are empty (each poll is a ReceiveMessage per queue; a tight idle loop cost a seventh
        of a burst's CPU)."""
        self.sources, self.sqs, self.invoke, self.activity = sources, sqs, invoke, activity
        self.interval, self.idle_interval = interval, idle_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-event-sources", daemon=True)

    def start(self) -> "QueuePoller":
        if self.sources:
            self._thread.start()
        return self

    def drained(self) -> bool:
        """No message waiting or in flight in any event-source queue (a poll may not have run yet)."""
        for source in self.sources:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=source["queue_url"],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            if int(attributes["ApproximateNumberOfMessages"]) or int(attributes["ApproximateNumberOfMessagesNotVisible"]):
                return False
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        wait = self.interval
        while not self._stop.is_set():
            received = False
            for source in self.sources:
                try:
                    received = self._poll(source) or received
                except Exception:
                    pass
            wait = self.interval if received else min(self.idle_interval, wait * 2)
            self._stop.wait(wait)

    def _poll(self, source: dict) -> bool:
        messages = self.sqs.receive_message(QueueUrl=source["queue_url"], MaxNumberOfMessages=source["batch_size"],
                                            VisibilityTimeout=30, AttributeNames=["All"],
                                            MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return False
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{source['queue_url'].rsplit('/', 1)[-1]}"
        with self.activity:
            payload, error = self.invoke(source["function"], _sqs_event(queue_arn, messages))
            failed = {m["MessageId"] for m in messages} if error else {
                f.get("itemIdentifier") for f in (payload or {}).get("batchItemFailures", [])
            } if source["partial"] else set()
            for message in messages:
                if message["MessageId"] in failed:
                    # Visible again at once (time is scaled here); the redrive policy counts receives.
                    self.sqs.change_message_visibility(QueueUrl=source["queue_url"],
                                                       ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
                else:
                    self.sqs.delete_message(QueueUrl=source["queue_url"], ReceiptHandle=message["ReceiptHandle"])
            time.sleep(0)  # let the handler's own activity settle before the next poll
        return True
