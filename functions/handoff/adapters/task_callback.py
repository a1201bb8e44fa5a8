"""The Step Functions callback for approvals: hands a decision (or a timeout) to the task waiting on
.waitForTaskToken. The only place a task token leaves the task-token table; once Step Functions took
it (or no longer waits) the token is removed. A task that no longer waits is a Delivery, not an error."""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from handoff.adapters.task_tokens import TaskTokens
from handoff.domain.approvals import Approval

GONE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
TOKEN_USED = "TaskTokenUsed"  # the task-token table no longer holds it: a decision or expiry already used it


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    gone_reason: str = ""  # TaskTimedOut / InvalidToken / TaskDoesNotExist: the workflow no longer waits


class TaskCallback:
    """Hands a decision to the waiting task. The only place a task token leaves the task-token
    table; once Step Functions took it (or no longer waits) the token is removed."""

    def __init__(self, sfn_client: Any, tokens: TaskTokens):
        self._sfn = sfn_client
        self._tokens = tokens

    def succeed(self, approval: Approval, output: dict[str, Any]) -> Delivery:
        return self._send(self._sfn.send_task_success, approval, output=json.dumps(output))

    def fail(self, approval: Approval, error: str, cause: str) -> Delivery:
        return self._send(self._sfn.send_task_failure, approval, error=error[:256], cause=cause[:32768])

    def _send(self, call: Any, approval: Approval, **kwargs: Any) -> Delivery:
        ref = approval.task_token_ref
        token = self._tokens.get(ref) if ref else (approval.task_token.get_secret_value() if approval.task_token else None)
        if token is None:
            return Delivery(False, TOKEN_USED)
        try:
            call(taskToken=token, **kwargs)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in GONE:
                self._used(ref, token)
                return Delivery(False, code)
            # AWS validation messages can echo parameter values: never let the token reach a log.
            message = str(exc.response["Error"].get("Message", "")).replace(token, "<task token>")
            raise ClientError({**exc.response, "Error": {**exc.response["Error"], "Message": message}},
                              exc.operation_name) from None
        self._used(ref, token)
        return Delivery(True)

    def _used(self, ref: str | None, token: str) -> None:
        if not ref:  # an approval stored with its token in the handoff table keeps it there (README)
            return
        try:
            self._tokens.consume(ref, token, datetime.now(UTC))
        except ClientError:  # Step Functions has the decision; TTL removes the token later
            logging.getLogger(__name__).warning("a used task token could not be removed; TTL will")
