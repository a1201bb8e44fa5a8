"""The task tokens of pending approvals, in their own DynamoDB table (infra/task_tokens.py): whoever
holds a token can resume the workflow with any output, so it is kept out of the handoff table that
most functions read. An approval item names its token by `taskTokenRef` (the first approval's id;
an escalation keeps the reference). RequestApproval puts a token; the approval API, the sweeper and
the console get it to call Step Functions and remove it once Step Functions took it or no longer
waits. TTL drops what nobody used after the task's own deadline.

Item: pk = <taskTokenRef>, taskToken, handoffId, tokenDigest, expiresAtEpoch (TTL); once used:
no taskToken, usedAt."""

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import condition_failed
from handoff.contracts.timestamps import iso


class TaskTokens:
    def __init__(self, table: Any):
        self._table = table

    def put(self, ref: str, token: str, *, handoff_id: str, digest: str, keep_until: datetime) -> None:
        """Store (or replace: a retried request step brings a new token) the token of `ref`."""
        self._table.put_item(Item={"pk": ref, "taskToken": token, "handoffId": handoff_id, "tokenDigest": digest,
                                   "expiresAtEpoch": int(keep_until.timestamp())})

    def get(self, ref: str) -> str | None:
        item = self._table.get_item(Key={"pk": ref}, ConsistentRead=True).get("Item") or {}
        return item.get("taskToken")

    def consume(self, ref: str, token: str, now: datetime) -> bool:
        """Remove the token once used, unless a retried request replaced it meanwhile (then the new
        token still waits for its decision). False: nothing removed."""
        try:
            self._table.update_item(
                Key={"pk": ref}, UpdateExpression="REMOVE #token SET #usedAt = :now",
                ConditionExpression="#token = :token", ExpressionAttributeNames={"#token": "taskToken",
                                                                                 "#usedAt": "usedAt"},
                ExpressionAttributeValues={":token": token, ":now": iso(now)})
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
