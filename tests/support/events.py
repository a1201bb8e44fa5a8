"""Events for tests, built from the closed-won fixtures (copies of the shared examples)."""

import copy
from typing import Any

from tests.conftest import load_raw


def closed_won(name: str, opportunity_id: str, event_id: str | None = None) -> dict[str, Any]:
    """A closed-won example under its own opportunity id (tests share one runtime)."""
    event = load_raw("closed-won", name)
    event["detail"]["opportunity"]["id"] = opportunity_id
    event["detail"]["eventId"] = event_id or f"{opportunity_id}-won"
    return event


def stage_changed(won: dict[str, Any], *, stage: str, probability: int, event_id: str | None = None,
                  occurred_at: str = "2026-10-01T09:30:00Z") -> dict[str, Any]:
    """The "Opportunity Stage Changed" event the CRM sent for the same deal before it closed."""
    detail = won["detail"]
    opportunity = detail["opportunity"]
    return {
        "source": won["source"],
        "detail-type": "Opportunity Stage Changed",
        "detail": {
            "schemaVersion": "1.0",
            "eventId": event_id or f"{opportunity['id']}-{stage.replace(' ', '-').lower()}-{probability}",
            "occurredAt": occurred_at,
            "opportunity": {**copy.deepcopy(opportunity), "stage": stage, "probability": probability,
                            "previousStage": "Qualification"},
            "account": copy.deepcopy(detail["account"]),
            "contract": {"type": detail["contract"]["type"]},
            "staffing": copy.deepcopy(detail["staffing"]),
        },
    }


def own(kind: str, name: str, tag: str) -> dict[str, Any]:
    """A fixture event (`kind`/`name`) with an opportunity id and event id of its own (`tag`): one
    runtime serves a whole module."""
    event = load_raw(kind, name)
    event["detail"]["opportunity"]["id"] = f"{tag}-{name}"
    event["detail"]["eventId"] = f"{tag}-{name}-1"
    return event


def float_amount(opportunity_id: str, event_id: str) -> dict[str, Any]:
    """The invalid example whose amount is a JSON number (the contract wants a decimal string), under
    its own ids: it fails its contract and is quarantined."""
    event = load_raw("invalid", "float-amount")
    event["detail"]["opportunity"]["id"] = opportunity_id
    event["detail"]["eventId"] = event_id
    return event


def amount_corrected(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of a float-amount event with the fix: the amount as the contract states it, a decimal string."""
    corrected = copy.deepcopy(event)
    corrected["detail"]["opportunity"]["amount"]["value"] = str(corrected["detail"]["contract"]["value"]["value"])
    return corrected
