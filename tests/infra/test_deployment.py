"""Deploy-time configuration and account-wide settings: SSM parameters validated at synth, names
per stage, the platform team's API Gateway role, vended log group, cross-account CRM publishers,
API timeouts."""

import json
from pathlib import Path

import pytest

from infra.configuration import ContextError
from infra.wiring import API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS, FUNCTIONS
from tests.infra.test_stack import function_logical_id, resources

ROOT = Path(__file__).resolve().parents[2]


def synth(nag: bool = True, **context: object) -> dict:
    from app import build_app
    from local.template import LOCAL_CONTEXT, cdk_context

    app, stack = build_app({**cdk_context(), "aws:cdk:bundling-stacks": LOCAL_CONTEXT["aws:cdk:bundling-stacks"],
                            **context}, nag=nag)
    artifact = app.synth().get_stack_by_name(stack.stack_name)
    assert [m for m in artifact.messages if str(m.level).endswith("ERROR")] == []
    return artifact.template


def parameters(template: dict) -> dict[str, dict]:
    return {p["Properties"]["Name"]: p["Properties"] for p in resources(template, "AWS::SSM::Parameter").values()}


def environment(template: dict, module: str) -> dict:
    fn = resources(template, "AWS::Lambda::Function")[function_logical_id(template, module)]
    return fn["Properties"]["Environment"]["Variables"]


def test_configuration_is_in_parameter_store_with_the_repos_files_as_defaults(template: dict) -> None:
    found = parameters(template)
    playbooks = sorted(p.stem for p in (ROOT / "functions/handoff/playbooks").glob("*.yaml"))
    assert set(found) == {"/ClosedWonHandoff/approvers", "/ClosedWonHandoff/delivery-leads-email",
                          "/ClosedWonHandoff/systems-config",
                          *(f"/ClosedWonHandoff/playbooks/{stem}" for stem in playbooks)}
    assert found["/ClosedWonHandoff/approvers"]["Value"] == (ROOT / "functions/handoff/config/approvers.yaml").read_text()
    common = found["/ClosedWonHandoff/playbooks/_common"]
    assert common["Value"] == (ROOT / "functions/handoff/playbooks/_common.yaml").read_text()
    # Over 4 KB: the advanced tier (8 KB); the others stay standard.
    assert common["Tier"] == "Advanced" and found["/ClosedWonHandoff/approvers"]["Tier"] == "Standard"
    assert found["/ClosedWonHandoff/delivery-leads-email"]["Value"] == "delivery-leads@example.com"
    # The write-back goes to the CRM a deal came from (infra/intake.py) unless systemsConfig names a crm.
    assert json.loads(found["/ClosedWonHandoff/systems-config"]["Value"]) == {"crm": {"adapter": "crm_intake"}}
    # The functions are told where the parameters are, never the values (no 4 KB environment).
    env = environment(template, "check_readiness")
    assert env["APPROVERS_PARAMETER"] == "/ClosedWonHandoff/approvers"
    assert env["PLAYBOOKS_PARAMETER_PATH"] == "/ClosedWonHandoff/playbooks"
    assert env["SYSTEMS_CONFIG_PARAMETER"] == "/ClosedWonHandoff/systems-config"
    assert env["DELIVERY_LEADS_PARAMETER"] == "/ClosedWonHandoff/delivery-leads-email"
    for fn in resources(template, "AWS::Lambda::Function").values():
        assert not {"SYSTEMS_CONFIG", "DELIVERY_LEADS_EMAIL"} & set(fn["Properties"]["Environment"]["Variables"])


def _ssm_resources(template: dict, module: str) -> str:
    fn = resources(template, "AWS::Lambda::Function")[function_logical_id(template, module)]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    return json.dumps([st for p in resources(template, "AWS::IAM::Policy").values()
                       if {"Ref": role} in p["Properties"]["Roles"]
                       for st in p["Properties"]["PolicyDocument"]["Statement"]
                       if any(a.startswith("ssm:") for a in (st["Action"] if isinstance(st["Action"], list)
                                                              else [st["Action"]]))])


def test_each_function_reads_only_the_parameters_it_uses(template: dict) -> None:
    ids = {p["Properties"]["Name"].rsplit("/ClosedWonHandoff/", 1)[1]: logical
           for logical, p in resources(template, "AWS::SSM::Parameter").items()}
    readiness = _ssm_resources(template, "check_readiness")
    assert ids["approvers"] in readiness and ids["playbooks/advisory"] in readiness
    assert ":parameter/ClosedWonHandoff/playbooks" in readiness  # GetParametersByPath on the path
    assert ids["systems-config"] not in readiness
    assert ids["systems-config"] in _ssm_resources(template, "sync_customer")
    assert ids["approvers"] not in _ssm_resources(template, "sync_customer")
    assert ids["delivery-leads-email"] in _ssm_resources(template, "assemble_launch_packet")
    assert _ssm_resources(template, "approval_api") == "[]"
    assert _ssm_resources(template, "handoff_api") == "[]"


