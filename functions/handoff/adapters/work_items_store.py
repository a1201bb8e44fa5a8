"""Work items in their own DynamoDB table.

Item layout: pk = the item id; `item` = the WorkItem as JSON (comments and history included);
`version` counts writes, and every write is conditional on the version it read (optimistic
locking), so a person's claim and the intake's update never overwrite each other. Two indexes
serve the reads without a Scan: `byQueue` (queueKey = OPEN#<group> or CLOSED#<group>, dueAt) for
the queue and the digests, `byHandoff` (handoffId, pk) for a handoff's items."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_pages import every_item
from handoff.domain.work_items import OWNER_GROUPS, WorkItem

QUEUE_INDEX = "byQueue"
HANDOFF_INDEX = "byHandoff"
MAX_ATTEMPTS = 5


class WorkItemConflict(RuntimeError):
    """Another writer kept changing the item; nothing was written."""


def queue_key(item: WorkItem) -> str:
    return f"{'OPEN' if item.is_open else 'CLOSED'}#{item.owner_group}"


class WorkItemStore:
    def __init__(self, table: Any):
        self._table = table

    def get(self, item_id: str) -> tuple[WorkItem, int] | None:
        found = self._table.get_item(Key={"pk": item_id}, ConsistentRead=True).get("Item")
        if not found:
            return None
        return WorkItem.model_validate_json(found["item"]), int(found["version"])

    def item(self, item_id: str) -> WorkItem | None:
        found = self.get(item_id)
        return found[0] if found else None

    def put(self, item: WorkItem, expected_version: int | None) -> bool:
        """Write `item` if the stored version is still `expected_version` (None: it must not exist)."""
        record = {"pk": item.item_id, "item": item.model_dump_json(), "version": (expected_version or 0) + 1,
                  "queueKey": queue_key(item), "dueAt": item.due_at.isoformat(), "ownerGroup": item.owner_group,
                  "state": item.state}
        if item.handoff_id:
            record["handoffId"] = item.handoff_id
        try:
            if expected_version is None:
                self._table.put_item(Item=record, ConditionExpression="attribute_not_exists(pk)")
            else:
                self._table.put_item(Item=record, ConditionExpression="#v = :v",
                                     ExpressionAttributeNames={"#v": "version"},
                                     ExpressionAttributeValues={":v": expected_version})
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise

    def change(self, item_id: str, change: Callable[[WorkItem | None], WorkItem | None]) -> WorkItem | None:
        """Read, apply `change` (pure; None = nothing to write), write conditionally; re-read and
        re-apply when another writer won. Returns what was written, or None."""
        for _ in range(MAX_ATTEMPTS):
            found = self.get(item_id)
            current, version = found if found else (None, None)
            updated = change(current)
            if updated is None or updated == current:
                return None
            if self.put(updated, version):
                return updated
        raise WorkItemConflict(f"work item {item_id} kept changing; nothing written")

    def _query(self, **kwargs: Any) -> list[WorkItem]:
        return [WorkItem.model_validate_json(i["item"]) for i in every_item(self._table.query, **kwargs)]

    def marked(self, key: str) -> bool:
        """A marker (a digest sent): not a work item, in no index."""
        return "Item" in self._table.get_item(Key={"pk": key}, ConsistentRead=True)

    def mark(self, key: str, at: datetime) -> None:
        self._table.put_item(Item={"pk": key, "at": at.isoformat()})

    def for_handoff(self, handoff_id: str) -> list[WorkItem]:
        return self._query(IndexName=HANDOFF_INDEX, KeyConditionExpression=Key("handoffId").eq(handoff_id))

    def open_items(self, groups: tuple[str, ...] = OWNER_GROUPS) -> list[WorkItem]:
        """Open and claimed items of these groups, earliest due first within a group. The index is
        eventually consistent: an item just written may show a moment later."""
        found: list[WorkItem] = []
        for group in groups:
            found += self._query(IndexName=QUEUE_INDEX, KeyConditionExpression=Key("queueKey").eq(f"OPEN#{group}"))
        return found

    def closed_items(self, groups: tuple[str, ...] = OWNER_GROUPS, limit: int = 50) -> list[WorkItem]:
        """The most recently due closed items of these groups (for the queue's "done" view)."""
        found: list[WorkItem] = []
        for group in groups:
            page = self._table.query(IndexName=QUEUE_INDEX, KeyConditionExpression=Key("queueKey").eq(f"CLOSED#{group}"),
                                     ScanIndexForward=False, Limit=limit)
            found += [WorkItem.model_validate_json(i["item"]) for i in page["Items"]]
        return sorted(found, key=lambda i: i.updated_at, reverse=True)[:limit]
