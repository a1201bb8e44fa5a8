"""The EventBridge bus: publish one event, and fail loudly when the bus does not take it
(PutEvents reports per-entry failures in a 200 response)."""

import json
from typing import Any

from handoff.domain.errors import EventTooLarge, IntegrationTransient

# PutEvents takes at most 256 KiB per entry, counting the detail, source and detail-type.
MAX_ENTRY_BYTES = 256 * 1024


class EventBus:
    def __init__(self, events_client: Any, bus_name: str):
        self._events = events_client
        self.bus_name = bus_name

    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> str:
        """Put one event on the bus; returns EventBridge's event id."""
        body = json.dumps(detail)
        size = len(body.encode()) + len(source.encode()) + len(detail_type.encode())
        if size > MAX_ENTRY_BYTES:
            raise EventTooLarge(f"the event is {size} bytes; the event bus takes at most {MAX_ENTRY_BYTES}",
                                size=size, limit=MAX_ENTRY_BYTES)
        response = self._events.put_events(Entries=[{
            "Source": source, "DetailType": detail_type, "Detail": body, "EventBusName": self.bus_name,
        }])
        entry = response["Entries"][0]
        if response.get("FailedEntryCount") or "EventId" not in entry:
            raise IntegrationTransient(f"event bus {self.bus_name} did not take the event: "
                                       f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
        return entry["EventId"]
