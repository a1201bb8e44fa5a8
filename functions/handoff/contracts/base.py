import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

# Never meaningful in CRM text and dangerous downstream: NUL and the other C0 controls but tab, CR
# and LF; DEL and the C1 controls; and the bidi embedding, override and isolate controls that make
# text read differently from what it is (CVE-2021-42574, "Trojan Source"). Line breaks are kept
# (notes are multi-line); where a single line is needed (email headers) the mailer folds them.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def forbidden_character(text: str) -> str | None:
    """The first character CRM text may not contain, as U+XXXX, or None."""
    found = _FORBIDDEN.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _check_text(value: Any) -> Any:
    if isinstance(value, str):
        if code := forbidden_character(value):
            raise ValueError(f"contains the control character {code}, which is not allowed in CRM text; "
                             "remove it in the CRM")
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
    return value


class CanonicalModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are kept (forward compatibility).
    Text fields refuse control characters (see _FORBIDDEN), naming the field."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _check_text(value)


class RecordModel(BaseModel):
    """Output models: camelCase on the wire, no unknown fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
