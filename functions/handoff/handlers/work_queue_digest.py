"""The work queue's daily digest, on an EventBridge schedule: record what sits in the dead-letter
queues, then mail each owner group its open items. "Now" is the scheduled event's `time`; one
digest per group and day, so a retried run does not mail twice."""

import json
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import from_settings
from handoff.adapters.digest_mail import render_digest
from handoff.domain.work_items import OWNER_GROUPS
from handoff.handlers._scheduled import scheduled
from handoff.handlers._work_queue import items, sync_dead_letters
from handoff.observability import logger, metrics
from handoff.settings import settings


def group_address(group: str) -> str:
    """The group's mailbox: WORK_QUEUE_EMAILS (JSON, by group), else <group>@ the sender's domain."""
    configured = json.loads(settings().work_queue_emails)
    if configured.get(group):
        return configured[group]
    domain = parseaddr(settings().mail_from)[1].rpartition("@")[2] or "example.com"
    return f"{group}@{domain}"


def digest(now: datetime) -> dict[str, Any]:
    new_dead_letters = sync_dead_letters()
    store = items()
    mailer = from_settings.mailer()
    sent: dict[str, int] = {}
    for group in OWNER_GROUPS:
        open_items = store.open_items((group,))
        if not open_items:
            continue
        key = f"digest#{group}#{now.date().isoformat()}"
        if store.marked(key):
            continue
        mailer.send(render_digest(group, group_address(group), open_items, now, settings().console_url.strip("-")))
        store.mark(key, now)
        sent[group] = len(open_items)
        metrics.add_metric(name="WorkQueueDigestItems", unit=MetricUnit.Count, value=len(open_items))
    logger.info("work queue digests sent", extra={"at": now.isoformat(), "groups": sent,
                                                  "new_dead_letters": new_dead_letters})
    return {"at": now.isoformat(), "sent": sent, "newDeadLetters": new_dead_letters}


handler = scheduled(digest)
