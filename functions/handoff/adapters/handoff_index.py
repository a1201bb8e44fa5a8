"""The handoff table's search indexes: what each RECORD item carries for them, and the Query that
reads one partition. Only RECORD items have `searchKey`, so the indexes hold handoffs and nothing
else (steps, approvals and deals share the table but not the indexes)."""

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from handoff.adapters.dynamodb_pages import every_item
from handoff.contracts.event import ClosedWonEvent, Person
from handoff.contracts.money import Money
from handoff.contracts.record import HandoffStatus
from handoff.contracts.search import HandoffListing
from handoff.contracts.timestamps import iso
from handoff.ports.search import IndexedHandoff, IndexPath

SEARCH_KEY = "searchKey"  # receivedAt#handoffId
# One global secondary index per access path: (index name, its partition key attribute).
INDEXES: dict[IndexPath, tuple[str, str]] = {
    "owner": ("byOwner", "ownerKey"),
    "status": ("byStatus", "status"),
    "serviceLine": ("byServiceLine", "serviceLine"),
    "year": ("byReceivedYear", "receivedYear"),
}
# What every index holds besides the table's and its own keys (infra/handoff_indexes.py projects
# exactly these; a test checks). A new summary field goes here and there.
SUMMARY_ATTRIBUTES = (
    "handoffId", "opportunityId", "opportunityName", "customerName", "customerId", "ownerName", "ownerEmail",
    "status", "serviceLine", "region", "amountValue", "amountCurrency", "receivedAt", "updatedAt", "rework",
)
YEARS_KEY = {"pk": "SEARCH#YEARS", "sk": "YEARS"}


def search_attributes(event: ClosedWonEvent) -> dict[str, Any]:
    """The deal's fields a search filters, sorts and shows (set at registration, renewed by a correction)."""
    opportunity, account = event.detail.opportunity, event.detail.account
    return {
        "opportunityName": opportunity.name,
        "customerName": account.legal_name,
        "customerId": account.crm_id,
        "ownerName": opportunity.owner.name,
        "ownerEmail": str(opportunity.owner.email),
        "ownerKey": str(opportunity.owner.email).casefold(),
        "amountValue": opportunity.amount.value,
        "amountCurrency": opportunity.amount.currency,
        "serviceLine": opportunity.service_line,
        "region": opportunity.region,
    }


def placement(handoff_id: str, received_at: datetime) -> dict[str, str]:
    """Where the handoff sits in the indexes by reception (never changes)."""
    received = iso(received_at)
    return {SEARCH_KEY: f"{received}#{handoff_id}", "receivedYear": received[:4]}


class DynamoHandoffIndex:
    """handoff.ports.search.HandoffIndex over the handoff table's GSIs (Query only)."""

    def __init__(self, table: Any):
        self._table = table

    def handoffs(self, path: IndexPath, value: str, *, forward: bool, lower: str | None, upper: str | None,
                 batch: int) -> Iterator[IndexedHandoff]:
        index, partition = INDEXES[path]
        condition = Key(partition).eq(value)
        if lower is not None and upper is not None:
            if lower > upper:
                return
            condition &= Key(SEARCH_KEY).between(lower, upper)
        elif lower is not None:
            condition &= Key(SEARCH_KEY).gte(lower)
        elif upper is not None:
            condition &= Key(SEARCH_KEY).lte(upper)
        for item in every_item(self._table.query, IndexName=index, KeyConditionExpression=condition,
                               ScanIndexForward=forward, Limit=batch):
            yield _indexed(item)

    def received_years(self) -> list[str]:
        item = self._table.get_item(Key=YEARS_KEY).get("Item") or {}
        return sorted(item.get("years", set()))


def _indexed(item: dict) -> IndexedHandoff:
    # The index holds what registration wrote from a validated event, so a row is built, not
    # validated again: 14 us a row instead of 22, or 70 with the owner's email checked, paid for each
    # of the thousands of rows a sorted search may read.
    owner = None
    if item.get("ownerName") and item.get("ownerEmail"):
        owner = Person.model_construct(name=item["ownerName"], email=item["ownerEmail"])
    amount = None
    if item.get("amountValue") is not None and item.get("amountCurrency"):
        amount = Money.of(Decimal(item["amountValue"]), item["amountCurrency"])
    updated = item.get("updatedAt")
    return IndexedHandoff(search_key=item[SEARCH_KEY], handoff=HandoffListing.model_construct(
        handoff_id=item["handoffId"], opportunity_id=item["opportunityId"], opportunity_name=item.get("opportunityName"),
        customer_name=item.get("customerName"), customer_id=item.get("customerId"), status=HandoffStatus(item["status"]),
        service_line=item["serviceLine"], region=item["region"], owner=owner, amount=amount,
        received_at=datetime.fromisoformat(item["receivedAt"]), updated_at=datetime.fromisoformat(updated) if updated else None,
        rework=int(item.get("rework", 0))))
