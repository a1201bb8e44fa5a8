"""What the work queue's handlers share: the store, the SLA hours, the dead-letter queues and the
facts of a handoff the intake ranks by; built from the environment."""

import json
from functools import cache

from handoff.adapters import aws
from handoff.adapters.dead_letters import DeadLetterQueues
from handoff.adapters.from_settings import approvals, store
from handoff.adapters.work_items_store import WorkItemStore
from handoff.clock import now
from handoff.domain import work_items
from handoff.logic.work_queue import HandoffFacts, dead_letter_queues_emptied, take_dead_letter
from handoff.settings import settings


def items() -> WorkItemStore:
    return WorkItemStore(aws.table(settings().work_items_table))


@cache
def _hours(raw: str) -> dict[str, int]:
    return work_items.sla_hours(json.loads(raw) if raw.strip() else {})


def sla_hours() -> dict[str, int]:
    return _hours(settings().work_queue_sla_hours)


def dead_letter_queues() -> DeadLetterQueues:
    return DeadLetterQueues(aws.client("sqs"), json.loads(settings().dead_letter_queues))


def sync_dead_letters() -> int:
    """Record every dead-lettered message as a platform item, and close the items of queues that are
    empty now (redriven outside this product's API); returns how many items are new."""
    store_, hours, at, queues = items(), sla_hours(), now(), dead_letter_queues()
    new = sum(1 for d in queues.peek() if take_dead_letter(store_, d.queue, d.message_id, d.body, d.error, at, hours))
    dead_letter_queues_emptied(store_, queues.empty(), at)
    return new


def handoff_facts(handoff_id: str) -> HandoffFacts:
    records = store()
    state = records.state(handoff_id)
    deal = records.deal(handoff_id).detail
    expired = [a for a in approvals().list_for_handoff(handoff_id) if a.status == "EXPIRED"]
    return HandoffFacts(opportunity_id=state.opportunity_id,
                        title=f"{deal.opportunity.name} ({deal.account.legal_name})", fix_round=state.rework,
                        revenue_at_risk=deal.contract.value, kickoff=deal.contract.start_date,
                        expired_approval_kind=expired[-1].kind if expired else None)
