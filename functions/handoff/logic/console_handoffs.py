"""The console's handoffs list: rows with status, age, value and service line, filtered."""

from dataclasses import dataclass

from handoff.adapters.console_pages import HandoffRow
from handoff.adapters.handoff_store import HandoffStore

PAGE_SIZE = 50


@dataclass(frozen=True)
class Listing:
    rows: list[HandoffRow]
    options: dict[str, list[str]]
    next_cursor: str | None = None


def _row(store: HandoffStore, handoff_id: str) -> HandoffRow:
    record, deal = store.record(handoff_id), store.deal(handoff_id).detail
    return HandoffRow(handoff_id=handoff_id, deal=deal.opportunity.name, customer=deal.account.legal_name,
                      status=record.status.value, service_line=record.service_line, region=record.region,
                      value=deal.contract.value.value, currency=deal.contract.value.currency,
                      received_at=record.received_at, rework=record.rework)


def search(store: HandoffStore, filters: dict[str, str], cursor: str | None = None) -> Listing:
    """Newest first. Text matches the deal or the customer name, case-insensitively."""
    rows = [_row(store, h) for h in store.handoff_ids()]
    options = {"status": sorted({r.status for r in rows}), "serviceLine": sorted({r.service_line for r in rows}),
               "region": sorted({r.region for r in rows})}
    text = filters.get("q", "").lower()
    chosen = [r for r in rows
              if (not filters.get("status") or r.status == filters["status"])
              and (not filters.get("serviceLine") or r.service_line == filters["serviceLine"])
              and (not filters.get("region") or r.region == filters["region"])
              and (not text or text in r.deal.lower() or text in r.customer.lower())]
    chosen.sort(key=lambda r: r.received_at, reverse=True)
    start = int(cursor) if cursor and cursor.isdigit() else 0
    following = start + PAGE_SIZE
    return Listing(chosen[start:following], options, str(following) if following < len(chosen) else None)
