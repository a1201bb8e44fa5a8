"""Replay a time window of the bus archive onto the bus. Every CRM event the bus took is archived
(infra/recovery.py, retention from the `archiveRetentionDays` context); a replay sends the window's
events again to the bus's rules, as they were, with `replay-name`. The receivers are idempotent on
the event's eventId, so what already ran is a duplicate (its execution ends at "Duplicate event
ignored") and what was lost runs now."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handoff.adapters.event_archive import EventArchive
from handoff.domain.replay_window import iso, replay_name, window


@dataclass(frozen=True)
class ReplayStarted:
    name: str
    arn: str
    state: str
    start: datetime
    end: datetime
    archive: str
    retention_days: int

    def to_json_dict(self) -> dict[str, Any]:
        return {"replayName": self.name, "replayArn": self.arn, "state": self.state, "start": iso(self.start),
                "end": iso(self.end), "archive": self.archive, "retentionDays": self.retention_days}


def start_replay(archive: EventArchive, start: Any, end: Any, *, now: datetime, prefix: str,
                 caller: str | None) -> ReplayStarted:
    """Raises ReplayWindowInvalid (naming `start` or `end`) for a window that cannot be replayed."""
    retention = archive.retention_days()
    chosen = window(start, end, now=now, retention_days=retention)
    name = replay_name(prefix, chosen)
    answer = archive.start_replay(name, chosen.start, chosen.end,
                                  f"Operator replay {iso(chosen.start)} to {iso(chosen.end)} by {caller or 'unknown'}")
    return ReplayStarted(name, answer["replayArn"], answer["state"], chosen.start, chosen.end, archive.name, retention)
