"""Attacks on the synthesized IAM and the public edge, asserted on the template `cdk deploy` uses:
who may resume a workflow, who may list or delete data, what may be put on the bus, what limits
the public routes, and that the local runtime leaves out WAF on purpose, not by accident."""

import json
from typing import Any

import pytest

from infra import security
from local.provision import NOT_EMULATED, UnsupportedTemplate


def _resources(template: dict, cfn_type: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type}


# A role's policy CDK splits when it grows past IAM's inline size goes on in a managed policy
# ("OverflowPolicy"): both kinds hold a function's grants.
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def policies(template: dict) -> dict[str, dict]:
    """Every policy attached to roles, inline or managed (each with its Roles)."""
    return {k: v for t in POLICY_TYPES for k, v in _resources(template, t).items() if v["Properties"].get("Roles")}


def _statements(template: dict, module: str | None = None) -> list[dict]:
    """Every policy statement (of one function's role, when module is given)."""
    roles = None
    if module:
        fn = next(f for f in _resources(template, "AWS::Lambda::Function").values()
                  if f["Properties"]["Handler"] == f"handoff.handlers.{module}.handler")
        roles = {fn["Properties"]["Role"]["Fn::GetAtt"][0]}
    found = []
    for policy in policies(template).values():
        if roles is None or roles & {r.get("Ref") for r in policy["Properties"]["Roles"]}:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_every_policy_is_attached_to_roles_so_these_tests_read_it(template: dict) -> None:
    """CDK moves what does not fit a role's inline policy to an attached managed policy: the helpers
    above read both kinds by their Roles, so none may hold grants unattached or for a user or group."""
    for policy in (p for t in POLICY_TYPES for p in _resources(template, t).values()):
        props = policy["Properties"]
        assert props.get("Roles") and not props.get("Users") and not props.get("Groups"), props


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_send_task_callbacks_are_scoped_to_the_handoff_state_machine(template: dict) -> None:
    [machine] = _resources(template, "AWS::StepFunctions::StateMachine").values()
    name = machine["Properties"]["StateMachineName"]
    callbacks = [s for s in _statements(template) if any(a.startswith("states:SendTask") for a in _actions(s))]
    assert callbacks
    for statement in callbacks:
        resource = json.dumps(statement["Resource"])
        assert f":stateMachine:{name}" in resource and "stateMachine:*" not in resource
    holders = {m for m in ("approval_api", "approval_sweeper", "request_approval", "setup_billing")
               if any(a.startswith("states:SendTask") for s in _statements(template, m) for a in _actions(s))}
    assert holders == {"approval_api", "approval_sweeper"}


def test_no_function_may_scan_batch_write_or_delete_business_tables(template: dict) -> None:
    idempotency = next(k for k in _resources(template, "AWS::DynamoDB::Table") if k.startswith("Idempotency"))
    for statement in _statements(template):
        risky = {a for a in _actions(statement) if a in {"dynamodb:Scan", "dynamodb:BatchWriteItem",
                                                           "dynamodb:DeleteItem", "dynamodb:BatchGetItem"}}
        if not risky:
            continue
        # Powertools idempotency removes its in-progress record when a function fails; nothing else deletes.
        assert risky == {"dynamodb:DeleteItem"} and idempotency in json.dumps(statement["Resource"]), statement


@pytest.mark.parametrize(("module", "sources", "detail_types"), [
    ("activate_handoff", {"StringEquals": ["closed-won-handoff"]}, ["Handoff Activated"]),
    ("handoff_api", {"StringLike": ["crm.*"]}, ["Opportunity Closed Won"]),
])
def test_put_events_is_limited_to_what_each_function_publishes(template: dict, module: str, sources: dict,
                                                                detail_types: list[str]) -> None:
    [statement] = [s for s in _statements(template, module) if "events:PutEvents" in _actions(s)]
    conditions = statement["Condition"]
    assert conditions["StringEquals"]["events:detail-type"] == detail_types
    [(operator, allowed)] = sources.items()
    assert conditions[operator]["events:source"] == allowed
    others = [s for s in _statements(template) if "events:PutEvents" in _actions(s) and "Condition" not in s]
    assert others == []


def test_functions_log_to_their_own_log_group_not_every_log_group(template: dict) -> None:
    for role in _resources(template, "AWS::IAM::Role").values():
        assert "AWSLambdaBasicExecutionRole" not in json.dumps(role["Properties"].get("ManagedPolicyArns", []))
    groups = _resources(template, "AWS::Logs::LogGroup")
    for fn in _resources(template, "AWS::Lambda::Function").values():
        group = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        module = fn["Properties"]["Handler"].split(".")[2]
        logs = [s for s in _statements(template, module) if any(a.startswith("logs:") for a in _actions(s))]
        assert logs and all(s["Resource"] == {"Fn::GetAtt": [group, "Arn"]} for s in logs), module
        assert group in groups


def test_public_approval_routes_are_behind_waf_with_managed_rules_and_a_rate_limit(template: dict) -> None:
    [acl] = _resources(template, "AWS::WAFv2::WebACL").values()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    for group in security.MANAGED_RULE_GROUPS:
        assert rules[group]["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
    rate = rules["RateLimitPerIp"]
    assert rate["Statement"]["RateBasedStatement"] == {"Limit": security.RATE_LIMIT_PER_IP, "AggregateKeyType": "IP"}
    assert "Block" in rate["Action"]
    # Every stage: the approval links and operators' API, and the console.
    associations = json.dumps([a["Properties"]["ResourceArn"]
                               for a in _resources(template, "AWS::WAFv2::WebACLAssociation").values()])
    stages = _resources(template, "AWS::ApiGateway::Stage")
    assert len(stages) == 2 and all(stage_id in associations for stage_id in stages)


def test_approval_routes_have_their_own_throttling(template: dict) -> None:
    [stage] = [s for s in _resources(template, "AWS::ApiGateway::Stage").values()
               if s["Properties"]["RestApiId"]["Ref"].startswith("ApprovalApi")]
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in stage["Properties"]["MethodSettings"]}
    for method in ("GET", "POST"):
        setting = settings[(method, "/~1approvals~1{approvalId}")]
        assert setting["ThrottlingRateLimit"] == security.APPROVAL_RATE_PER_SECOND
        assert setting["ThrottlingBurstLimit"] == security.APPROVAL_BURST


def test_local_runtime_skips_waf_deliberately_and_still_refuses_unknown_types(template: dict) -> None:
    from local.provision import Provisioner

    waf_types = {r["Type"] for r in template["Resources"].values() if r["Type"].startswith("AWS::WAFv2::")}
    assert waf_types and waf_types <= NOT_EMULATED
    acl_only = {"Resources": {k: v for k, v in template["Resources"].items() if v["Type"] in NOT_EMULATED}}
    provisioned = Provisioner(acl_only, api_base_url="http://127.0.0.1:1").provision()
    assert set(provisioned.types.values()) == waf_types and provisioned.physical == {}
    unknown: dict[str, Any] = {"Resources": {"Ipset": {"Type": "AWS::WAFv2::IPSet", "Properties": {}}}}
    with pytest.raises(UnsupportedTemplate, match="AWS::WAFv2::IPSet"):
        Provisioner(unknown, api_base_url="http://127.0.0.1:1").provision()
