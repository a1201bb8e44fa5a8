"""The time window of a replay of the bus archive (pure): two UTC ISO 8601 instants, the start
before the end, neither in the future, the start within the archive's retention. Each refusal
names its field (`start` or `end`)."""

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# A client's clock may run a little ahead of ours: an end up to this far in the future means "now".
CLOCK_SKEW = timedelta(minutes=1)
_NAME_SAFE = re.compile(r"[^.\-_A-Za-z0-9]")


class ReplayWindowInvalid(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ReplayWindow:
    start: datetime
    end: datetime


def instant(value: Any, field: str) -> datetime:
    if value is None or value == "":
        raise ReplayWindowInvalid(f"{field} is required: a UTC time in ISO 8601, e.g. 2026-12-02T00:00:00Z", field)
    if not isinstance(value, str):
        raise ReplayWindowInvalid(f"{field} must be a string in ISO 8601, e.g. 2026-12-02T00:00:00Z", field)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ReplayWindowInvalid(f"{field}: {value!r} is not an ISO 8601 time (e.g. 2026-12-02T00:00:00Z)",
                                  field) from None
    if parsed.tzinfo is None:
        raise ReplayWindowInvalid(f"{field}: {value!r} has no time zone; give UTC with Z (e.g. {value}Z)", field)
    return parsed.astimezone(UTC)


def window(start: Any, end: Any, *, now: datetime, retention_days: int) -> ReplayWindow:
    """`retention_days`: the archive's (0 keeps events indefinitely)."""
    first, last = instant(start, "start"), instant(end, "end")
    if last <= first:
        raise ReplayWindowInvalid(f"end ({_iso(last)}) must be after start ({_iso(first)})", "end")
    if first >= now:
        raise ReplayWindowInvalid(f"start ({_iso(first)}) is in the future (now {_iso(now)})", "start")
    if last > now + CLOCK_SKEW:
        raise ReplayWindowInvalid(f"end ({_iso(last)}) is in the future (now {_iso(now)}): events not yet "
                                  "archived cannot be replayed", "end")
    if retention_days > 0 and first < now - timedelta(days=retention_days):
        earliest = now - timedelta(days=retention_days)
        raise ReplayWindowInvalid(f"start ({_iso(first)}) is beyond the archive's retention of {retention_days} "
                                  f"days: the earliest start is {_iso(earliest)}", "start")
    return ReplayWindow(first, min(last, now))


def replay_name(prefix: str, replay: ReplayWindow, suffix: str | None = None) -> str:
    """Unique per account and region (EventBridge's rule), readable, at most 64 characters."""
    stamp = f"{replay.start:%Y%m%dT%H%M%S}-{replay.end:%Y%m%dT%H%M%S}"
    tail = f"{stamp}-{suffix or secrets.token_hex(4)}"
    return _NAME_SAFE.sub("-", f"{prefix[:64 - len(tail) - 1]}-{tail}")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(value: datetime) -> str:
    return _iso(value)
