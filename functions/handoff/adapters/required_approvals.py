"""The approval kinds each round of a handoff required, in the handoff table (pk = HANDOFF#<id>,
sk = REQUIRED_APPROVALS#<round>), and the kinds approved so far: what
handoff.domain.approval_carryover needs to keep a correction from dropping an approval."""

import json
from typing import Any

from boto3.dynamodb.conditions import Key

from handoff.adapters.dynamodb_pages import every_item
from handoff.domain.approval_carryover import RequiredEarlier

_PREFIX = "REQUIRED_APPROVALS#"


class RequiredApprovals:
    def __init__(self, table: Any):
        self._table = table

    def record(self, handoff_id: str, fix_round: int, required: list[RequiredEarlier]) -> None:
        """What this round required (a retried step writes the same item again)."""
        self._table.put_item(Item={
            "pk": f"HANDOFF#{handoff_id}", "sk": f"{_PREFIX}{fix_round:04d}",
            "required": json.dumps([r.model_dump(mode="json", by_alias=True) for r in required]),
        })

    def earlier(self, handoff_id: str, before_round: int) -> list[RequiredEarlier]:
        found = []
        condition = Key("pk").eq(f"HANDOFF#{handoff_id}") & Key("sk").begins_with(_PREFIX)
        for item in every_item(self._table.query, KeyConditionExpression=condition, ConsistentRead=True):
            if int(item["sk"].removeprefix(_PREFIX)) < before_round:
                found += [RequiredEarlier.model_validate(r) for r in json.loads(item["required"])]
        return found
