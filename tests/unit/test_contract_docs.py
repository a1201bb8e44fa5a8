"""docs/contract.md is the product's public contract: it must name every field and exception code the
models define, so the page and the code cannot drift apart."""

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from handoff.contracts import ClosedWonEvent, HandoffRecord
from handoff.contracts.record import ExceptionCode

DOC = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text()
NAMED = set(re.findall(r"`([A-Za-z0-9_.-]+)`", DOC))


def _fields(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    seen = seen or set()
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(info.alias or name)
        for arg in typing.get_args(info.annotation) or (info.annotation,):
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner.__name__ != "Money":
                    names |= _fields(inner, seen)
    return names


def test_every_field_of_the_event_and_the_record_is_documented() -> None:
    fields = (_fields(ClosedWonEvent) | _fields(HandoffRecord)) - {"detail_type", "detail-type"}
    assert fields - NAMED == set()


def test_every_exception_code_is_documented() -> None:
    assert set(typing.get_args(ExceptionCode)) - NAMED == set()
