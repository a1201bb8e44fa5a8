"""Read-only views of the ledger table, for tests, the local runtime and support."""

from typing import Any

from boto3.dynamodb.conditions import Attr

from handoff.adapters.dynamodb_pages import every_item
from handoff.adapters.ledger.store import plain


class LedgerInspector:
    """`table` is a boto3 DynamoDB Table resource. Scans: fine for tests and demos, not for hot paths."""

    def __init__(self, table: Any):
        self._table = table

    def items(self, kind: str) -> list[dict[str, Any]]:
        found = [plain(i) for i in every_item(self._table.scan, FilterExpression=Attr("type").eq(kind), ConsistentRead=True)]
        return sorted(found, key=lambda i: (i["pk"], i["sk"]))

    def customers(self) -> list[dict[str, Any]]:
        return self.items("customer")

    def uniqueness(self) -> list[dict[str, Any]]:
        """TAXID#... and NAME#country#... items, each pointing at one customer."""
        return self.items("unique")

    def projects(self) -> list[dict[str, Any]]:
        return self.items("project")

    def billing_schedules(self) -> list[dict[str, Any]]:
        return self.items("billing_schedule")

    def staffing_requests(self, opportunity_id: str | None = None) -> list[dict[str, Any]]:
        found = self.items("staffing_request")
        return [r for r in found if opportunity_id in (None, r["opportunityId"])]

    def requisitions(self) -> list[dict[str, Any]]:
        return self.items("requisition")

    def crm_writebacks(self) -> list[dict[str, Any]]:
        return self.items("crm_writeback")

    def idempotency_records(self) -> list[dict[str, Any]]:
        return self.items("idempotency")
