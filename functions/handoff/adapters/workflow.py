"""The handoff workflow (Step Functions): start an execution under a name of our choosing."""

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.domain.errors import IntegrationTransient


class ExecutionExists(Exception):
    """An execution of that name already ran or runs (names are unique per state machine for 90 days)."""


class Workflow:
    def __init__(self, sfn_client: Any, state_machine_arn: str):
        self._sfn = sfn_client
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """StartExecution; returns the execution ARN."""
        try:
            return self._sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                             input=json.dumps(payload))["executionArn"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExecutionAlreadyExists":
                raise ExecutionExists(name) from None
            raise IntegrationTransient(f"Step Functions did not start {name}: {code} {exc}") from None
        except BotoCoreError as exc:
            raise IntegrationTransient(f"Step Functions did not start {name}: {exc}") from None
