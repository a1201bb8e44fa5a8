"""Security constructs of the handoff stack (issue 13): least-privilege grants, the WAF web ACL and
per-method throttling of the public approval routes, and each function's own scoped log policy.
The stack calls these in a few lines; what each grants is asserted on the template in tests/infra
and tests/security."""

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2

# DynamoDB data actions, without Scan, BatchWriteItem and DeleteItem: no function lists a table or
# removes items (a replaced exception list is overwritten, never deleted). Transactions are
# authorized per item as PutItem / UpdateItem / ConditionCheckItem.
TABLE_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
TABLE_WRITE = (*TABLE_READ, "dynamodb:PutItem", "dynamodb:UpdateItem")
# Powertools idempotency deletes its in-progress record when the function fails, so a retry may run.
IDEMPOTENCY_WRITE = (*TABLE_WRITE, "dynamodb:DeleteItem")

# The public approval routes: a person clicks a link a few times; scanners and scripts are slowed.
APPROVAL_RATE_PER_SECOND = 5
APPROVAL_BURST = 10
# Requests per 5 minutes from one IP address before WAF blocks it (the minimum WAF takes is 10).
RATE_LIMIT_PER_IP = 300
# Quarantined events hold personal data: kept long enough for an operator to read and replay them.
QUARANTINE_DAYS = 30
NONCURRENT_VERSION_DAYS = 30
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesAmazonIpReputationList")


def document_lifecycle_rules() -> list[s3.LifecycleRule]:
    """Quarantined events expire; overwritten or deleted versions of any document do too (a versioned
    bucket would otherwise keep every quarantined event forever as a noncurrent version)."""
    return [
        s3.LifecycleRule(id="QuarantineExpiry", prefix="quarantine/", expiration=Duration.days(QUARANTINE_DAYS)),
        s3.LifecycleRule(id="NoncurrentVersions", noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                         abort_incomplete_multipart_upload_after=Duration.days(1),
                         expired_object_delete_marker=True),
    ]


def grant_table(table: dynamodb.Table, grantee: iam.IGrantable, actions: tuple[str, ...]) -> None:
    table.grant(grantee, *actions)  # the table and its indexes


def grant_put_events(bus: events.EventBus, grantee: iam.IGrantable, publishes: tuple[tuple[str, str], ...]) -> None:
    """PutEvents on the stack's bus, only with the sources and detail-types the function publishes
    (a source may end in `*`: the operators' API republishes CRM events under the CRM's source)."""
    if not publishes:
        raise ValueError("bus:put needs the (source, detail-type) pairs the function publishes")
    sources = sorted({source for source, _ in publishes})
    conditions: dict[str, dict[str, list[str]]] = {
        "StringEquals": {"events:detail-type": sorted({detail_type for _, detail_type in publishes})}}
    if any("*" in source for source in sources):
        conditions["StringLike"] = {"events:source": sources}
    else:
        conditions["StringEquals"]["events:source"] = sources
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=["events:PutEvents"], resources=[bus.event_bus_arn], conditions=conditions))


def state_machine_arn(stack: Stack, name: str) -> str:
    """The workflow's ARN built from its name: granting SendTask* on it needs no reference to the
    state machine, which itself depends on the functions (a cycle)."""
    return stack.format_arn(service="states", resource="stateMachine", resource_name=name,
                            arn_format=ArnFormat.COLON_RESOURCE_NAME)


def grant_callbacks(stack: Stack, grantee: iam.IGrantable, machine_name: str) -> None:
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
        resources=[state_machine_arn(stack, machine_name)],
    ))


def function_role(stack: Stack, logical_name: str, log_group: logs.LogGroup) -> iam.Role:
    """A function's role with logs granted on its own log group only (AWSLambdaBasicExecutionRole
    would allow logs:* on every log group of the account)."""
    role = iam.Role(stack, f"{logical_name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                    description=f"{logical_name}: its own log group and the grants in infra/wiring.py")
    role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                           resources=[log_group.log_group_arn]))
    return role


def approval_method_throttling() -> dict[str, apigw.MethodDeploymentOptions]:
    """Stage method settings: tighter limits on the public approval routes than the stage's default."""
    return {f"/approvals/{{approvalId}}/{method}": apigw.MethodDeploymentOptions(
        throttling_rate_limit=APPROVAL_RATE_PER_SECOND, throttling_burst_limit=APPROVAL_BURST)
        for method in ("GET", "POST")}


def _managed(priority: int, name: str, scope_down: wafv2.CfnWebACL.StatementProperty | None,
             ) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name, priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=(
            wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(vendor_name="AWS", name=name,
                                                              scope_down_statement=scope_down))),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(name),
    )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(cloud_watch_metrics_enabled=True, metric_name=name,
                                                    sampled_requests_enabled=True)


def _approval_paths() -> wafv2.CfnWebACL.StatementProperty:
    """Requests to /approvals/... (the body rules would block corrected events of the IAM-signed
    operators' API, which may reach EventBridge's 256 KiB)."""
    return wafv2.CfnWebACL.StatementProperty(byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), positional_constraint="CONTAINS",
        search_string="/approvals/",
        text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")]))


def web_acl(stack: Stack, stage: apigw.Stage) -> wafv2.CfnWebACL:
    """A regional web ACL on the API stage: AWS managed rule groups (common exploits and bad inputs
    on the approval routes, known-bad IP addresses everywhere) and a per-IP rate limit."""
    rules = [
        _managed(0, "AWSManagedRulesAmazonIpReputationList", None),
        _managed(1, "AWSManagedRulesCommonRuleSet", _approval_paths()),
        _managed(2, "AWSManagedRulesKnownBadInputsRuleSet", _approval_paths()),
        wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp", priority=3,
            statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=(
                wafv2.CfnWebACL.RateBasedStatementProperty(limit=RATE_LIMIT_PER_IP, aggregate_key_type="IP"))),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            visibility_config=_visibility("RateLimitPerIp"),
        ),
    ]
    acl = wafv2.CfnWebACL(stack, "ApiWebAcl", scope="REGIONAL",
                          default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
                          visibility_config=_visibility("HandoffApi"), rules=rules,
                          description="Approval links and operators API - managed rules and a rate limit")
    wafv2.CfnWebACLAssociation(stack, "ApiWebAclAssociation", resource_arn=stage.stage_arn,
                               web_acl_arn=acl.attr_arn)
    return acl
