"""What a CRM notification asks us to look at: the deal ids worth re-reading, and why the others
are ignored. Notifications are thin (Salesforce change events carry only the changed fields,
HubSpot webhooks only an id and one property), so they only say *which* deals to re-read.

Pure. Our own write-backs never start an intake: changes by the integration user (Salesforce
commitUser, HubSpot changeSource INTEGRATION from our app) and changes to fields the mapping does
not read (the write-back fields among them) are ignored."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PLATFORM_EVENT_ID_FIELD = "Opportunity_Id__c"  # crm/salesforce: Closed_Won_Handoff__e
CHANGE_TYPES = {"CREATE", "UPDATE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_UNDELETE", "GAP_OVERFLOW"}
# Salesforce always lists these among changedFields; they alone mean nothing changed for us.
_SYSTEM_FIELDS = {"LastModifiedDate", "LastModifiedById", "SystemModstamp"}
HUBSPOT_DEAL_EVENTS = {"deal.creation", "deal.propertyChange", "deal.restore", "deal.associationChange"}


@dataclass
class Notification:
    ids: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # why, per ignored part


def salesforce(detail_type: str, payload: dict[str, Any], *, watched: Iterable[str],
               integration_user: str = "") -> Notification:
    """An Event Relay event's `detail.payload`: our platform event, or an OpportunityChangeEvent."""
    result = Notification()
    if detail_type.endswith("ChangeEvent"):
        header = payload.get("ChangeEventHeader") or {}
        change = str(header.get("changeType") or "")
        if header.get("entityName") != "Opportunity":
            result.ignored.append(f"change event for {header.get('entityName')!r}, not Opportunity")
        elif change not in CHANGE_TYPES:
            result.ignored.append(f"change type {change or '(none)'}")
        elif integration_user and _same_user(header.get("commitUser"), integration_user):
            result.ignored.append("changed by the integration user (our own write-back)")
        elif change == "UPDATE" and not (set(header.get("changedFields") or []) - _SYSTEM_FIELDS) & set(watched):
            result.ignored.append(f"no watched field changed ({', '.join(header.get('changedFields') or [])})")
        else:
            ids = [str(i) for i in header.get("recordIds") or [] if isinstance(i, str)]
            result.ids = [i for i in ids if not i.endswith("*")]  # "006*": a type conversion, not records
            if len(result.ids) < len(ids):
                result.ignored.append("wildcard record ids")
        return result
    opportunity = payload.get(PLATFORM_EVENT_ID_FIELD)
    if isinstance(opportunity, str) and opportunity.strip():
        result.ids = [opportunity.strip()]
    else:
        result.ignored.append(f"platform event without {PLATFORM_EVENT_ID_FIELD}")
    return result


def _same_user(a: Any, b: str) -> bool:
    """15- and 18-character ids of one user match on their first 15 characters."""
    return isinstance(a, str) and len(a) >= 15 and a[:15] == b[:15]


def hubspot(events: list[dict[str, Any]], *, watched: Iterable[str], app_id: int | None) -> Notification:
    """A webhook batch: deals to re-read, once each however many of their events came."""
    result = Notification()
    wanted = set(watched)
    for event in events:
        kind = str(event.get("subscriptionType") or "")
        object_id = event.get("objectId")
        if kind not in HUBSPOT_DEAL_EVENTS:
            result.ignored.append(f"{kind or '(no subscriptionType)'}: not a deal event")
        elif object_id is None or not str(object_id).isdigit():
            result.ignored.append(f"{kind} without an objectId")
        elif kind == "deal.propertyChange" and event.get("propertyName") not in wanted:
            result.ignored.append(f"property {event.get('propertyName')!r} is not watched")
        elif app_id is not None and str(event.get("changeSource")) == "INTEGRATION" and \
                str(event.get("sourceId")) == str(app_id):
            result.ignored.append("changed by our app (our own write-back)")
        else:
            result.ids.append(str(object_id))
    result.ids = list(dict.fromkeys(result.ids))
    return result
