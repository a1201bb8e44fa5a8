"""CloudWatch metrics (EMF, Powertools) with the dimensions the dashboards group by. Each data point
is its own `single_metric`, so its dimensions never leak onto the handler's other metrics (Powertools'
Metrics object shares one dimension set per flush). Powertools adds `service` to each.

Dimension sets, kept small (cardinality: service lines x 3 regions x 4 contract types; 6 systems x
the steps calling them):
- handoffs: HandoffsStarted, HandoffsBlocked, HandoffsActivated, HandoffsFailed and
  ClosedWonToActivationSeconds by {ServiceLine, Region, ContractType};
- ClosedWonToActivationSeconds also by {} (service only), for the overall p50/p90;
- IntegrationCalls, IntegrationFailures by {System, Step}, and by {} for the failure-rate alarm;
- ApprovalsPending, OldestPendingApprovalSeconds by {} (the sweeper, every 15 minutes).
infra/monitoring.py reads these names; docs: README "Dashboards and alarms"."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from handoff.contracts.event import ClosedWonEvent
from handoff.settings import settings

HANDOFF_METRICS = ("HandoffsStarted", "HandoffsBlocked", "HandoffsActivated", "HandoffsFailed")


def _namespace() -> str:
    return settings().metrics_namespace


def _emit(name: str, value: float, unit: MetricUnit, dimensions: dict[str, str]) -> None:
    with single_metric(name=name, unit=unit, value=value, namespace=_namespace()) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(key, dimension or "unknown")


def deal_dimensions(deal: ClosedWonEvent) -> dict[str, str]:
    opportunity = deal.detail.opportunity
    return {"ServiceLine": opportunity.service_line, "Region": opportunity.region,
            "ContractType": deal.detail.contract.type}


def handoff_counted(name: str, deal: ClosedWonEvent) -> None:
    """One of HANDOFF_METRICS for this deal."""
    if name not in HANDOFF_METRICS:
        raise ValueError(f"{name} is not one of {HANDOFF_METRICS}")
    _emit(name, 1, MetricUnit.Count, deal_dimensions(deal))


def closed_won_to_activation(deal: ClosedWonEvent, seconds: float) -> None:
    _emit("ClosedWonToActivationSeconds", seconds, MetricUnit.Seconds, deal_dimensions(deal))
    _emit("ClosedWonToActivationSeconds", seconds, MetricUnit.Seconds, {})


def integration_call(system: str, step: str, *, failed: bool) -> None:
    for dimensions in ({"System": system, "Step": step}, {}):
        _emit("IntegrationCalls", 1, MetricUnit.Count, dimensions)
        _emit("IntegrationFailures", 1 if failed else 0, MetricUnit.Count, dimensions)


def gauge(name: str, value: float, unit: MetricUnit = MetricUnit.Count, **dimensions: Any) -> None:
    _emit(name, value, unit, {k: str(v) for k, v in dimensions.items()})
