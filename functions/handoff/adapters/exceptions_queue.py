"""The exceptions queue: one message per handoff that stopped on something a person must handle."""

import json
from typing import Any

from handoff.contracts import ExceptionEntry


class ExceptionsQueue:
    def __init__(self, sqs: Any, queue_url: str):
        self._sqs = sqs
        self._url = queue_url

    def publish(self, handoff_id: str, status: str, exceptions: list[ExceptionEntry], *, priority: int = 0) -> str:
        """Send one message; returns its SQS message id."""
        body = {
            "handoffId": handoff_id,
            "status": status,
            "priority": priority,
            "exceptions": [e.to_json_dict() for e in exceptions],
        }
        return self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(body),
                                      MessageAttributes={"status": {"DataType": "String", "StringValue": status}}
                                      )["MessageId"]
