"""The operators' API document: committed as generated, a valid OpenAPI 3.1 document, and listing
exactly the routes the handler serves (the template's methods are checked in tests/infra)."""

import json
import re

from openapi_spec_validator import validate

from handoff.contracts.openapi import DOCUMENT, document, render
from handoff.contracts.operators_api import OPERATIONS
from handoff.handlers import handoff_api, recovery_api


def test_committed_document_matches_the_code() -> None:
    assert DOCUMENT.read_text() == render(), (
        "docs/openapi/operators-api.json is stale: run `PYTHONPATH=functions python -m handoff.contracts.openapi`")


def test_document_is_valid_openapi() -> None:
    validate(json.loads(render()))


def test_every_route_of_the_handler_is_documented_and_nothing_else() -> None:
    for module, handler in (("handoff_api", handoff_api), ("recovery_api", recovery_api)):
        served = {(r.method, re.sub(r"<\w+>", "{}", r.path))
                  for r in handler.app._static_routes + handler.app._dynamic_routes}
        documented = {(op.method, re.sub(r"\{\w+\}", "{}", op.path)) for op in OPERATIONS if op.handler == module}
        assert served == documented, module


def test_search_parameters_and_answers_are_described() -> None:
    search = document()["paths"]["/handoffs"]["get"]
    names = {p["name"] for p in search["parameters"]}
    assert names == {"status", "serviceLine", "region", "owner", "customer", "from", "to", "q", "sort", "order",
                     "limit", "cursor"}
    assert all(p["description"] and not p["required"] for p in search["parameters"])
    limit = next(p for p in search["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 25)
    assert set(search["responses"]) == {"200", "400"}
    page = document()["components"]["schemas"]["SearchPage"]
    assert set(page["required"]) == {"items", "nextCursor", "count"}
    resubmit = document()["paths"]["/handoffs/{handoffId}/resubmit"]["post"]
    assert set(resubmit["responses"]) == {"202", "404", "409", "413", "422", "503"}
    assert resubmit["requestBody"]["required"] is False
