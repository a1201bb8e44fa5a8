"""The synthetic history: seeded (same seed, same facts), labelled synthetic, and shaped like a
process worth looking at (exceptions, rework, approval delays, timeouts, integration failures)."""

from collections import Counter

from local.history import generate


def test_same_seed_same_facts_another_seed_others() -> None:
    first, again, other = generate(3, 40, 2), generate(3, 40, 2), generate(4, 40, 2)
    assert [f.to_row() for f in first] == [f.to_row() for f in again]
    assert [f.fact_id for f in first] != [f.fact_id for f in other]


def test_every_fact_is_synthetic_and_the_history_has_what_analytics_needs() -> None:
    facts = generate(11, 300, 6)
    assert all(f.synthetic for f in facts)
    kinds = Counter(f.kind for f in facts)
    assert kinds["received"] == 300
    for kind in ("exception_raised", "exception_resolved", "round_started", "approval_decided", "system_call",
                 "activated", "billing_schedule", "assessed", "staffing_soft"):
        assert kinds[kind] > 0, kind
    decisions = Counter(f.decision for f in facts if f.kind == "approval_decided")
    assert decisions["EXPIRED"] > 0 and decisions["APPROVED"] > decisions["REJECTED"] > 0
    months = {f.dt[:7] for f in facts}
    assert len(months) >= 6
    assert len({f.fact_id for f in facts}) == len(facts)
