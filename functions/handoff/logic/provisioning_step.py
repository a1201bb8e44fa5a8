"""One provisioning step (customer, project, billing, staffing, requisitions): load the deal and its
record, check what the step needs from the steps before, do the work once per handoff and step
(Powertools idempotency; the work passes the same idempotency key to the system of record), save
the result on the record and add the step to the timeline."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handoff.adapters.configuration import playbook_for
from handoff.adapters.from_settings import store
from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.idempotency import idempotency_key, once
from handoff.clock import now
from handoff.contracts import ClosedWonEvent
from handoff.contracts.record import HandoffRecord
from handoff.domain.playbooks import Playbook


@dataclass(frozen=True)
class Provisioning:
    """What a step's work has: the deal, what the steps before stored (`record`: the RECORD item's
    fields; no timeline, exceptions or approvals), the store, and its idempotency key."""

    handoff_id: str
    step: str
    deal: ClosedWonEvent
    record: HandoffRecord
    records: HandoffStore

    @property
    def key(self) -> str:
        return idempotency_key(self.handoff_id, self.step)

    def playbook(self) -> Playbook:
        return playbook_for(self.deal)


def provision(handoff_id: str, step: str, work: Callable[[Provisioning], dict[str, Any]], *,
              save: Callable[[dict[str, Any]], dict[str, Any]], detail: Callable[[dict[str, Any]], str],
              needs: tuple[str, ...] = (), missing: str = "") -> dict[str, Any]:
    """Run a step; `needs` names the record's fields earlier steps must have set (else LookupError,
    "handoff <id> <missing>"); `save` gives the record fields to store from the result, `detail` the
    timeline's text. Returns the work's result (the stored one on a retry)."""
    records = store()
    context = Provisioning(handoff_id, step, records.deal(handoff_id),
                           records.results_so_far(handoff_id), records)
    if any(getattr(context.record, field) is None for field in needs):
        raise LookupError(f"handoff {handoff_id} {missing}")
    result = once(handoff_id, step, lambda: work(context))
    records.save(handoff_id, **save(result))
    records.record_step(handoff_id, step, "SUCCEEDED", now(), detail=detail(result))
    return result
