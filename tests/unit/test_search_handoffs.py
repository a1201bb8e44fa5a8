"""The search use case over an in-memory index (the port's contract: one partition, search-key
order, inclusive bounds): what a page reads, and the limits a search refuses with the parameter
named. Over DynamoDB: tests/integration/test_search_index.py."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from handoff.contracts.search import HandoffListing
from handoff.contracts.timestamps import iso
from handoff.logic import search_handoffs as use_case
from handoff.logic.search_handoffs import SearchRefused, parse_search_parameters, search_handoffs
from handoff.ports.search import IndexedHandoff

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class ListIndex:
    """handoff.ports.search.HandoffIndex over a list (each row in every partition it belongs to)."""

    def __init__(self, rows: list[IndexedHandoff]):
        self.rows = rows
        self.reads = 0

    def handoffs(self, path: str, value: str, *, forward: bool, lower: str | None, upper: str | None,
                 batch: int) -> Iterator[IndexedHandoff]:
        key = {"status": lambda h: h.status, "serviceLine": lambda h: h.service_line,
               "owner": lambda h: h.owner.email.casefold() if h.owner else "", "year": lambda h: str(h.received_at.year)}[path]
        rows = sorted((r for r in self.rows if key(r.handoff) == value), key=lambda r: r.search_key, reverse=not forward)
        for row in rows:
            if (lower is None or row.search_key >= lower) and (upper is None or row.search_key <= upper):
                self.reads += 1
                yield row

    def received_years(self) -> list[str]:
        return sorted({str(r.handoff.received_at.year) for r in self.rows})


def row(i: int, status: str = "RECEIVED") -> IndexedHandoff:
    at = NOW - timedelta(hours=i)
    return IndexedHandoff(search_key=f"{iso(at)}#ho-{i:016x}", handoff=HandoffListing(
        handoff_id=f"ho-{i:016x}", opportunity_id=f"o{i}", opportunity_name=f"Deal {i}", customer_name="Acme",
        customer_id=None, status=status, service_line="advisory", region="AMER", owner=None, amount=None,
        received_at=at, updated_at=None, rework=0))


def test_a_page_reads_only_what_it_needs_when_sorted_by_reception() -> None:
    index = ListIndex([row(i) for i in range(1000)])
    page = search_handoffs(parse_search_parameters({"limit": "10"}), index, NOW)
    assert [i.handoff_id for i in page.items] == [f"ho-{i:016x}" for i in range(10)]
    assert index.reads == 11  # the page and one more, to know there is a next page
    assert page.items[3].age_seconds == 3 * 3600


def test_sorting_other_than_by_reception_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(use_case, "MAX_SORTED", 50)
    index = ListIndex([row(i) for i in range(51)])
    with pytest.raises(SearchRefused) as refused:
        search_handoffs(parse_search_parameters({"sort": "amount"}), index, NOW)
    assert refused.value.problems[0]["field"] == "sort"
    narrower = parse_search_parameters({"sort": "amount", "to": (NOW - timedelta(hours=5)).isoformat()})
    assert search_handoffs(narrower, index, NOW).count == 25


def test_parameters_are_named_when_refused() -> None:
    with pytest.raises(SearchRefused) as refused:
        parse_search_parameters({"from": "2026-13-01T00:00:00Z", "limit": ["1", "2"], "colour": "red"})
    assert {p["field"] for p in refused.value.problems} == {"from", "limit", "colour"}
