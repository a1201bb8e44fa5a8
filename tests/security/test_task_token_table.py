"""Attack: read a pending approval's task token from a function that has no business resuming the
workflow (issue 13, item 3). Asserted on the synthesized template: every IAM statement that could
touch the task-token table, and who has the table's name."""

import json

from infra.task_tokens import ENVIRONMENT, TTL_ATTRIBUTE
from tests.security.test_template import _actions, _resources, policies

# RequestApproval stores a token; the approval API, the sweeper and the console's "my approvals"
# (a signed-in approver decides there) hand it to Step Functions and remove it once used.
EXPECTED = {
    "request_approval": {"dynamodb:PutItem"},
    "approval_api": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    "approval_sweeper": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    "console": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
}


def _token_table(template: dict) -> str:
    [logical] = [k for k in _resources(template, "AWS::DynamoDB::Table") if k.startswith("TaskTokensTable")]
    return logical


def _module_of_role(template: dict) -> dict[str, str]:
    return {fn["Properties"]["Role"]["Fn::GetAtt"][0]: fn["Properties"]["Handler"].split(".")[2]
            for fn in _resources(template, "AWS::Lambda::Function").values()}


# Actions that read or change items (ListStreams on "*" reads nothing).
ITEM_ACTIONS = {f"dynamodb:{a}" for a in ("GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem",
                                          "DeleteItem", "BatchWriteItem", "ConditionCheckItem", "GetRecords",
                                          "PartiQLSelect", "PartiQLInsert", "PartiQLUpdate", "PartiQLDelete",
                                          "ExportTableToPointInTime", "RestoreTableToPointInTime")}


def _touches_token_table(statement: dict, logical: str) -> bool:
    """The statement names the table, or could reach its items through a wildcard resource."""
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    dynamodb = any(a in ITEM_ACTIONS or (a.endswith("*") and a.split(":")[0] in ("*", "dynamodb"))
                   for a in _actions(statement))
    wildcard = any(r == "*" or (isinstance(r, str) and ":dynamodb:" in r and "*" in r) for r in resources)
    return logical in json.dumps(resources) or (dynamodb and wildcard)


def test_only_the_approval_functions_may_touch_task_tokens_with_minimal_actions(template: dict) -> None:
    logical = _token_table(template)
    modules = _module_of_role(template)
    granted: dict[str, set[str]] = {}
    for policy in policies(template).values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if not _touches_token_table(statement, logical):
                continue
            assert statement["Effect"] == "Allow"
            roles = [r["Ref"] for r in policy["Properties"]["Roles"]]
            assert all(r in modules for r in roles), f"a role that is no function's touches task tokens: {roles}"
            for role in roles:
                granted.setdefault(modules[role], set()).update(_actions(statement))
    assert granted == EXPECTED
    # No table-wide reads or deletes on tokens, by anyone.
    assert not set().union(*granted.values()) & {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem",
                                                 "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"}


def test_no_other_principal_reaches_task_tokens_by_a_resource_policy_or_stream(template: dict) -> None:
    table = _resources(template, "AWS::DynamoDB::Table")[_token_table(template)]["Properties"]
    assert "ResourcePolicy" not in table and "StreamSpecification" not in table  # no stream to RecordFacts
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_only_the_token_holders_know_the_token_table(template: dict) -> None:
    knowing = {fn["Properties"]["Handler"].split(".")[2] for fn in _resources(template, "AWS::Lambda::Function").values()
               if ENVIRONMENT in fn["Properties"].get("Environment", {}).get("Variables", {})}
    assert knowing == set(EXPECTED)
