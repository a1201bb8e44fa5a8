"""GET /handoffs over HTTP on the embedded runtime: every filter, every sort, cursor pages with no
duplicates and no gaps, bad parameters named, and the table read with Query only (never Scan).

The handoffs are registered through the store with chosen reception times (a year boundary
included) and statuses, so the expected answers are computed here from what was written; one
needs-fix deal also runs through the workflow and is found BLOCKED."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from handoff.adapters.handoff_store import handoff_id_for
from handoff.contracts import HandoffStatus, parse_event
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw
from tests.support.events import closed_won

EXAMPLES = ("us-fixed-fee-advisory", "emea-milestone-erp-rollout", "apac-time-and-materials",
            "us-retainer-managed-services")
OWNERS = (("Ana Ruiz", "Ana.Ruiz@example-consulting.com"), ("Bo Chen", "bo.chen@example-consulting.com"),
          ("Cleo Diaz", "cleo.diaz@example-consulting.com"))
STATUSES = (HandoffStatus.RECEIVED, HandoffStatus.BLOCKED, HandoffStatus.AWAITING_APPROVAL,
            HandoffStatus.ACTIVATED, HandoffStatus.FAILED)
START = datetime(2025, 11, 20, 8, 0, tzinfo=UTC)
COUNT = 26


@dataclass(frozen=True)
class Deal:
    handoff_id: str
    opportunity_id: str
    name: str
    customer: str
    customer_id: str
    owner: tuple[str, str]
    amount: Decimal
    currency: str
    service_line: str
    region: str
    status: str
    received_at: datetime


def _deals() -> list[tuple[Deal, dict]]:
    made = []
    for i in range(COUNT):
        event = closed_won(EXAMPLES[i % 4], f"srch-{i:02d}")
        opportunity, account = event["detail"]["opportunity"], event["detail"]["account"]
        opportunity["name"] = f"{opportunity['name']} lot {i:02d}"
        name, email = OWNERS[i % 3]
        opportunity["owner"] = {"name": name, "email": email}
        value = Decimal(50_000 + 1_000 * ((i * 7) % COUNT))  # distinct but not in reception order
        if i == 7:
            value = Decimal(50_000 + 1_000 * ((3 * 7) % COUNT))  # the same amount as deal 3 (same example, currency)
        opportunity["amount"]["value"] = f"{value:.2f}"
        received = START + timedelta(days=13 * i, hours=i)
        made.append((Deal(
            handoff_id=handoff_id_for(event["source"], opportunity["id"]), opportunity_id=opportunity["id"],
            name=opportunity["name"], customer=account["legalName"], customer_id=account["crmId"],
            owner=(name, email), amount=value, currency=opportunity["amount"]["currency"],
            service_line=opportunity["serviceLine"], region=opportunity["region"],
            status=STATUSES[i % len(STATUSES)].value, received_at=received,
        ), event))
    return made


DEALS = [d for d, _ in _deals()]


@pytest.fixture(scope="module")
def searchable(runtime: EmbeddedRuntime) -> EmbeddedRuntime:
    store = runtime.store()
    for deal, event in _deals():
        store.register(parse_event(event), event, deal.received_at)
        if deal.status != HandoffStatus.RECEIVED:
            store.set_status(deal.handoff_id, HandoffStatus(deal.status))
    return runtime


def ids(deals: list[Deal]) -> list[str]:
    return [d.handoff_id for d in deals]


def newest_first(deals: list[Deal]) -> list[Deal]:
    return sorted(deals, key=lambda d: (d.received_at, d.handoff_id), reverse=True)


def ok(runtime: EmbeddedRuntime, **params: object) -> dict:
    status, page = runtime.search(**params)
    assert status == 200, page
    assert page["count"] == len(page["items"])
    return page


def walk(runtime: EmbeddedRuntime, **params: object) -> Iterator[dict]:
    """Every page of a search, following nextCursor."""
    page = ok(runtime, **params)
    yield page
    while page["nextCursor"] is not None:
        page = ok(runtime, **{**params, "cursor": page["nextCursor"]})
        yield page


def all_ids(runtime: EmbeddedRuntime, **params: object) -> list[str]:
    return [item["handoffId"] for page in walk(runtime, **params) for item in page["items"]]


# --- the answer ------------------------------------------------------------------------------------
def test_a_summary_says_what_an_operator_needs(searchable: EmbeddedRuntime) -> None:
    deal = DEALS[7]
    page = ok(searchable, q=deal.name)
    assert page["nextCursor"] is None
    [item] = page["items"]
    age = (datetime.now(UTC) - deal.received_at).total_seconds()
    assert item == {
        "handoffId": deal.handoff_id, "opportunityId": deal.opportunity_id, "opportunityName": deal.name,
        "customerName": deal.customer, "customerId": deal.customer_id, "status": deal.status,
        "serviceLine": deal.service_line, "region": deal.region,
        "owner": {"name": deal.owner[0], "email": deal.owner[1]},
        "amount": {"value": f"{deal.amount:.2f}", "currency": deal.currency},
        "receivedAt": deal.received_at.isoformat().replace("+00:00", "Z"),
        "updatedAt": item["updatedAt"], "ageSeconds": item["ageSeconds"], "rework": 0,
    }
    assert age - 5 <= item["ageSeconds"] <= age + 5
    assert datetime.fromisoformat(item["updatedAt"]) >= deal.received_at


def test_no_filter_lists_every_handoff_newest_first_across_years(searchable: EmbeddedRuntime) -> None:
    assert {d.received_at.year for d in DEALS} == {2025, 2026}
    assert all_ids(searchable, limit=100) == ids(newest_first(DEALS))


# --- filters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["BLOCKED", "activated"])
def test_status(searchable: EmbeddedRuntime, status: str) -> None:
    expected = [d for d in DEALS if d.status == status.upper()]
    assert expected
    assert all_ids(searchable, status=status) == ids(newest_first(expected))


def test_service_line_and_region(searchable: EmbeddedRuntime) -> None:
    line = DEALS[1].service_line
    assert all_ids(searchable, serviceLine=line) == ids(newest_first([d for d in DEALS if d.service_line == line]))
    assert all_ids(searchable, region="apac") == ids(newest_first([d for d in DEALS if d.region == "APAC"]))
    assert all_ids(searchable, serviceLine="no-such-line") == []


@pytest.mark.parametrize("owner", [OWNERS[0][1].upper(), OWNERS[0][0].lower()])
def test_owner_by_email_or_name(searchable: EmbeddedRuntime, owner: str) -> None:
    expected = [d for d in DEALS if d.owner == OWNERS[0]]
    assert all_ids(searchable, owner=owner) == ids(newest_first(expected))


def test_customer_by_crm_id_or_legal_name(searchable: EmbeddedRuntime) -> None:
    deal = DEALS[2]
    expected = ids(newest_first([d for d in DEALS if d.customer_id == deal.customer_id]))
    assert all_ids(searchable, customer=deal.customer_id) == expected
    assert all_ids(searchable, customer=deal.customer.upper()) == expected
    assert all_ids(searchable, customer=deal.customer[:6]) == []  # a whole name, not a prefix


def test_time_window_is_inclusive_and_takes_any_offset(searchable: EmbeddedRuntime) -> None:
    low, high = DEALS[4].received_at, DEALS[11].received_at
    expected = ids(newest_first([d for d in DEALS if low <= d.received_at <= high]))
    assert all_ids(searchable, from_=low, to=high) == expected
    in_tokyo = high.astimezone(ZoneInfo("Asia/Tokyo")).isoformat()
    assert all_ids(searchable, **{"from": low.isoformat().replace("+00:00", "Z"), "to": in_tokyo}) == expected
    assert all_ids(searchable, from_=DEALS[-1].received_at) == [DEALS[-1].handoff_id]
    assert all_ids(searchable, to=DEALS[0].received_at - timedelta(seconds=1)) == []


def test_text_on_opportunity_or_customer_name_ignores_case(searchable: EmbeddedRuntime) -> None:
    assert all_ids(searchable, q="LOT 07") == [DEALS[7].handoff_id]
    customer = DEALS[1].customer
    word = customer.split()[0].swapcase()
    expected = [d for d in DEALS if word.casefold() in d.customer.casefold() or word.casefold() in d.name.casefold()]
    assert all_ids(searchable, q=word) == ids(newest_first(expected))


def test_filters_combine(searchable: EmbeddedRuntime) -> None:
    owner = OWNERS[1]
    expected = [d for d in DEALS if d.owner == owner and d.region == "AMER" and d.received_at.year == 2026]
    assert expected
    found = all_ids(searchable, owner=owner[1], region="AMER", from_=datetime(2026, 1, 1, tzinfo=UTC), limit=2)
    assert found == ids(newest_first(expected))
    status = DEALS[3].status
    both = [d for d in DEALS if d.status == status and d.service_line == DEALS[3].service_line]
    assert all_ids(searchable, status=status, serviceLine=DEALS[3].service_line) == ids(newest_first(both))


# --- sort and pages ----------------------------------------------------------------------------------
def test_received_at_ascending(searchable: EmbeddedRuntime) -> None:
    assert all_ids(searchable, sort="receivedAt", order="asc", limit=4) == ids(newest_first(DEALS))[::-1]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_amount(searchable: EmbeddedRuntime, order: str) -> None:
    expected = sorted(DEALS, key=lambda d: (d.amount, d.currency, d.received_at, d.handoff_id),
                      reverse=order == "desc")
    pages = list(walk(searchable, sort="amount", order=order, limit=5))
    found = [i["handoffId"] for p in pages for i in p["items"]]
    assert found == ids(expected)
    values = [Decimal(i["amount"]["value"]) for p in pages for i in p["items"]]
    assert values == sorted(values, reverse=order == "desc")


def test_status_sort(searchable: EmbeddedRuntime) -> None:
    expected = sorted(DEALS, key=lambda d: (d.status, d.received_at, d.handoff_id))
    assert all_ids(searchable, sort="status", order="asc", limit=7) == ids(expected)


@pytest.mark.parametrize("params", [
    {"limit": 1}, {"limit": 7}, {"limit": 25, "order": "asc"}, {"sort": "amount", "limit": 3},
    {"q": "lot", "limit": 4}, {"region": "EMEA", "limit": 2, "order": "asc"},
    {"status": "FAILED", "limit": 1}, {"sort": "customerName", "limit": 6},
    {"sort": "updatedAt", "limit": 4}, {"sort": "status", "limit": 5, "order": "asc"},
    {"sort": "opportunityName", "limit": 3, "order": "asc"},
])
def test_pages_have_no_duplicates_and_no_gaps(searchable: EmbeddedRuntime, params: dict) -> None:
    everything = all_ids(searchable, **{k: v for k, v in params.items() if k != "limit"}, limit=100)
    pages = list(walk(searchable, **params))
    found = [i["handoffId"] for p in pages for i in p["items"]]
    assert found == everything  # same order, nothing twice, nothing missed
    assert len(set(found)) == len(found)
    assert all(p["count"] == params["limit"] for p in pages[:-1])
    assert 0 < pages[-1]["count"] <= params["limit"] and pages[-1]["nextCursor"] is None


def test_a_handoff_received_between_pages_neither_repeats_nor_hides_the_rest(searchable: EmbeddedRuntime) -> None:
    first = ok(searchable, q="lot", limit=5, order="asc")
    event = closed_won(EXAMPLES[0], "srch-late")
    event["detail"]["opportunity"]["name"] += " lot late"
    searchable.store().register(parse_event(event), event, START - timedelta(days=1))  # sorts before page 1
    rest = list(walk(searchable, q="lot", limit=5, order="asc", cursor=first["nextCursor"]))
    found = [i["handoffId"] for i in first["items"]] + [i["handoffId"] for p in rest for i in p["items"]]
    assert found == ids(newest_first(DEALS))[::-1]


def test_limit_defaults_to_25(searchable: EmbeddedRuntime) -> None:
    page = ok(searchable)
    assert page["count"] == 25 and page["nextCursor"] is not None


# --- bad parameters -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "field"), [
    ({"status": "DONE"}, "status"),
    ({"region": "MARS"}, "region"),
    ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-01-01T00:00:00"}, "from"),  # no time zone
    ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ({"sort": "colour"}, "sort"),
    ({"order": "up"}, "order"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"q": ""}, "q"),
    ({"stauts": "BLOCKED"}, "stauts"),
    ({"status": ["BLOCKED", "FAILED"]}, "status"),
])
def test_bad_parameters_answer_400_naming_the_parameter(searchable: EmbeddedRuntime, params: dict,
                                                         field: str) -> None:
    status, body = searchable.search(**params)
    assert status == 400, body
    assert field in [p["field"] for p in body["problems"]]
    assert field in body["message"]


def test_a_cursor_continues_only_its_own_search(searchable: EmbeddedRuntime) -> None:
    cursor = ok(searchable, status="BLOCKED", limit=1)["nextCursor"]
    status, body = searchable.search(status="FAILED", limit=1, cursor=cursor)
    assert status == 400 and body["problems"][0]["field"] == "cursor"
    status, body = searchable.search(status="BLOCKED", sort="amount", cursor=cursor)
    assert status == 400 and body["problems"][0]["field"] == "cursor"
    assert ok(searchable, status="BLOCKED", limit=3, cursor=cursor)["count"] >= 1  # another limit is fine


# --- served from indexes -----------------------------------------------------------------------------
def test_the_table_is_queried_never_scanned(searchable: EmbeddedRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    calls: list[str] = []
    for name in ("scan", "query"):
        original = getattr(DynamoDBBackend, name)
        monkeypatch.setattr(DynamoDBBackend, name,
                            lambda self, *a, _n=name, _o=original, **k: calls.append(_n) or _o(self, *a, **k))
    for params in ({}, {"status": "BLOCKED"}, {"q": "lot"}, {"sort": "amount"}, {"owner": OWNERS[2][1]},
                   {"region": "EMEA", "customer": DEALS[1].customer_id}, {"from_": START}):
        ok(searchable, **params)
    assert "query" in calls and "scan" not in calls


# --- through the workflow -------------------------------------------------------------------------------
def test_a_blocked_deal_is_found_by_status(searchable: EmbeddedRuntime) -> None:
    event = load_raw("needs-fix", "unsigned-contract")
    event["detail"]["opportunity"]["id"] = "srch-blocked"
    event["detail"]["opportunity"]["name"] += " (search)"
    event["detail"]["eventId"] = "srch-blocked-1"
    searchable.publish([event])
    searchable.wait_settled()
    [item] = ok(searchable, status="BLOCKED", q="(search)")["items"]
    assert item["handoffId"] == handoff_id_for(event["source"], "srch-blocked")
    assert item["customerName"] == event["detail"]["account"]["legalName"]
    assert item["amount"] == event["detail"]["opportunity"]["amount"]
