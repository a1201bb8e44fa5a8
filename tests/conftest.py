import json
import os
from pathlib import Path

# Powertools reads these when a handler module is first imported; in Lambda they are always set
# (the stack gives every function the same values). Tests import handlers in one process.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "closed-won-handoff")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ClosedWonHandoff")

import pytest

from handoff.contracts import parse_event

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_files(kind: str) -> list[Path]:
    return sorted((FIXTURES / kind).glob("*.json"))


def load_raw(kind: str, name: str) -> dict:
    return json.loads((FIXTURES / kind / f"{name}.json").read_text())


@pytest.fixture
def closed_won_events() -> list:
    return [parse_event(p.read_text()) for p in fixture_files("closed-won")]
