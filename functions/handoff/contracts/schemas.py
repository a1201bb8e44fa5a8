"""JSON Schemas generated from the contract models; the committed copies in schemas/ are the
published API and a test fails when code and schema drift apart."""

import json
from pathlib import Path

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from handoff.contracts.event import ClosedWonEvent
from handoff.contracts.record import HandoffRecord
from handoff.contracts.stage_changed import StageChangedEvent

SCHEMAS: dict[str, tuple[type[BaseModel], JsonSchemaMode]] = {
    "closed-won-event-1.0.schema.json": (ClosedWonEvent, "validation"),
    "handoff-record-1.schema.json": (HandoffRecord, "serialization"),
    "stage-changed-event-1.0.schema.json": (StageChangedEvent, "validation"),
}


def render() -> dict[str, str]:
    return {name: json.dumps(model.model_json_schema(by_alias=True, mode=mode), indent=2, sort_keys=True) + "\n"
            for name, (model, mode) in SCHEMAS.items()}


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (folder / name).write_text(text)


if __name__ == "__main__":
    write(Path(__file__).resolve().parents[3] / "schemas")
