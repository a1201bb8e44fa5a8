"""The bus's EventBridge archive: its retention, and replays of a time window back onto the bus
(StartReplay; EventBridge sends the window's events to the bus's rules, each with `replay-name`)."""

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError


class ReplayNotFound(LookupError):
    pass


class EventArchive:
    def __init__(self, events: Any, archive_name: str, archive_arn: str, bus_arn: str):
        self._events = events
        self.name, self.arn, self.bus_arn = archive_name, archive_arn, bus_arn

    def retention_days(self) -> int:
        """0: kept indefinitely."""
        return int(self._events.describe_archive(ArchiveName=self.name).get("RetentionDays") or 0)

    def start_replay(self, name: str, start: datetime, end: datetime, description: str) -> dict[str, Any]:
        answer = self._events.start_replay(ReplayName=name, Description=description[:512], EventSourceArn=self.arn,
                                           EventStartTime=start, EventEndTime=end, Destination={"Arn": self.bus_arn})
        return {"replayArn": answer.get("ReplayArn", ""), "state": answer.get("State", "STARTING")}

    def replay(self, name: str) -> dict[str, Any]:
        try:
            found = self._events.describe_replay(ReplayName=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise ReplayNotFound(name) from None
            raise
        return {key: _text(found.get(source)) for key, source in (
            ("replayName", "ReplayName"), ("replayArn", "ReplayArn"), ("state", "State"),
            ("stateReason", "StateReason"), ("start", "EventStartTime"), ("end", "EventEndTime"),
            ("replayStartTime", "ReplayStartTime"), ("replayEndTime", "ReplayEndTime"),
            ("lastReplayedEventTime", "EventLastReplayedTime"))}


def _text(value: Any) -> Any:
    """Times as UTC ISO 8601 (boto3 gives datetimes)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
