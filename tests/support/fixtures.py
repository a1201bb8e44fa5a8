"""The test fixtures (copies of the shared examples and our own), found and read in one place."""

import json
from pathlib import Path
from typing import Any

from handoff.contracts import ClosedWonEvent, parse_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CRM_FIXTURES = FIXTURES / "crm"  # what the CRMs send and hold, by CRM: salesforce/, hubspot/


def fixture_path(kind: str, name: str) -> Path:
    """tests/fixtures/<kind>/<name>.json, e.g. ("closed-won", "emea-milestone-erp-rollout")."""
    return FIXTURES / kind / f"{name}.json"


def fixture_files(kind: str) -> list[Path]:
    return sorted((FIXTURES / kind).glob("*.json"))


def load_raw(kind: str, name: str) -> dict[str, Any]:
    return json.loads(fixture_path(kind, name).read_text())


def load_event(name: str, kind: str = "closed-won") -> ClosedWonEvent:
    return parse_event(fixture_path(kind, name).read_text())
