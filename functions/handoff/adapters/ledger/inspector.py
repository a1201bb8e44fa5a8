"""Read-only views of the ledger table, for tests, the local runtime and support."""

from collections.abc import Callable
from typing import Any

from boto3.dynamodb.conditions import Attr

from handoff.adapters.dynamodb_pages import every_item
from handoff.adapters.ledger.store import plain

Items = list[dict[str, Any]]


def _of_type(kind: str, doc: str | None = None) -> Callable[["LedgerInspector"], Items]:
    """A view of every item of one `type`: one line a view below."""

    def view(self: "LedgerInspector") -> Items:
        return self.items(kind)

    view.__doc__ = doc or f"Every {kind} item, by key."
    return view


class LedgerInspector:
    """`table` is a boto3 DynamoDB Table resource. Scans: fine for tests and demos, not for hot paths."""

    def __init__(self, table: Any):
        self._table = table

    def items(self, kind: str) -> Items:
        found = [plain(i) for i in every_item(self._table.scan, FilterExpression=Attr("type").eq(kind), ConsistentRead=True)]
        return sorted(found, key=lambda i: (i["pk"], i["sk"]))

    customers = _of_type("customer")
    uniqueness = _of_type("unique", "TAXID#... and NAME#country#... items, each pointing at one customer.")
    projects = _of_type("project")
    billing_schedules = _of_type("billing_schedule")
    requisitions = _of_type("requisition")
    crm_writebacks = _of_type("crm_writeback")
    idempotency_records = _of_type("idempotency")

    def staffing_requests(self, opportunity_id: str | None = None) -> Items:
        found = self.items("staffing_request")
        return [r for r in found if opportunity_id in (None, r["opportunityId"])]
