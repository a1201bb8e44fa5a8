"""The time the functions act at: timezone-aware UTC, from one place (tests and the local runtime
drive the clock through the events they send, never by patching this)."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
