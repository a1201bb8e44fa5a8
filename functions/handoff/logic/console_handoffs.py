"""The console's handoffs list: the operators' search (handoff.logic.search_handoffs, served from
the handoff table's indexes, never a Scan) shaped into rows with status, age, value and service line."""

from dataclasses import dataclass
from datetime import datetime

from handoff.adapters.console_handoff_pages import HandoffRow
from handoff.adapters.playbook_files import service_lines
from handoff.contracts import HandoffStatus
from handoff.logic.search_handoffs import parse_search_parameters, search_handoffs
from handoff.ports.search import HandoffIndex

PAGE_SIZE = 50
FILTERS = ("status", "serviceLine", "region", "q")


@dataclass(frozen=True)
class Listing:
    rows: list[HandoffRow]
    options: dict[str, list[str]]
    next_cursor: str | None = None


def options() -> dict[str, list[str]]:
    return {"status": [s.value for s in HandoffStatus], "serviceLine": service_lines(),
            "region": ["AMER", "EMEA", "APAC"]}


def search(index: HandoffIndex, filters: dict[str, str], now: datetime, cursor: str | None = None) -> Listing:
    """Newest first; every filter narrows; `q` matches the deal or the customer name. Raises
    SearchRefused (naming the parameter) for values the search cannot take."""
    query = {k: v for k, v in filters.items() if k in FILTERS and v} | {"limit": str(PAGE_SIZE)}
    if cursor:
        query["cursor"] = cursor
    page = search_handoffs(parse_search_parameters(query), index, now)
    rows = [HandoffRow(handoff_id=s.handoff_id, deal=s.opportunity_name or s.opportunity_id,
                       customer=s.customer_name or "", status=s.status.value, service_line=s.service_line,
                       region=s.region, value=s.amount.value if s.amount else None,
                       currency=s.amount.currency if s.amount else None, received_at=s.received_at,
                       rework=s.rework) for s in page.items]
    return Listing(rows, options(), page.next_cursor)
