"""The exceptions queue: one message per handoff that stopped on something a person must handle."""

import json
from typing import Any

from handoff.contracts import ExceptionEntry


class ExceptionsQueue:
    def __init__(self, sqs: Any, queue_url: str):
        self._sqs = sqs
        self._url = queue_url

    def publish(self, handoff_id: str, status: str, exceptions: list[ExceptionEntry], *, priority: int = 0,
                owner: str | None = None, resolution: dict[str, str] | None = None,
                fix_round: int | None = None) -> str:
        """Send one message; returns its SQS message id. `owner`: the group that should take the work
        item (e.g. data-steward for a master-data conflict); `resolution`: what brings the handoff
        back once the cause is fixed (a retry); `fix_round`: the work queue tells a redelivery from
        a new round by it."""
        body: dict[str, Any] = {
            "handoffId": handoff_id,
            "status": status,
            "priority": priority,
            "exceptions": [e.to_json_dict() for e in exceptions],
        }
        if owner:
            body["owner"] = owner
        if resolution:
            body["resolution"] = resolution
        if fix_round is not None:
            body["fixRound"] = fix_round
        return self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(body),
                                      MessageAttributes={"status": {"DataType": "String", "StringValue": status}}
                                      )["MessageId"]
