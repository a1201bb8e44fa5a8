"""Soft staffing from pipeline stage changes: the decision (pure), the soft/firm/release
reconciliation rules, and the stage-changed contract."""

import json

import pytest

from handoff.adapters.playbook_files import load_playbook
from handoff.contracts import ContractError, StageChangedEvent, parse_stage_changed
from handoff.domain.pipeline import PipelineAction, decide
from handoff.domain.staffing import FIRM, RELEASED, SOFT, release_soft, soften, staffing_requests
from tests.support.events import closed_won, stage_changed
from tests.support.fixtures import fixture_path

EXAMPLE = fixture_path("stage-changed", "emea-erp-negotiation")
WON = closed_won("emea-milestone-erp-rollout", "OPP-PIPE-1")


def event(stage: str = "Negotiation", probability: int = 60, **changes) -> StageChangedEvent:
    raw = stage_changed(WON, stage=stage, probability=probability)
    raw["detail"].update(changes)
    return parse_stage_changed(raw)


# --- the decision -----------------------------------------------------------------------------

def test_exactly_at_the_threshold_opens_one_soft_request_per_need() -> None:
    decision = decide(event(probability=60), threshold=60)

    assert decision.action is PipelineAction.OPEN_SOFT and decision.opportunity_id == "OPP-PIPE-1"
    assert [(r.role, r.status) for r in decision.requests] == [
        ("Engagement Manager", SOFT), ("Solution Architect", SOFT), ("Functional Consultant", SOFT)]
    assert "60% is at or above the 60% threshold" in decision.reason


def test_soft_requests_carry_the_ids_the_closed_won_firm_step_will_use() -> None:
    from handoff.contracts import parse_event

    soft = decide(event(), threshold=60).requests
    firm = staffing_requests(parse_event(WON), firm=True)
    assert [r.request_id for r in soft] == [r.request_id for r in firm]


def test_one_point_below_the_threshold_does_nothing() -> None:
    decision = decide(event(probability=59), threshold=60)
    assert (decision.action, decision.requests) == (PipelineAction.NONE, ())
    assert "59% is below the 60% threshold" in decision.reason


@pytest.mark.parametrize("stage", ["Closed Lost", "closedlost", "closed_lost", "CLOSED-LOST", "Lost"])
def test_a_lost_deal_releases_whatever_the_crm_calls_the_stage(stage: str) -> None:
    decision = decide(event(stage=stage, probability=0), threshold=60)
    assert decision.action is PipelineAction.RELEASE and decision.requests == ()


def test_a_lost_deal_releases_even_without_a_playbook() -> None:
    assert decide(event(stage="Closed Lost", probability=0), threshold=None).action is PipelineAction.RELEASE
    assert decide(event(probability=90), threshold=None).action is PipelineAction.NONE


def test_closed_won_is_left_to_the_handoff() -> None:
    decision = decide(event(stage="Closed Won", probability=100), threshold=60)
    assert decision.action is PipelineAction.NONE and "handoff firms" in decision.reason


def test_no_staffing_needs_yet_opens_nothing() -> None:
    assert decide(event(probability=80, staffing=[]), threshold=60).action is PipelineAction.NONE


def test_the_same_stage_change_repeated_decides_the_same() -> None:
    assert decide(event(), threshold=60) == decide(event(), threshold=60)


@pytest.mark.parametrize("stage", ["Negotiation", "Closed Lost"])
def test_a_stage_change_overtaken_by_a_later_one_does_nothing(stage: str) -> None:
    decision = decide(event(stage=stage, probability=90), 60, newest=False)
    assert decision.action == PipelineAction.NONE and decision.requests == ()
    assert "overtaken" in decision.reason


