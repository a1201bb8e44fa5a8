"""From a CRM deal as its API returned it to the canonical events: "Opportunity Closed Won" when
the CRM says the deal is won (re-read, never trusted from the notification), "Opportunity Stage
Changed" otherwise (soft staffing; a lost deal releases it).

Pure. The event id is derived from the deal and the record's last modification, so a redelivered
or repeated notification (EventBridge at least once, HubSpot retries, a platform event and a change
event for the same save, several webhook events of one batch) makes the same event, which the
workflow takes once; a correction saved in the CRM makes a new one (the fix loop)."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handoff.contracts.event import CLOSED_WON
from handoff.contracts.stage_changed import STAGE_CHANGED
from handoff.domain.crm_mapper import Mapper
from handoff.domain.crm_mapping import INTAKE_KEY, CrmMapping

SCHEMA_VERSION = "1.0"
LOST_STAGE = "Closed Lost"  # what TrackPipeline reads as a loss, whatever the CRM calls it


@dataclass(frozen=True)
class DealState:
    """What a CRM adapter read for one deal."""

    opportunity_id: str
    account_id: str | None
    records: dict[str, Any]  # the record bag the mapping reads
    won: bool
    closed: bool
    modified_at: datetime  # the record's last modification: the version this event describes


@dataclass(frozen=True)
class Outcome:
    event: dict[str, Any] | None  # the EventBridge entry as {source, detail-type, detail}
    reason: str  # why, in words (logged)


def source_of(mapping: CrmMapping) -> str:
    return f"crm.{mapping.crm}"


def event_id(mapping: CrmMapping, state: DealState) -> str:
    stamp = state.modified_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return re.sub(r"[^A-Za-z0-9._:-]", "_", f"{mapping.crm}-{state.opportunity_id}-{stamp}")


def decide(mapping: CrmMapping, state: DealState) -> Outcome:
    """The canonical event for the deal as it stands in the CRM."""
    identity = {
        "schemaVersion": SCHEMA_VERSION,
        "eventId": event_id(mapping, state),
        "occurredAt": state.modified_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "opportunity.id": state.opportunity_id,
        "account.crmId": state.account_id or f"(no account on {state.opportunity_id})",
    }
    mapped = Mapper(mapping).map(state.records, identity=identity, occurred_at=state.modified_at)
    if state.won:
        detail = mapped.detail
        detail[INTAKE_KEY] = {
            "crm": mapping.crm,
            "label": mapping.label,
            "fields": {path: mapping.describe(spec.source) for path, spec in mapping.fields.items() if spec.source},
            "missing": [{"field": m.field, "crmField": mapping.describe(m.crm_field), "problem": m.problem}
                        for m in mapped.missing],
        }
        if not state.account_id:
            detail[INTAKE_KEY]["missing"].append({"field": "account.crmId", "crmField": f"the {mapping.main_object}'s "
                                                  "account", "problem": "is empty"})
        note = f", {len(mapped.missing)} field(s) missing" if mapped.missing else ""
        return Outcome({"source": source_of(mapping), "detail-type": CLOSED_WON, "detail": detail},
                       f"won{note}")
    return _stage_changed(mapping, state, mapped.detail, {m.field for m in mapped.missing})


def _stage_changed(mapping: CrmMapping, state: DealState, detail: dict[str, Any], missing: set[str]) -> Outcome:
    lost = state.closed and not state.won
    needed = {"opportunity.serviceLine", "opportunity.region", "account.country"}
    if not lost and needed & missing:
        return Outcome(None, f"stage change not tracked: {', '.join(sorted(needed & missing))} missing")
    if not state.account_id:
        return Outcome(None, "stage change not tracked: the deal has no account")
    opportunity = detail["opportunity"]
    account = detail["account"]
    kept = ("id", "stage", "probability", "serviceLine", "region", "name", "amount", "closeDate", "owner",
            "deliveryModel")
    pipeline_opportunity = {k: opportunity[k] for k in kept if k in opportunity
                            and f"opportunity.{k}" not in missing and not _owner_missing(k, missing)}
    if lost:
        pipeline_opportunity.update(stage=LOST_STAGE, probability=0)
    for required, fallback in (("serviceLine", "(unknown)"), ("region", "EMEA"), ("stage", LOST_STAGE),
                               ("probability", 0)):
        pipeline_opportunity.setdefault(required, fallback)  # a loss releases whatever the deal lacks
    pipeline = {
        "schemaVersion": detail["schemaVersion"], "eventId": detail["eventId"], "occurredAt": detail["occurredAt"],
        "opportunity": pipeline_opportunity,
        "account": {"crmId": account["crmId"], "country": account.get("country") if "account.country" not in missing
                    else "US", "legalName": account.get("legalName")},
        "staffing": [] if "staffing" in missing else detail.get("staffing", []),
    }
    if "contract.type" not in missing and detail.get("contract", {}).get("type"):
        pipeline["contract"] = {"type": detail["contract"]["type"]}
    return Outcome({"source": source_of(mapping), "detail-type": STAGE_CHANGED, "detail": pipeline},
                   "lost" if lost else f"stage {pipeline_opportunity['stage']}")


def _owner_missing(key: str, missing: set[str]) -> bool:
    return key == "owner" and bool({"opportunity.owner.name", "opportunity.owner.email"} & missing)
