"""The EMF lines the dashboards read: one dimension set per data point, never leaking onto others."""

import json

import pytest

from handoff.adapters import business_metrics
from handoff.contracts import parse_event
from tests.support.events import closed_won


def _emf(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_a_handoff_metric_carries_service_line_region_and_contract_type(capsys: pytest.CaptureFixture[str]) -> None:
    deal = parse_event(closed_won("emea-milestone-erp-rollout", "metrics-1"))
    business_metrics.handoff_counted("HandoffsActivated", deal)
    business_metrics.closed_won_to_activation(deal, 3600.5)
    counted, by_deal, overall = _emf(capsys)
    [directive] = counted["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ClosedWonHandoff"
    assert sorted(directive["Dimensions"][0]) == ["ContractType", "Region", "ServiceLine", "service"]
    assert (counted["ServiceLine"], counted["Region"], counted["ContractType"], counted["HandoffsActivated"]) == (
        "erp-implementation", "EMEA", "milestone", [1.0])
    assert by_deal["ClosedWonToActivationSeconds"] == [3600.5] and by_deal["ServiceLine"] == "erp-implementation"
    assert overall["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


def test_integration_calls_by_system_and_step_and_overall(capsys: pytest.CaptureFixture[str]) -> None:
    business_metrics.integration_call("billing", "SetupBilling", failed=True)
    lines = _emf(capsys)
    by_system = [x for x in lines if "System" in x]
    overall = [x for x in lines if "System" not in x]
    assert {(x["System"], x["Step"]) for x in by_system} == {("billing", "SetupBilling")}
    assert [x.get("IntegrationCalls") or x.get("IntegrationFailures") for x in overall] == [[1.0], [1.0]]


def test_only_the_known_handoff_metrics() -> None:
    with pytest.raises(ValueError, match="HandoffsLost"):
        business_metrics.handoff_counted("HandoffsLost", parse_event(closed_won("us-fixed-fee-advisory", "m-2")))
