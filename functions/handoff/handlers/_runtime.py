"""Kept for the console's handler, which imports its helpers from here: what this module held now
lives in modules named for it (handoff.observability, handoff.clock, handoff.adapters.from_settings,
handoff.logic.notices, handoff.logic.quarantine, handoff.handlers._step). New code imports those."""

from handoff.adapters.from_settings import documents, event_bus, exceptions_queue, store, workflow
from handoff.clock import now
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.notices import notify_once, queue_exceptions_once
from handoff.logic.quarantine import quarantine, rejected
from handoff.observability import logger, metrics, tracer

__all__ = [
           "HandoffRef",
           "documents",
           "event_bus",
           "exceptions_queue",
           "logger",
           "metrics",
           "notify_once",
           "now",
           "quarantine",
           "queue_exceptions_once",
           "rejected",
           "step_handler",
           "store",
           "tracer",
           "workflow",
]
