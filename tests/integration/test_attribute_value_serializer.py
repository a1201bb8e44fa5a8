"""The embedded runtime's DynamoDB answers (local/moto_bridge.direct_attribute_values): written
straight from moto's attribute values, they are byte for byte what moto's own shape walk writes,
for every kind of value and nesting."""

import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.model import ServiceModel
from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict

from local.moto_bridge import direct_attribute_values

MOTOS_OWN = BaseJSONSerializer._serialize_type_structure


class Direct(JSONSerializer):
    _serialize_type_structure = direct_attribute_values(MOTOS_OWN)


class MotosOwn(JSONSerializer):
    _serialize_type_structure = MOTOS_OWN


def _body(serializer: type[JSONSerializer], service: ServiceModel, operation: str, result: Any) -> Any:
    written = serializer(operation_model=service.operation_model(operation), pretty_print=False,
                         value_picker=XFormedAttributePicker()).serialize(result)
    return json.loads(written["body"])


names = st.text(min_size=1, max_size=8)
strings = st.text(max_size=12)
numbers = st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
blobs = st.binary(max_size=12)
scalars = st.one_of(
    strings.map(lambda s: {"S": s}), numbers.map(lambda n: {"N": n}), blobs.map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}), st.just({"NULL": True}),
    st.lists(strings, min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=4, unique=True).map(lambda v: {"NS": v}),
    st.lists(blobs, min_size=1, max_size=4, unique=True).map(lambda v: {"BS": v}),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.dictionaries(names, inner, max_size=4).map(lambda m: {"M": m}),
    st.lists(inner, max_size=4).map(lambda items: {"L": items})), max_leaves=20)
items = st.dictionaries(names, values, min_size=1, max_size=6)


def _stored(item: dict[str, Any]) -> dict[str, Any]:
    """The item as moto holds it and hands it to the serializer (DynamoType, then dynamo_to_dict)."""
    return {name: dynamo_to_dict(DynamoType(value)) for name, value in item.items()}


@settings(max_examples=150, deadline=None)
@given(item=items)
def test_an_item_is_written_exactly_as_moto_writes_it(item: dict[str, Any]) -> None:
    assert MOTOS_OWN.__module__ == "moto.core.serialize", "the bridge is installed: compare against moto's own"
    dynamodb = get_service_model("dynamodb")
    stored = _stored(item)
    for operation, result in (("GetItem", {"Item": stored}),
                              ("Query", {"Items": [stored, stored], "Count": 2, "ScannedCount": 2}),
                              ("UpdateItem", {"Attributes": stored})):
        assert _body(Direct, dynamodb, operation, result) == _body(MotosOwn, dynamodb, operation, result)


def test_values_the_direct_path_does_not_know_are_left_to_moto() -> None:
    dynamodb = get_service_model("dynamodb")
    odd = {"Item": {"two members": {"S": "a", "N": "1"}, "number": {"N": Decimal("1.5")},
                    "unknown": {"X": "?"}, "none": {"S": None}}}
    assert _body(Direct, dynamodb, "GetItem", odd) == _body(MotosOwn, dynamodb, "GetItem", odd)


def test_other_services_structures_are_untouched() -> None:
    # Only DynamoDB's AttributeValue is written directly; an SQS answer goes through moto's walk.
    sqs = get_service_model("sqs")
    result = {"Messages": [{"MessageId": "m-1", "Body": "hello", "Attributes": {"SentTimestamp": "1"}}]}
    assert _body(Direct, sqs, "ReceiveMessage", result) == _body(MotosOwn, sqs, "ReceiveMessage", result)
