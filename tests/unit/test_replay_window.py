"""The window of a replay: UTC ISO 8601 instants, start before end, nothing in the future, the start
within the archive's retention; each refusal names its field. Replay names are unique and valid."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from handoff.domain.replay_window import ReplayWindow, ReplayWindowInvalid, replay_name, window

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_window_of_today_is_taken_in_utc() -> None:
    chosen = window("2026-12-02T00:00:00Z", "2026-12-02T13:30:00+02:00", now=NOW, retention_days=30)
    assert chosen == ReplayWindow(datetime(2026, 12, 2, 0, 0, tzinfo=UTC), datetime(2026, 12, 2, 11, 30, tzinfo=UTC))


def test_an_end_a_few_seconds_ahead_of_our_clock_means_now() -> None:
    assert window("2026-12-02T00:00:00Z", "2026-12-02T12:00:20Z", now=NOW, retention_days=30).end == NOW


@pytest.mark.parametrize(("start", "end", "field", "words"), [
    ("2026-12-02T10:00:00Z", "2026-12-02T09:00:00Z", "end", "must be after start"),
    ("2026-12-02T10:00:00Z", "2026-12-02T10:00:00Z", "end", "must be after start"),
    ("2026-12-02T12:30:00Z", "2026-12-02T13:00:00Z", "start", "in the future"),
    ("2026-12-02T10:00:00Z", "2026-12-02T13:00:00Z", "end", "in the future"),
    ("2026-10-31T10:00:00Z", "2026-12-02T10:00:00Z", "start", "retention of 30 days"),
    ("2026-12-02T10:00:00", "2026-12-02T11:00:00Z", "start", "no time zone"),
    ("yesterday", "2026-12-02T11:00:00Z", "start", "not an ISO 8601 time"),
    (None, "2026-12-02T11:00:00Z", "start", "required"),
    ("2026-12-02T10:00:00Z", 1733100000, "end", "must be a string"),
])
def test_a_bad_window_is_refused_naming_the_field(start: object, end: object, field: str, words: str) -> None:
    with pytest.raises(ReplayWindowInvalid, match=words) as refused:
        window(start, end, now=NOW, retention_days=30)
    assert refused.value.field == field


def test_an_archive_kept_indefinitely_reaches_any_start() -> None:
    assert window("2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", now=NOW, retention_days=0).start.year == 2020


def test_replay_names_are_unique_and_within_eventbridges_rules() -> None:
    chosen = ReplayWindow(NOW - timedelta(hours=1), NOW)
    names = {replay_name("ClosedWonHandoff", chosen) for _ in range(20)}
    assert len(names) == 20
    long = replay_name("A" * 80 + "/stack", chosen, "abcd1234")
    assert len(long) <= 64 and re.fullmatch(r"[.\-_A-Za-z0-9]+", long) and long.endswith("-abcd1234")
    assert replay_name("ClosedWonHandoff", chosen, "ff").startswith("ClosedWonHandoff-20261202T110000-20261202T120000")
