from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise

import pytest

from handoff.adapters.playbook_files import all_playbooks, load_playbook
from handoff.contracts import ExceptionEntry, Money, parse_event
from handoff.domain.playbooks import ExceptionPolicy, Playbook
from handoff.domain.priority import prioritise, revenue_points
from handoff.domain.readiness import check_readiness
from tests.support.fixtures import fixture_path

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return all_playbooks()["erp-implementation"]


def entry(code: str, severity: str = "BLOCKING", field: str | None = None) -> ExceptionEntry:
    return ExceptionEntry(code=code, severity=severity, message=f"{code} happened", step="ValidateReadiness",
                          field=field)


def usd(value: str) -> Money:
    return Money.of(value, "USD")


@pytest.mark.parametrize(
    ("code", "owner"),
    [
        ("MISSING_FIELD", "deal-desk"),
        ("AMOUNT_MISMATCH", "deal-desk"),
        ("DATES_INCOHERENT", "deal-desk"),
        ("CONTRACT_NOT_SIGNED", "legal"),
        ("NON_STANDARD_CLAUSE", "legal"),
        ("MILESTONES_MISMATCH", "finance"),
        ("RATE_CARD_GAP", "finance"),
        ("INVALID_TAX_ID", "tax"),
        ("UNKNOWN_VENDOR", "procurement"),
        ("INTEGRATION_FAILURE", "integration-ops"),
        ("PROCESSING_FAILURE", "integration-ops"),
    ],
)
def test_owner_group_by_code(playbook: Playbook, code: str, owner: str) -> None:
    (ranked,) = prioritise([entry(code)], revenue_at_risk=usd("1000"), now=NOW, playbook=playbook)
    assert ranked.owner_group == owner


def test_due_date_from_the_sla_of_the_severity(playbook: Playbook) -> None:
    ranked = prioritise([entry("MISSING_FIELD"), entry("UNKNOWN_VENDOR", "WARNING")], revenue_at_risk=usd("1000"),
                        now=NOW, playbook=playbook)
    assert [(e.code, e.due_date) for e in ranked] == [
        ("MISSING_FIELD", date(2026, 11, 21)),  # 24 hours
        ("UNKNOWN_VENDOR", date(2026, 11, 23)),  # 72 hours
    ]


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2026, 11, 20, 23, 30, tzinfo=timezone(timedelta(hours=-5))), date(2026, 11, 22)),  # 04:30Z on 21st
        (datetime(2026, 11, 21, 8, 0, tzinfo=timezone(timedelta(hours=9))), date(2026, 11, 21)),  # 23:00Z on 20th
        (datetime(2028, 2, 28, 12, 0, tzinfo=UTC), date(2028, 2, 29)),  # leap day
        (datetime(2027, 2, 28, 12, 0, tzinfo=UTC), date(2027, 3, 1)),
    ],
)
def test_due_date_is_a_utc_date_whatever_the_zone_of_now(playbook: Playbook, now: datetime, due: date) -> None:
    (ranked,) = prioritise([entry("MISSING_FIELD")], revenue_at_risk=usd("1"), now=now, playbook=playbook)
    assert ranked.due_date == due


def test_naive_now_is_refused(playbook: Playbook) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        prioritise([entry("MISSING_FIELD")], revenue_at_risk=usd("1"), now=datetime(2026, 11, 20), playbook=playbook)


def test_playbook_overrides_owner_and_sla(playbook: Playbook) -> None:
    custom = playbook.model_copy(update={"exceptions": ExceptionPolicy(
        owner_groups={"INVALID_TAX_ID": "emea-tax-desk"}, sla_hours={"BLOCKING": 4})})
    ranked = prioritise([entry("INVALID_TAX_ID"), entry("UNKNOWN_VENDOR", "WARNING")], revenue_at_risk=usd("1"),
                        now=datetime(2026, 11, 20, 21, 0, tzinfo=UTC), playbook=custom)
    assert [(e.owner_group, e.due_date) for e in ranked] == [
        ("emea-tax-desk", date(2026, 11, 21)),
        ("procurement", date(2026, 11, 23)),  # defaults still apply to what is not overridden
    ]


