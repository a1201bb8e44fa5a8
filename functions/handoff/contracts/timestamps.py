"""One timestamp format everywhere: UTC, milliseconds, `Z` (sortable as text, so range queries on
stored timestamps work)."""

from datetime import UTC, datetime


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
