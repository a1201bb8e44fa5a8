"""GET /handoffs on the template: the search indexes (keys and projection the adapter reads), the
route behind IAM, and a HandoffApi that can Query but not Scan the table."""

from handoff.adapters import handoff_index
from infra import handoff_indexes
from tests.infra.test_stack import _policy_actions, resources, routes


def _handoff_table(template: dict) -> dict:
    return next(t["Properties"] for t in resources(template, "AWS::DynamoDB::Table").values()
                if any(i["IndexName"] == "gsi1" for i in t["Properties"].get("GlobalSecondaryIndexes", [])))


def test_every_access_path_has_an_index_sorted_by_reception_projecting_the_summary(template: dict) -> None:
    indexes = {i["IndexName"]: i for i in _handoff_table(template)["GlobalSecondaryIndexes"]}
    assert {name: partition for name, partition in handoff_index.INDEXES.values()} == handoff_indexes.SEARCH_INDEXES
    assert handoff_index.SUMMARY_ATTRIBUTES == handoff_indexes.SUMMARY_ATTRIBUTES
    for name, partition in handoff_indexes.SEARCH_INDEXES.items():
        index = indexes[name]
        assert index["KeySchema"] == [{"AttributeName": partition, "KeyType": "HASH"},
                                      {"AttributeName": handoff_index.SEARCH_KEY, "KeyType": "RANGE"}]
        projected = set(index["Projection"]["NonKeyAttributes"]) | {partition}
        assert index["Projection"]["ProjectionType"] == "INCLUDE"
        assert projected == set(handoff_index.SUMMARY_ATTRIBUTES) | {partition} - {handoff_index.SEARCH_KEY}
    # Every key attribute the search reads is a string in the table's definitions.
    defined = {a["AttributeName"]: a["AttributeType"] for a in _handoff_table(template)["AttributeDefinitions"]}
    assert all(defined[a] == "S" for a in (handoff_index.SEARCH_KEY, *handoff_indexes.SEARCH_INDEXES.values()))


def test_search_route_is_iam_authorized_on_the_handoff_api(template: dict) -> None:
    assert routes(template)[("GET", "/handoffs")] == {"authorization": "AWS_IAM",
                                                      "handler": "handoff.handlers.handoff_api.handler"}


def test_handoff_api_may_query_the_indexes_but_never_scan(template: dict) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    fn = next(f for f in functions.values() if f["Properties"]["Handler"] == "handoff.handlers.handoff_api.handler")
    actions = _policy_actions(template, fn["Properties"]["Role"]["Fn::GetAtt"][0])
    assert {"dynamodb:Query", "dynamodb:GetItem"} <= actions
    assert "dynamodb:Scan" not in actions and "dynamodb:*" not in actions


def test_the_openapi_route_table_is_what_api_gateway_serves_with_the_handoff_api(template: dict) -> None:
    from handoff.contracts.operators_api import OPERATIONS

    for module in ("handoff_api", "recovery_api"):
        served = {route for route, target in routes(template).items()
                  if target["handler"] == f"handoff.handlers.{module}.handler"}
        assert served == {(op.method, op.path) for op in OPERATIONS if op.handler == module}
    assert all(routes(template)[(op.method, op.path)]["authorization"] == "AWS_IAM" for op in OPERATIONS)
