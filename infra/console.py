"""The operations console: its own REST API (stage `console`) in front of the Console function,
and the Cognito user pool people sign in with (hosted UI, authorization code flow with PKCE; ready
to federate with the firm's SSO through SAML or OIDC identity providers added to the pool). Its
groups are the work queue's owner groups. The function verifies the ID token itself: a browser
carries it in a cookie, which API Gateway's Cognito authorizer does not read."""

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2

STAGE = "console"
# The work queue's owner groups (handoff.domain.work_items.GROUP_LABELS; a test keeps them equal).
# Not imported: the stack is synthesized without the functions' code on the path.
GROUP_LABELS = {"legal": "Legal", "finance": "Finance", "procurement": "Procurement",
                "sales-operations": "Sales operations", "data-steward": "Data steward", "platform": "Platform"}


def wire_console(stack: Stack) -> None:
    ctx = stack.node.try_get_context
    function = stack.functions["Console"]
    stack.console_secret = secretsmanager.Secret(
        stack, "ConsoleFormKey", description="HMAC key of the console's CSRF tokens",
        generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True))
    stack.console_secret.grant_read(function)

    access_logs = logs.LogGroup(stack, "ConsoleApiAccessLogs", retention=logs.RetentionDays.ONE_MONTH,
                                removal_policy=RemovalPolicy.DESTROY)
    stack.console_api = apigw.RestApi(
        stack, "ConsoleApi", description="The operations console (pages for people; Cognito sign-in)",
        endpoint_types=[apigw.EndpointType.REGIONAL], cloud_watch_role=False,
        deploy_options=apigw.StageOptions(
            stage_name=STAGE, tracing_enabled=True, logging_level=apigw.MethodLoggingLevel.ERROR,
            throttling_rate_limit=20, throttling_burst_limit=40,
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=False, http_method=True, ip=True, protocol=True, request_time=True, resource_path=True,
                response_length=True, status=True, user=False)),
    )
    # The stack's web ACL (IP reputation, per-IP rate limit) guards the console's stage too.
    wafv2.CfnWebACLAssociation(stack, "ConsoleWebAclAssociation", resource_arn=stack.console_api.deployment_stage.stage_arn,
                               web_acl_arn=stack.web_acl.attr_arn)
    validator = stack.console_api.add_request_validator("ConsoleValidateParameters", validate_request_parameters=True,
                                                           validate_request_body=True)
    integration = apigw.LambdaIntegration(function)
    proxy = stack.console_api.root.add_resource("{proxy+}")
    stack.console_methods = [stack.console_api.root.add_method("GET", integration, request_validator=validator)] + [
        proxy.add_method(method, integration, request_validator=validator,
                         request_parameters={"method.request.path.proxy": True}) for method in ("GET", "POST")]

    stack.user_pool = cognito.UserPool(
        stack, "ConsoleUsers", user_pool_name=ctx("consoleUserPoolName") or None,
        self_sign_up_enabled=False, sign_in_aliases=cognito.SignInAliases(email=True),
        standard_attributes=cognito.StandardAttributes(email=cognito.StandardAttribute(required=True, mutable=True),
                                                       fullname=cognito.StandardAttribute(required=False)),
        mfa=cognito.Mfa.REQUIRED, mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        password_policy=cognito.PasswordPolicy(min_length=12, require_digits=True, require_lowercase=True,
                                               require_uppercase=True, require_symbols=True,
                                               temp_password_validity=Duration.days(3)),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY, removal_policy=RemovalPolicy.RETAIN,
    )
    stack.console_groups = {
        group: cognito.CfnUserPoolGroup(stack, f"ConsoleGroup{group.title().replace('-', '')}",
                                        user_pool_id=stack.user_pool.user_pool_id, group_name=group,
                                        description=f"{GROUP_LABELS[group]}: works its items in the queue")
        for group in GROUP_LABELS}
    domain = stack.user_pool.add_domain("ConsoleSignIn", cognito_domain=cognito.CognitoDomainOptions(
        domain_prefix=ctx("consoleDomainPrefix") or f"closed-won-console-{stack.account}"))
    # Built from the API's id, not its URL: the URL depends on the deployment, which depends on the
    # methods, the function and its environment (the client id): a cycle.
    base = f"https://{stack.console_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{STAGE}/"
    stack.console_client = stack.user_pool.add_client(
        "ConsoleClient", generate_secret=False, prevent_user_existence_errors=True,
        auth_flows=cognito.AuthFlow(user_srp=True),
        o_auth=cognito.OAuthSettings(flows=cognito.OAuthFlows(authorization_code_grant=True),
                                     scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL,
                                             cognito.OAuthScope.PROFILE],
                                     callback_urls=[f"{base}auth/callback"], logout_urls=[base]),
        id_token_validity=Duration.hours(1), access_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.hours(8),
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
    )
    for name, value in {"CONSOLE_AUTH": "cognito", "COGNITO_USER_POOL_ID": stack.user_pool.user_pool_id,
                        "COGNITO_CLIENT_ID": stack.console_client.user_pool_client_id,
                        "COGNITO_DOMAIN": domain.base_url(),
                        "CONSOLE_SECRET_ARN": stack.console_secret.secret_arn}.items():
        function.add_environment(name, value)
    # The digest links the work queue; the approval API sends approvers decided by sign-in to the console.
    for name in ("WorkQueueDigest", "ApprovalApi"):
        stack.functions[name].add_environment("CONSOLE_URL", base.rstrip("/"))
