import json
from pathlib import Path

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
