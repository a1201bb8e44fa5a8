"""Live business metrics from the facts: what the CloudWatch business dashboard shows between two
Athena reports. RecordFacts emits them once Firehose took the batch (a batch it refuses is
delivered again by the stream and emits then), so each fact counts once.

From the facts, not from the steps, because the facts already say what happened however it
happened (a step, the console, an approval link, the sweeper): exceptions raised and resolved by
code, approval decision time and timeouts by kind, received-to-activated by service line, fix
rounds by service line. Dimension sets stay small: codes, kinds and service lines are bounded
lists (docs/metrics.md); the dashboard groups them with Metrics Insights or SEARCH."""

from collections.abc import Iterable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import business_metrics
from handoff.domain.facts import Fact


@dataclass(frozen=True)
class LiveMetric:
    name: str
    value: float
    unit: MetricUnit
    dimensions: tuple[tuple[str, str], ...]


def live_metrics(facts: Iterable[Fact]) -> list[LiveMetric]:
    """Pure: the data points the facts make (synthetic facts make none)."""
    out: list[LiveMetric] = []

    def add(name: str, value: float, unit: MetricUnit = MetricUnit.Count, **dimensions: str | None) -> None:
        out.append(LiveMetric(name, value, unit, tuple((k, v or "unknown") for k, v in dimensions.items())))

    for fact in facts:
        if fact.synthetic:
            continue
        if fact.kind == "exception_raised":
            add("ExceptionsRaised", 1, Code=fact.code, Severity=fact.severity)
        elif fact.kind == "exception_resolved":
            add("ExceptionsResolved", 1, Code=fact.code)
        elif fact.kind == "approval_decided" and fact.decision == "EXPIRED":
            add("ApprovalsTimedOut", 1, ApprovalKind=fact.approval_kind)
        elif fact.kind == "approval_decided" and fact.duration_seconds is not None:
            add("ApprovalDecisionSeconds", fact.duration_seconds, MetricUnit.Seconds, ApprovalKind=fact.approval_kind)
        elif fact.kind == "activated" and fact.duration_seconds is not None:
            add("ReceivedToActivatedSeconds", fact.duration_seconds, MetricUnit.Seconds, ServiceLine=fact.service_line)
            add("ReceivedToActivatedSeconds", fact.duration_seconds, MetricUnit.Seconds)
        elif fact.kind == "round_started":
            add("FixRoundsStarted", 1, ServiceLine=fact.service_line)
    return out


def emit(facts: Iterable[Fact]) -> int:
    """EMF lines for the facts' live metrics; how many."""
    metrics = live_metrics(facts)
    for metric in metrics:
        business_metrics.gauge(metric.name, metric.value, metric.unit, **dict(metric.dimensions))
    return len(metrics)
