"""The work queue's pure rules: owner groups, SLA, priority, and what each transition allows."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from handoff.contracts import ExceptionEntry, Money
from handoff.domain import work_items as wi

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOURS = wi.sla_hours()


def entry(code: str = "INVALID_TAX_ID", field: str | None = "account.taxId", severity: str = "BLOCKING",
          message: str = "the VAT number fails its check digit", priority: int | None = None) -> ExceptionEntry:
    return ExceptionEntry(code=code, severity=severity, message=message, step="ValidateReadiness", field=field,
                          priority=priority)


def raised(fix_round: int = 0, **kwargs: object) -> wi.Raised:
    return wi.Raised(handoff_id="ho-0123456789abcdef", opportunity_id="006X", title="Deal (Customer)",
                     exception=entry(**kwargs), fix_round=fix_round,
                     revenue_at_risk=Money(value=Decimal("250000.00"), currency="EUR"))


@pytest.mark.parametrize(("code", "group"), [
    ("CONTRACT_NOT_SIGNED", "legal"), ("NON_STANDARD_CLAUSE", "legal"), ("MILESTONES_MISMATCH", "finance"),
    ("RATE_CARD_GAP", "finance"), ("UNKNOWN_VENDOR", "procurement"), ("MISSING_FIELD", "sales-operations"),
    ("INVALID_TAX_ID", "data-steward"), ("MASTER_DATA_CONFLICT", "data-steward"), ("INTEGRATION_FAILURE", "platform"),
    ("PROCESSING_FAILURE", "platform"), ("UNKNOWN_PLAYBOOK", "platform"), ("DEAD_LETTER", "platform"),
    ("SOMETHING_NEW", "platform"),
])
def test_each_code_has_one_owner_group(code: str, group: str) -> None:
    assert wi.owner_group(code) == group


def test_an_approval_timeout_or_bounce_goes_to_the_approving_function() -> None:
    assert wi.owner_group("APPROVAL_TIMEOUT", approval_kind="finance") == "finance"
    assert wi.owner_group("APPROVAL_BOUNCED", approval_kind="procurement") == "procurement"
    assert wi.owner_group("APPROVAL_TIMEOUT", approval_kind="compliance") == "legal"
    assert wi.owner_group("APPROVAL_TIMEOUT") == "sales-operations"


def test_sla_defaults_cover_every_group_and_overrides_are_checked() -> None:
    assert set(HOURS) == set(wi.OWNER_GROUPS)
    assert wi.sla_hours({"legal": 72})["legal"] == 72
    assert wi.due_at("platform", NOW, HOURS) == NOW + timedelta(hours=HOURS["platform"])
    with pytest.raises(ValueError, match="unknown owner group"):
        wi.sla_hours({"tax": 4})
    with pytest.raises(ValueError, match="positive"):
        wi.sla_hours({"legal": 0})


def test_priority_blocking_outranks_warnings_and_grows_with_revenue_and_kickoff_risk() -> None:
    small, large = Money(value=Decimal("1000.00"), currency="USD"), Money(value=Decimal("5000000.00"), currency="USD")
    assert wi.priority_score("BLOCKING", small) > wi.priority_score("WARNING", large)
    assert wi.priority_score("BLOCKING", large) > wi.priority_score("BLOCKING", small)
    assert wi.priority_score("BLOCKING", small, kickoff_in_days=3) == wi.priority_score("BLOCKING", small) + 100
    assert wi.priority_score("BLOCKING", small, kickoff_in_days=60) == wi.priority_score("BLOCKING", small)
    assert wi.priority_score("BLOCKING", large, kickoff_in_days=-1) <= 1000
    assert wi.priority_score("WARNING", large, kickoff_in_days=0) <= 499


def test_a_new_problem_opens_an_item_owned_due_and_ranked() -> None:
    item = wi.raise_item(None, raised(), NOW, HOURS)
    assert item is not None
    assert (item.state, item.owner_group, item.code, item.field) == ("open", "data-steward", "INVALID_TAX_ID",
                                                                      "account.taxId")
    assert item.due_at == NOW + timedelta(hours=24)
    assert item.priority == wi.priority_score("BLOCKING", Money(value=Decimal("250000.00"), currency="EUR"))
    assert item.item_id == wi.item_id("ho-0123456789abcdef", "INVALID_TAX_ID", "account.taxId")
    assert [h.action for h in item.history] == ["opened"]


def test_the_same_report_twice_changes_nothing_and_a_newer_round_updates_or_reopens() -> None:
    item = wi.raise_item(None, raised(), NOW, HOURS)
    assert wi.raise_item(item, raised(), NOW + timedelta(minutes=5), HOURS) is None
    claimed = wi.claim(item, "ana@firm.example", NOW)
    updated = wi.raise_item(claimed, raised(fix_round=1, message="still wrong"), NOW + timedelta(hours=1), HOURS)
    assert updated is not None
    assert (updated.state, updated.assignee, updated.fix_round, updated.message) == \
        ("claimed", "ana@firm.example", 1, "still wrong")
    done = wi.resolve(updated, "ana@firm.example", NOW + timedelta(hours=2), "fixed in the CRM")
    assert wi.raise_item(done, raised(fix_round=1, message="still wrong"), NOW + timedelta(hours=3), HOURS) is None
    assert wi.raise_item(done, raised(fix_round=0), NOW + timedelta(hours=3), HOURS) is None  # an old redelivery
    reopened = wi.raise_item(done, raised(fix_round=2), NOW + timedelta(hours=4), HOURS)
    assert reopened is not None
    assert (reopened.state, reopened.assignee, reopened.resolution) == ("open", None, None)
    assert reopened.due_at == NOW + timedelta(hours=4 + 24)
    assert [h.action for h in reopened.history] == ["opened", "claimed", "updated", "resolved", "reopened"]


def test_transitions_keep_history_and_refuse_what_the_state_does_not_allow() -> None:
    item = wi.raise_item(None, raised(), NOW, HOURS)
    claimed = wi.claim(item, "ana", NOW)
    assert wi.claim(claimed, "ana", NOW) is claimed
    taken = wi.claim(claimed, "ben", NOW)
    assert taken.assignee == "ben" and taken.history[-1].detail == "taken over from ana"
    commented = wi.comment(taken, "ben", "  called the customer  ", NOW)
    assert [c.text for c in commented.comments] == ["called the customer"]
    with pytest.raises(wi.WorkItemError, match="write something"):
        wi.comment(taken, "ben", "  ", NOW)
    with pytest.raises(wi.WorkItemError, match="say why"):
        wi.dismiss(commented, "ben", NOW, " ")
    dismissed = wi.dismiss(commented, "ben", NOW, "duplicate of another deal")
    assert (dismissed.state, dismissed.resolution) == ("dismissed", "duplicate of another deal")
    assert dismissed.history[: len(commented.history)] == commented.history  # append-only
    for act in (lambda i: wi.claim(i, "ana", NOW), lambda i: wi.resolve(i, "ana", NOW, "x"),
                lambda i: wi.dismiss(i, "ana", NOW, "x")):
        with pytest.raises(wi.WorkItemError, match="dismissed"):
            act(dismissed)


def test_a_newer_round_that_no_longer_reports_an_item_resolves_it() -> None:
    item = wi.raise_item(None, raised(fix_round=0), NOW, HOURS)
    assert wi.superseded(item, 0, NOW) is None
    fixed = wi.superseded(item, 1, NOW)
    assert fixed is not None and fixed.state == "resolved" and "fix round 1" in (fixed.resolution or "")
    assert wi.superseded(fixed, 2, NOW) is None


def test_the_queue_puts_overdue_first_then_priority() -> None:
    low = wi.raise_item(None, raised(code="MISSING_FIELD", field="a"), NOW, HOURS)
    high = wi.raise_item(None, raised(code="MISSING_FIELD", field="b", priority=990), NOW, HOURS)
    late = wi.raise_item(None, raised(code="RATE_CARD_GAP", field="c"), NOW - timedelta(days=3), HOURS)
    closed = wi.resolve(wi.raise_item(None, raised(code="MISSING_FIELD", field="d", priority=999), NOW, HOURS),
                        "ana", NOW, "done")
    assert [i.field for i in wi.ranked([low, closed, high, late], NOW)] == ["c", "b", "a", "d"]


def test_a_dead_letter_is_a_platform_item_keeping_the_message() -> None:
    item = wi.dead_letter_item("UndeliveredEvents", "m-1", '{"detail": {}}', "throttled", NOW, HOURS)
    assert (item.kind, item.owner_group, item.code, item.payload) == ("dead-letter", "platform", "DEAD_LETTER",
                                                                     '{"detail": {}}')
    assert item.item_id == wi.dead_letter_item_id("UndeliveredEvents", "m-1")
    assert "throttled" in item.message


def test_activation_resolves_open_exception_items_only() -> None:
    item = wi.raise_item(None, raised(), NOW, HOURS)
    done = wi.handoff_activated(item, NOW)
    assert done is not None and done.state == "resolved"
    assert wi.handoff_activated(done, NOW) is None
    dead = wi.dead_letter_item("q", "m", "{}", "", NOW, HOURS)
    assert wi.handoff_activated(dead, NOW) is None


def test_a_redriven_or_emptied_dead_letter_is_resolved_and_nothing_else_is() -> None:
    dead = wi.claim(wi.dead_letter_item("UndeliveredEvents", "m", "{}", "", NOW, HOURS), "ops@example.com", NOW)
    later = NOW + timedelta(minutes=5)
    redriven = wi.message_redriven(dead, "arn:aws:iam::1:user/ops", later, "StartExecution handoff")
    assert redriven is not None and (redriven.state, redriven.assignee) == ("resolved", "ops@example.com")
    assert redriven.resolution == "fixed: the message was redriven to StartExecution handoff"
    assert (redriven.history[-1].actor, redriven.updated_at) == ("arn:aws:iam::1:user/ops", later)
    assert wi.message_redriven(redriven, "x", later, "y") is None  # closed already
    emptied = wi.queue_emptied(dead, later)
    assert emptied is not None and emptied.state == "resolved" and "UndeliveredEvents" in emptied.resolution
    exception = wi.raise_item(None, raised(), NOW, HOURS)
    assert wi.message_redriven(exception, "x", later, "y") is None and wi.queue_emptied(exception, later) is None


def test_queue_gauges_count_open_items_by_group_and_measure_the_most_overdue() -> None:
    tax = wi.raise_item(None, raised(), NOW, HOURS)  # data steward, due in 24 h
    unsigned = wi.raise_item(None, raised(code="CONTRACT_NOT_SIGNED", field="contract.status"), NOW, HOURS)
    assert tax is not None and unsigned is not None
    done = wi.resolve(wi.claim(unsigned, "ana@firm.example", NOW), "ana@firm.example", NOW, "signed")
    later = NOW + timedelta(hours=30)
    gauges = wi.queue_gauges([tax, done], later)
    assert gauges.open_by_group["data-steward"] == 1 and gauges.open_by_group["legal"] == 0
    assert set(gauges.open_by_group) == set(wi.OWNER_GROUPS)
    assert gauges.oldest_age_seconds_by_group["data-steward"] == 30 * 3600
    assert gauges.oldest_past_sla_seconds == (later - tax.due_at).total_seconds() == 6 * 3600
    assert wi.queue_gauges([tax], NOW).oldest_past_sla_seconds == 0
