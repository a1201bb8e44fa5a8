"""The console in the template: a Cognito user pool ready for SSO (hosted UI, code flow, no self
sign-up, MFA), one group per owner group, the console's own API whose routes reach only the Console
function, and the operators' API still on IAM."""

import json

from handoff.domain.work_items import OWNER_GROUPS
from infra.console import GROUP_LABELS, STAGE
from tests.infra.test_stack import _policy_actions, resources


def test_the_user_pool_is_for_staff_with_mfa_and_a_strong_password(template: dict) -> None:
    (pool,) = resources(template, "AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "ON"
    assert props["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert props["UsernameAttributes"] == ["email"]


def test_groups_are_the_owner_groups(template: dict) -> None:
    assert tuple(GROUP_LABELS) == OWNER_GROUPS
    groups = resources(template, "AWS::Cognito::UserPoolGroup").values()
    assert sorted(g["Properties"]["GroupName"] for g in groups) == sorted(OWNER_GROUPS)


def test_the_app_client_uses_the_hosted_ui_code_flow_back_to_the_console(template: dict) -> None:
    (client,) = resources(template, "AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props["AllowedOAuthFlows"] == ["code"] and props["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(props["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert props.get("GenerateSecret") in (None, False)  # PKCE: the function holds no client secret
    callback = str(props["CallbackURLs"])
    assert f"/{STAGE}/auth/callback" in callback and "ConsoleApi" in callback
    assert resources(template, "AWS::Cognito::UserPoolDomain")


def test_console_routes_reach_only_the_console_function_and_it_verifies_tokens_itself(template: dict) -> None:
    (api,) = [lid for lid in resources(template, "AWS::ApiGateway::RestApi") if lid.startswith("ConsoleApi")]
    console = next(lid for lid, f in resources(template, "AWS::Lambda::Function").items()
                   if f["Properties"]["Handler"] == "handoff.handlers.console.handler")
    methods = [m["Properties"] for m in resources(template, "AWS::ApiGateway::Method").values()
               if m["Properties"]["RestApiId"] == {"Ref": api}]
    assert sorted(m["HttpMethod"] for m in methods) == ["GET", "GET", "POST"]
    for method in methods:
        assert console in str(method["Integration"]["Uri"])
        assert method["AuthorizationType"] == "NONE"  # the session cookie is verified by the function
    env = resources(template, "AWS::Lambda::Function")[console]["Properties"]["Environment"]["Variables"]
    assert env["CONSOLE_AUTH"] == "cognito"
    assert {"COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_DOMAIN", "CONSOLE_SECRET_ARN"} <= set(env)
    (stage,) = [s for s in resources(template, "AWS::ApiGateway::Stage").values()
                if s["Properties"]["RestApiId"] == {"Ref": api}]
    assert stage["Properties"]["StageName"] == STAGE and "AccessLogSetting" in stage["Properties"]


def test_machines_keep_iam_on_the_operators_api(template: dict) -> None:
    operator_methods = [m["Properties"] for m in resources(template, "AWS::ApiGateway::Method").values()
                        if "handoff_api" in str(m) or "HandoffApi" in str(m["Properties"]["Integration"]["Uri"])]
    assert operator_methods and all(m["AuthorizationType"] == "AWS_IAM" for m in operator_methods)


def test_the_console_may_resubmit_decide_and_recover_with_the_recovery_apis_grants_only(template: dict) -> None:
    from tests.infra.test_recovery_stack import RECOVERY, _actions, _resources, _statements

    functions = resources(template, "AWS::Lambda::Function").values()
    console = next(f for f in functions if f["Properties"]["Handler"] == "handoff.handlers.console.handler")
    recovery = next(f for f in functions if f["Properties"]["Handler"] == RECOVERY)
    actions = _policy_actions(template, console["Properties"]["Role"]["Fn::GetAtt"][0])
    assert {"events:PutEvents", "states:SendTaskSuccess", "sqs:ReceiveMessage"} <= actions
    assert not any(a.startswith("ses:") for a in actions)

    # Its recovery page (platform group only) redrives and requeues with the recovery API's very grants:
    # deletes only from the dead-letter queues, sends only to their sources, invokes only their functions.
    def recovering(function: dict) -> dict[str, list]:
        granted: dict[str, list] = {}
        for statement in _statements(template, function):
            for action in _actions(statement):
                on = _resources(statement)
                if action.startswith("s3:"):  # the documents bucket's (the console also reads the analytics')
                    on = [r for r in on if "Documents" in json.dumps(r)]
                if on and action.startswith(("sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                             "sqs:StartMessageMoveTask", "sqs:SendMessage", "lambda:InvokeFunction",
                                             "s3:")):
                    granted.setdefault(action, []).extend(on)
        return granted

    console_grants = recovering(console)
    assert {"sqs:DeleteMessage", "sqs:SendMessage", "sqs:StartMessageMoveTask", "lambda:InvokeFunction",
            "s3:GetObject", "s3:DeleteObject", "s3:PutObject", "s3:ListBucket"} <= set(console_grants)
    assert console_grants == recovering(recovery)
    env = console["Properties"]["Environment"]["Variables"]
    assert env["REDRIVE_QUEUES"] == recovery["Properties"]["Environment"]["Variables"]["REDRIVE_QUEUES"]
    assert env["SQS_MESSAGE_MOVE"] == "move-task"
