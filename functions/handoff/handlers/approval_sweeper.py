"""The approval sweeper, on an EventBridge schedule. "Now" is the scheduled event's `time`, so tests
and the local runtime drive the clock. The sweep itself (remind, escalate, expire) is the use case
handoff.logic.approval_sweep; this handler builds it, runs it and reports the queue gauges."""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import aws, business_metrics, from_settings
from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.task_callback import TaskCallback
from handoff.adapters.work_items_store import WorkItemStore
from handoff.domain.work_items import queue_gauges
from handoff.handlers._scheduled import scheduled
from handoff.logic.approval_sweep import Sweeper
from handoff.observability import logger
from handoff.settings import Settings, settings


class SweepIncomplete(RuntimeError):
    """Some approvals could not be handled; the schedule's retry (or the next run) picks them up."""


def _callback() -> TaskCallback:
    return from_settings.task_callback()


def _sweeper() -> Sweeper:
    return Sweeper(
        approvals=from_settings.approvals(), handoffs=from_settings.store(), mailer=from_settings.mailer(),
        callback=_callback(), key=from_settings.link_key(), base_url=settings().approval_base_url,
    )


def _pending_gauges(approvals: ApprovalStore, now: datetime) -> None:
    """Approvals pending and the oldest one's age, for the business dashboard (every sweep)."""
    requested = approvals.pending_requested_at()
    oldest = min(requested, default=None)
    age = (now - datetime.fromisoformat(oldest)).total_seconds() if oldest else 0
    business_metrics.gauge("ApprovalsPending", len(requested))
    business_metrics.gauge("OldestPendingApprovalSeconds", max(0.0, age), MetricUnit.Seconds)


def _work_queue_gauges(now: datetime) -> None:
    """Open work items and the oldest one's age by owner group, and the most overdue item's lateness
    (the SLA alarm's metric), every sweep: the dashboards and the alarm need a steady beat."""
    table = settings().given(Settings.work_items_table)
    if not table:  # the stack always sets it; a sweeper run without the work queue (tests) has none to measure
        return
    gauges = queue_gauges(WorkItemStore(aws.table(table)).open_items(), now)
    for group, count in gauges.open_by_group.items():
        business_metrics.gauge("OpenWorkItems", count, OwnerGroup=group)
        business_metrics.gauge("OldestOpenWorkItemAgeSeconds", gauges.oldest_age_seconds_by_group[group],
                               MetricUnit.Seconds, OwnerGroup=group)
    business_metrics.gauge("OldestOpenWorkItemPastSlaSeconds", gauges.oldest_past_sla_seconds, MetricUnit.Seconds)


def sweep(now: datetime) -> dict[str, Any]:
    sweeper = _sweeper()
    report = sweeper.sweep(now)
    _pending_gauges(sweeper.approvals, now)
    _work_queue_gauges(now)
    summary = {name: len(ids) for name, ids in asdict(report).items()}
    logger.info("approval sweep done", extra={"at": now.isoformat(), **summary})
    if report.failed:
        raise SweepIncomplete(f"{len(report.failed)} approval(s) not handled: {', '.join(report.failed)}")
    return {"at": now.isoformat(), **asdict(report)}


handler = scheduled(sweep)