def test_the_threshold_comes_from_the_playbook_with_a_default() -> None:
    erp = load_playbook("erp-implementation", region="EMEA", country="DE", contract_type="milestone")
    advisory = load_playbook("advisory", region="AMER", country="US", contract_type="fixed_fee")
    assert (erp.staffing.soft_request_min_probability, advisory.staffing.soft_request_min_probability) == (60, 80)
    from handoff.domain.playbooks import StaffingRules

    assert StaffingRules().soft_request_min_probability == 70
    with pytest.raises(ValueError, match="less than or equal to 100"):
        StaffingRules(soft_request_min_probability=101)


# --- soften and release_soft (firm_up is tested in test_staffing_procurement) ---------------------

def soft_requests() -> list:
    return list(decide(event(), threshold=60).requests)


def test_soften_is_idempotent_and_never_downgrades_firm() -> None:
    soft = soft_requests()
    assert soften(soft, soft) == soft
    firm = [r.model_copy(update={"status": FIRM}) for r in soft]
    assert soften(firm, soft) == firm


def test_after_closed_won_a_late_pipeline_event_brings_nothing_back() -> None:
    # The won deal dropped the third need: firm, firm, released. A "Negotiation 80 %" delivered late
    # still lists all three; the dropped need must stay released.
    soft = soft_requests()
    won = [soft[0].model_copy(update={"status": FIRM}), soft[1].model_copy(update={"status": FIRM}),
           soft[2].model_copy(update={"status": RELEASED})]
    assert soften(won, soft) == won


def test_soften_releases_soft_needs_dropped_and_revives_released_ones() -> None:
    soft = soft_requests()
    released = [soft[0].model_copy(update={"status": RELEASED}), *soft[1:]]
    assert [r.status for r in soften(released, soft[:1])] == [SOFT, RELEASED, RELEASED]


def test_release_soft_leaves_firm_and_released_alone() -> None:
    soft = soft_requests()
    mixed = [soft[0].model_copy(update={"status": FIRM}), soft[1], soft[2].model_copy(update={"status": RELEASED})]
    assert [r.status for r in release_soft(mixed)] == [FIRM, RELEASED, RELEASED]


# --- the contract -------------------------------------------------------------------------------

def test_the_committed_example_is_valid() -> None:
    parsed = parse_stage_changed(EXAMPLE.read_text())
    assert (parsed.detail.opportunity.stage, parsed.detail.opportunity.probability) == ("Negotiation", 60)
    assert parsed.detail.contract is not None and parsed.detail.contract.type == "milestone"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["detail"]["opportunity"].pop("probability"), "detail.opportunity.probability"),
        (lambda d: d["detail"]["opportunity"].update(probability=60.5), "detail.opportunity.probability"),
        (lambda d: d["detail"]["opportunity"].update(probability=101), "detail.opportunity.probability"),
        (lambda d: d["detail"]["opportunity"].pop("id"), "detail.opportunity.id"),
        (lambda d: d["detail"].update(schemaVersion="2.0"), "detail.schemaVersion"),
        (lambda d: d["detail"]["account"].update(country="Germany"), "detail.account.country"),
        (lambda d: d.update(source="erp.sap"), "source"),
    ],
)
def test_invalid_stage_changed_events_name_the_field(change, field: str) -> None:
    raw = json.loads(EXAMPLE.read_text())
    change(raw)
    with pytest.raises(ContractError) as caught:
        parse_stage_changed(raw)
    assert field in [p["field"] for p in caught.value.problems], caught.value.problems


def test_extra_fields_are_kept() -> None:
    raw = json.loads(EXAMPLE.read_text())
    raw["detail"]["opportunity"]["forecastCategory"] = "Commit"
    assert parse_stage_changed(raw).detail.opportunity.model_extra == {"forecastCategory": "Commit"}


def test_the_handler_reads_the_threshold_of_the_deals_playbook_or_none() -> None:
    from handoff.logic.track_pipeline import threshold

    assert threshold(event().detail) == 60  # erp-implementation
    raw = stage_changed(WON, stage="Negotiation", probability=90)
    raw["detail"]["opportunity"]["serviceLine"] = "space-tourism"
    assert threshold(parse_stage_changed(raw).detail) is None