def test_the_state_machine_logs_to_a_vended_log_group(template: dict) -> None:
    machine = next(iter(resources(template, "AWS::StepFunctions::StateMachine").values()))["Properties"]
    [destination] = machine["LoggingConfiguration"]["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    name = template["Resources"][group]["Properties"]["LogGroupName"]
    assert name == "/aws/vendedlogs/states/ClosedWonHandoff-HandoffWorkflow"


def test_functions_behind_api_gateway_finish_inside_its_integration_timeout(template: dict) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    behind = [s for s in FUNCTIONS if s.behind_api]
    assert behind
    for spec in behind:
        timeout = functions[function_logical_id(template, spec.module)]["Properties"]["Timeout"]
        assert timeout < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS == 29, spec.logical_name
    for method in resources(template, "AWS::ApiGateway::Method").values():
        assert method["Properties"]["Integration"].get("TimeoutInMillis", 29000) <= 29000


def test_a_stage_names_its_bus_leaves_the_api_gateway_role_to_the_platform_and_lets_a_crm_account_publish() -> None:
    template = synth(eventBusName="closed-won-handoffs-staging", apiGatewayCloudWatchRole="false",
                     crmPublisherAccounts='["111122223333", "444455556666"]', parameterPrefix="/handoff/staging")
    names = [b["Properties"]["Name"] for b in resources(template, "AWS::Events::EventBus").values()]
    assert "closed-won-handoffs-staging" in names and "closed-won-handoffs" not in names
    assert resources(template, "AWS::ApiGateway::Account") == {}
    assert not [r for r in resources(template, "AWS::IAM::Role").values()
                if "apigateway.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])]
    policies = [p["Properties"] for p in resources(template, "AWS::Events::EventBusPolicy").values()]
    principals = sorted(json.dumps(p["Statement"]["Principal"]["AWS"]).split(":iam::")[1][:12] for p in policies)
    assert principals == ["111122223333", "444455556666"]
    for statement in (p["Statement"] for p in policies):
        assert statement["Action"] == "events:PutEvents"
        assert statement["Condition"] == {"StringLike": {"events:source": "crm.*"}}
    assert "/handoff/staging/approvers" in parameters(template)


def test_the_default_deployment_creates_the_api_gateway_role_and_no_bus_policy(template: dict) -> None:
    assert len(resources(template, "AWS::ApiGateway::Account")) == 1
    assert resources(template, "AWS::Events::EventBusPolicy") == {}


@pytest.mark.parametrize(("context", "key", "words"), [
    ({"deliveryLeadsEmail": "delivery leads"}, "deliveryLeadsEmail", "not an email address"),
    ({"systemsConfig": {"erp": {"adapter": "rest"}}}, "systemsConfig", "unknown systems ['erp']"),
    ({"systemsConfig": {"billing": {"adapter": "soap"}}}, "systemsConfig.billing.adapter", "unknown adapter 'soap'"),
    ({"systemsConfig": {"billing": {"adapter": "rest", "name": "ERP"}}}, "systemsConfig.billing.base_url",
     "Field required"),
    ({"crmPublisherAccounts": ["1234"]}, "crmPublisherAccounts", "12-digit"),
    ({"apiGatewayCloudWatchRole": "no"}, "apiGatewayCloudWatchRole", "true or false"),
    ({"approversFile": "tests/fixtures/closed-won/emea-milestone-erp-rollout.json"}, "approversFile", "approvers"),
])
def test_a_bad_configuration_fails_the_synth_naming_the_key(context: dict, key: str, words: str) -> None:
    with pytest.raises(ContextError) as raised:
        synth(nag=False, **context)
    assert raised.value.key == key
    assert str(raised.value).startswith(f"context {key}: ") and words in str(raised.value)


def test_a_broken_playbook_fails_the_synth_naming_the_file_and_key(tmp_path: Path) -> None:
    for source in (ROOT / "functions/handoff/playbooks").glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text())
    advisory = tmp_path / "advisory.yaml"
    advisory.write_text(advisory.read_text() + "\nsurprise_key: 1\n")
    with pytest.raises(ContextError) as raised:
        synth(nag=False, playbooksDirectory=str(tmp_path))
    assert raised.value.key == "playbooksDirectory"
    assert "advisory: surprise_key: unknown key" in str(raised.value)
