"""The OpenAPI 3.1 document of the operators' API, generated from handoff.contracts.operators_api
(routes) and the pydantic models' JSON Schemas. `python -m handoff.contracts.openapi` rewrites
docs/openapi/operators-api.json; a test fails when the committed document drifts from the code."""

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from handoff.contracts.operators_api import OPERATIONS, PATH_PARAMETERS, Operation

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "operators-api.json"
_REF = "#/components/schemas/{model}"
Mode = Literal["validation", "serialization"]
Refs = dict[tuple[Any, Mode], dict[str, Any]]  # (model, mode) -> {"$ref": ...}
Json = dict[str, Any]


def _schemas() -> tuple[Refs, Json]:
    models: list[tuple[type[BaseModel], Mode]] = []
    for op in OPERATIONS:
        models += [(model, "serialization") for _, model in op.responses.values()]
        models += [(m, "validation") for m in (op.query, op.body) if m is not None]
    refs, definitions = models_json_schema(list(dict.fromkeys(models)), by_alias=True, ref_template=_REF)
    return dict(refs), definitions.get("$defs", {})


def _parameters(op: Operation, refs: Refs, components: Json) -> list[Json]:
    parameters = [{"name": name, "in": "path", "required": True, "description": PATH_PARAMETERS[name],
                   "schema": {"type": "string"}} for name in re.findall(r"\{(\w+)\}", op.path)]
    if op.query is not None:
        name = refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[-1]
        model = components.pop(name)  # its fields become parameters, not a schema of its own
        for prop, schema in model["properties"].items():
            schema = _present(schema)
            description = schema.pop("description", "")
            schema.pop("title", None)
            parameters.append({"name": prop, "in": "query", "required": prop in model.get("required", []),
                               "description": description, "schema": schema})
    return parameters


def _present(schema: Json) -> Json:
    """A query parameter is absent, never null: `X | None = None` is documented as X."""
    schema = dict(schema)
    options = [o for o in schema.get("anyOf", []) if o != {"type": "null"}]
    if len(options) == 1 and len(schema["anyOf"]) == 2:
        del schema["anyOf"]
        schema.update(options[0])
        if schema.get("default", 0) is None:
            del schema["default"]
    return schema


def _operation(op: Operation, refs: Refs, components: Json) -> Json:
    document: dict[str, Any] = {
        "operationId": op.operation_id, "summary": op.summary, "tags": list(op.tags),
        "security": [{"sigv4": []}],
        "parameters": _parameters(op, refs, components),
        "responses": {
            str(code): {"description": text,
                        "content": {"application/json": {"schema": refs[(model, "serialization")]}}}
            for code, (text, model) in sorted(op.responses.items())
        },
    }
    if op.description:
        document["description"] = op.description
    if op.body is not None:
        document["requestBody"] = {"required": False,
                                   "content": {"application/json": {"schema": refs[(op.body, "validation")]}}}
    return document


def document() -> dict[str, Any]:
    refs, components = _schemas()
    paths: dict[str, Json] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Closed-won handoff: operators' API", "version": "1",
                 "description": "CRM integrations and operators with AWS identities (SigV4). JSON answers with "
                                "Cache-Control: no-store; refusals name each field or parameter at fault."},
        "servers": [{"url": "https://{apiId}.execute-api.{region}.amazonaws.com/v1",
                     "variables": {"apiId": {"default": "api-id"}, "region": {"default": "eu-west-1"}}}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
                                          "description": "AWS Signature Version 4 (IAM): execute-api:Invoke",
                                          "x-amazon-apigateway-authtype": "awsSigv4"}},
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(render())
