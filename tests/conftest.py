import os

# Powertools reads these when a handler module is first imported; in Lambda they are always set
# (the stack gives every function the same values). Tests import handlers in one process.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "closed-won-handoff")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ClosedWonHandoff")

import pytest

from handoff.contracts import parse_event
from tests.support.fixtures import FIXTURES, fixture_files, load_raw  # noqa: F401 - re-exported for older imports


@pytest.fixture
def closed_won_events() -> list:
    return [parse_event(p.read_text()) for p in fixture_files("closed-won")]
