from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CanonicalModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are kept (forward compatibility)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class RecordModel(BaseModel):
    """Output models: camelCase on the wire, no unknown fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)