def test_scores_stay_in_range_and_blocking_always_outranks_warning(playbook: Playbook) -> None:
    tiny = prioritise([entry("MISSING_FIELD")], revenue_at_risk=usd("0"), now=NOW, playbook=playbook)[0]
    huge = prioritise([entry("UNKNOWN_VENDOR", "WARNING")], revenue_at_risk=usd("1000000000"), now=NOW,
                      playbook=playbook)[0]
    top = prioritise([entry("MISSING_FIELD")], revenue_at_risk=usd("1000000000"), now=NOW, playbook=playbook)[0]
    floor = prioritise([entry("UNKNOWN_VENDOR", "WARNING")], revenue_at_risk=usd("-5"), now=NOW, playbook=playbook)[0]
    assert (floor.priority, tiny.priority, huge.priority, top.priority) == (0, 500, 499, 1000)


def test_revenue_is_log_scaled(playbook: Playbook) -> None:
    policy = playbook.exceptions
    points = [revenue_points(usd(v), policy) for v in ("1000", "10000", "100000", "1000000", "10000000")]
    assert points == sorted(points)
    steps = {b - a for a, b in pairwise(points)}
    assert max(steps) - min(steps) <= 1  # every 10x adds the same step (up to rounding)
    assert points[-1] == 500  # full at revenue_full_score_at


def test_revenue_in_other_currencies_is_converted_for_ranking(playbook: Playbook) -> None:
    policy = playbook.exceptions
    jpy = revenue_points(Money.of("50000000", "JPY"), policy)  # ~330,000 USD
    assert jpy == revenue_points(usd("330000"), policy)
    assert jpy < revenue_points(usd("50000000"), policy)
    bhd = revenue_points(Money.of("1000.000", "BHD"), policy)  # ~2,650 USD
    assert bhd == revenue_points(usd("2650"), policy)
    eur = revenue_points(Money.of("480000.00", "EUR"), policy)
    assert eur == revenue_points(usd("518400"), policy)
    # A currency without a rate counts one to one.
    assert revenue_points(Money.of("1000", "ZAR"), policy) == revenue_points(usd("1000"), policy)
    assert policy.fx_to_reference["JPY"] == Decimal("0.0066")


def test_sorted_highest_first_with_a_stable_tie_break(playbook: Playbook) -> None:
    given = [
        entry("UNKNOWN_VENDOR", "WARNING", "subcontractors[0].vendorId"),
        entry("MISSING_FIELD", field="scope.summary"),
        entry("CONTRACT_NOT_SIGNED", field="contract.status"),
        entry("MISSING_FIELD", field="scope.phases"),
    ]
    ranked = prioritise(given, revenue_at_risk=usd("85000"), now=NOW, playbook=playbook)
    assert [(e.code, e.field) for e in ranked] == [
        ("CONTRACT_NOT_SIGNED", "contract.status"),
        ("MISSING_FIELD", "scope.phases"),
        ("MISSING_FIELD", "scope.summary"),
        ("UNKNOWN_VENDOR", "subcontractors[0].vendorId"),
    ]
    assert [e.priority for e in ranked] == [852, 852, 852, 352]
    # The input is left untouched: copies come back.
    assert all(e.priority is None and e.owner_group is None for e in given)


def test_empty_list() -> None:
    assert prioritise([], revenue_at_risk=usd("1"), now=NOW, playbook=all_playbooks()["advisory"]) == []


def test_readiness_findings_of_a_needs_fix_deal_are_routed() -> None:
    event = parse_event(fixture_path("needs-fix", "missing-tax-id").read_text())
    d = event.detail
    playbook = load_playbook(d.opportunity.service_line, region=d.opportunity.region, country=d.account.country,
                             contract_type=d.contract.type)
    ranked = prioritise(check_readiness(event, playbook), revenue_at_risk=d.contract.value,
                        now=d.occurred_at, playbook=playbook)
    assert [(e.code, e.owner_group, e.due_date, e.priority) for e in ranked] == [
        ("INVALID_TAX_ID", "tax", date(2026, 11, 21), 500 + revenue_points(d.contract.value, playbook.exceptions)),
    ]
    assert 900 <= ranked[0].priority <= 1000
