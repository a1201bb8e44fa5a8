from pathlib import Path

from handoff.contracts.schemas import render

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_match_the_models() -> None:
    for name, text in render().items():
        committed = (SCHEMAS / name).read_text()
        assert committed == text, f"schemas/{name} is stale: run `python -m handoff.contracts.schemas`"


def test_event_schema_names_required_fields() -> None:
    text = render()["closed-won-event-1.0.schema.json"]
    assert '"detail-type"' in text and '"schemaVersion"' in text and '"eventId"' in text


def test_stage_changed_schema_requires_what_soft_staffing_needs() -> None:
    import json

    schema = json.loads(render()["stage-changed-event-1.0.schema.json"])
    opportunity = schema["$defs"]["PipelineOpportunity"]
    assert set(opportunity["required"]) == {"id", "stage", "probability", "serviceLine", "region"}
    assert schema["properties"]["detail-type"]["const"] == "Opportunity Stage Changed"
