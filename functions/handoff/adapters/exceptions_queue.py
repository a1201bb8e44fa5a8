"""The exceptions queue: one message per handoff that stopped on something a person must handle."""

import json
from typing import Any

from handoff.contracts import ExceptionEntry


class ExceptionsQueue:
    def __init__(self, sqs: Any, queue_url: str):
        self._sqs = sqs
        self._url = queue_url

    def publish(self, handoff_id: str, status: str, exceptions: list[ExceptionEntry], *, priority: int = 0,
                fix_round: int | None = None) -> None:
        body = {
            "handoffId": handoff_id,
            "status": status,
            "priority": priority,
            "exceptions": [e.to_json_dict() for e in exceptions],
        }
        if fix_round is not None:
            body["fixRound"] = fix_round  # the work queue tells a redelivery from a new round by it
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(body),
                               MessageAttributes={"status": {"DataType": "String", "StringValue": status}})
