"""A correction may not drop an approval an earlier round required: the pure rule."""

from handoff.adapters.configuration import load_approver_directory
from handoff.contracts import parse_event
from handoff.domain.approval_carryover import RequiredEarlier, carry_over, outstanding, required_in_round
from handoff.domain.approvals import required_approvals
from handoff.domain.policy import ApprovalRules
from tests.support.fixtures import FIXTURES

DIRECTORY = load_approver_directory()
RULES = ApprovalRules()


def _deal(drop_subcontractors: bool = False):
    raw = (FIXTURES / "closed-won" / "emea-milestone-erp-rollout.json").read_text()
    event = parse_event(raw)
    if drop_subcontractors:
        event = event.model_copy(update={"detail": event.detail.model_copy(update={"subcontractors": []})})
    return event


def _required(event):
    return required_approvals(event, RULES, DIRECTORY, non_standard_clauses=[], estimated_margin=None)


def test_a_kind_required_earlier_and_never_approved_is_still_required_after_the_correction() -> None:
    first = _required(_deal())
    assert "procurement" in {r.kind for r in first}
    corrected = _deal(drop_subcontractors=True)
    now = _required(corrected)
    assert "procurement" not in {r.kind for r in now}
    result = carry_over(now, required_in_round(first, 0), set(), corrected, DIRECTORY, RULES.deadlines)
    [procurement] = [r for r in result if r.kind == "procurement"]
    assert procurement.reason.startswith("Required since the first round: Work is subcontracted")
    assert procurement.approver.email == "procurement-erp-emea@example-consulting.com"  # routed as usual
    assert [r.kind for r in result] == sorted((r.kind for r in result), key=["legal", "finance", "compliance",
                                                                            "procurement"].index)


def test_an_approval_given_earlier_is_not_asked_again_once_the_deal_no_longer_needs_it() -> None:
    corrected = _deal(drop_subcontractors=True)
    now = _required(corrected)
    result = carry_over(now, required_in_round(_required(_deal()), 0), {"procurement"}, corrected, DIRECTORY,
                        RULES.deadlines)
    assert [r.kind for r in result] == [r.kind for r in now]


def test_what_the_deal_still_requires_is_asked_for_its_own_reason_not_carried() -> None:
    event = _deal()
    now = _required(event)
    assert carry_over(now, required_in_round(now, 0), set(), event, DIRECTORY, RULES.deadlines) == now


def test_a_carried_kind_keeps_its_first_round_across_later_rounds() -> None:
    earlier = [RequiredEarlier(kind="legal", reason="Non-standard clause C7.", fix_round=0)]
    corrected = _deal(drop_subcontractors=True)
    round1 = carry_over(_required(corrected), earlier, set(), corrected, DIRECTORY, RULES.deadlines)
    kept = required_in_round(round1, 1, earlier)
    assert [e for e in kept if e.kind == "legal"] == earlier
    assert outstanding([*earlier, *kept], set(), _required(corrected)) == earlier
    assert outstanding(earlier, {"legal"}, []) == []
