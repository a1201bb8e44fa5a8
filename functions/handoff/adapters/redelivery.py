"""Re-deliver a dead letter whose source is not a queue to where it was going: the rule target its
attributes name (EventBridge's TARGET_ARN: a state machine gets StartExecution with the event as
input, a function an asynchronous Invoke, a queue SendMessage), the function whose asynchronous
invocation failed, or, when nothing names a target, the event bus again (PutEvents)."""

import json
from typing import Any

from botocore.exceptions import ClientError

from handoff.adapters.event_bus import EventBus
from handoff.domain.redrive import DeadLetter, DeadLetterQueue, execution_name


class RedeliveryRefused(RuntimeError):
    """The message cannot be re-delivered as it is (no target, not an event); it stays."""


class TargetRedelivery:
    def __init__(self, clients: Any, bus: EventBus):
        """`clients(service)` returns a boto3 client (built once per process)."""
        self._client = clients
        self._bus = bus

    def redeliver(self, queue: DeadLetterQueue, message: DeadLetter) -> str:
        if queue.kind == "function":
            return self._invoke(queue.source, message)
        target = message.attributes.get("TARGET_ARN", "")
        service = target.split(":")[2] if target.count(":") >= 5 else ""
        if service == "states":
            try:
                self._client("stepfunctions").start_execution(
                    stateMachineArn=target, name=execution_name(message), input=message.body)
            except ClientError as exc:
                # Redriven before (its delete was lost): the execution exists, nothing starts twice.
                if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                    raise
                return f"StartExecution {target.rsplit(':', 1)[-1]} (already started)"
            return f"StartExecution {target.rsplit(':', 1)[-1]}"
        if service == "lambda":
            return self._invoke(target, message)
        if service == "sqs":
            sqs = self._client("sqs")
            account, name = target.split(":")[4:6]
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=message.body)
            return f"SendMessage {name}"
        return self._put_on_bus(message)

    def _invoke(self, function: str, message: DeadLetter) -> str:
        self._client("lambda").invoke(FunctionName=function, InvocationType="Event", Payload=message.body.encode())
        return f"Invoke {function.rsplit(':', 1)[-1]} (asynchronous)"

    def _put_on_bus(self, message: DeadLetter) -> str:
        try:
            event = json.loads(message.body)
        except json.JSONDecodeError:
            raise RedeliveryRefused("the message is not an event and names no target (TARGET_ARN)") from None
        if not (isinstance(event, dict) and isinstance(event.get("detail"), dict)
                and event.get("source") and event.get("detail-type")):
            raise RedeliveryRefused("the message is not an event and names no target (TARGET_ARN)")
        self._bus.publish(event["source"], event["detail-type"], event["detail"])
        return f"PutEvents {self._bus.bus_name}"
