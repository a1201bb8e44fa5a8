"""Re-ingest quarantined events once the event or the contract is fixed.

Each event in `quarantine/` is validated again against the contract as it is now (closed-won, or
Opportunity Stage Changed by its detail-type): one that passes (the contract was relaxed, or an
operator put a corrected event in its place) is published to the bus as received and moved to
`requeued/`; one that still fails stays, with the fields at fault now. A dry run only says which
would go. Receivers are idempotent on the eventId, and a requeued event has left `quarantine/`, so
requeuing twice sends nothing twice."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handoff.adapters.documents import Documents
from handoff.adapters.event_bus import EventBus
from handoff.contracts import ContractError, parse_event, parse_stage_changed
from handoff.contracts.timestamps import iso

STAGE_CHANGED = "Opportunity Stage Changed"


@dataclass
class RequeueReport:
    dry_run: bool
    requeued: list[dict[str, str]] = field(default_factory=list)
    still_invalid: list[dict[str, Any]] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        return {"dryRun": self.dry_run, "requeued": self.requeued, "stillInvalid": self.still_invalid}


def validate(event: Any) -> None:
    """Raises ContractError naming the fields at fault."""
    stage_changed = isinstance(event, dict) and event.get("detail-type") == STAGE_CHANGED
    (parse_stage_changed if stage_changed else parse_event)(event)


def requeue(documents: Documents, bus: EventBus, now: datetime, *, dry_run: bool, key: str | None = None,
            correction: dict | None = None) -> RequeueReport:
    """All of the quarantine, or the one `key`; `correction`: the corrected event for that key."""
    report = RequeueReport(dry_run)
    # One key: listed by its own prefix (a missing object is then no error, and S3 answers a GET of a
    # missing key AccessDenied to a caller without ListBucket on it), not the whole quarantine read.
    keys = [k for k in documents.quarantine_keys(prefix=key) if k == key] if key else None
    for item in documents.quarantined(keys):
        event = correction if correction is not None and key else item.get("event")
        try:
            validate(event)
        except ContractError as error:
            report.still_invalid.append({"key": item["key"], "problems": error.problems})
            continue
        entry = {"key": item["key"], "eventId": str(event["detail"].get("eventId", "")),
                 "detailType": str(event.get("detail-type", ""))}
        if not dry_run:
            entry["busEventId"] = bus.publish(event["source"], event["detail-type"], event["detail"])
            documents.requeued(item["key"], {**item, "event": event, "requeuedAt": iso(now),
                                             "corrected": correction is not None and bool(key),
                                             "busEventId": entry["busEventId"]})
        report.requeued.append(entry)
    return report
