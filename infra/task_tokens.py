"""The task-token table (issue 13): the Step Functions task token of each pending approval, kept out
of the handoff table (which most functions read) in a table of its own. Only the function that
stores a token (RequestApproval: PutItem) and those that hand a decision to Step Functions (the
approval API, the sweeper, the console's "my approvals": GetItem, and UpdateItem to remove a token
once used) have a grant on it; no Query, Scan or delete. Items expire by TTL after their task's
deadline, so an unused token does not outlive the workflow that waits for it."""

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

# What each use allows on the table; wiring.py names the uses per function.
TOKEN_WRITE = ("dynamodb:PutItem",)
TOKEN_USE = ("dynamodb:GetItem", "dynamodb:UpdateItem")
USES = {"task-tokens:write": TOKEN_WRITE, "task-tokens:use": TOKEN_USE}
ENVIRONMENT = "TASK_TOKENS_TABLE"
TTL_ATTRIBUTE = "expiresAtEpoch"


def task_tokens_table(stack: Stack) -> dynamodb.Table:
    return dynamodb.Table(
        stack, "TaskTokensTable",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=TTL_ATTRIBUTE,
        removal_policy=RemovalPolicy.RETAIN,
    )


def grant_task_tokens(table: dynamodb.Table, function: lambda_.Function, use: str) -> None:
    """The table's name only for the functions that may touch it, and exactly the use's actions."""
    function.add_environment(ENVIRONMENT, table.table_name)
    function.add_to_role_policy(iam.PolicyStatement(actions=list(USES[use]), resources=[table.table_arn]))
