"""The link-signing key's scheduled rotation: a rotation schedule on the ApprovalSigningKey secret
that Secrets Manager runs with the RotateSigningKey function (handoff.handlers.rotate_signing_key),
and that function's grants, on that secret only.

Every link carries its key's id; after a rotation the previous key keeps verifying links for
PREVIOUS_KEY_VALID_DAYS. That window is at least as long as the longest link a key signs (a launch
packet's, 90 days) so that no link dies before its own expiry, and no longer than the rotation
interval, since the ring keeps one previous key only."""

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager

ROTATION_DAYS = 90
PREVIOUS_KEY_VALID_DAYS = 90
# What the four steps call (describe, read AWSCURRENT and AWSPENDING, put AWSPENDING, move AWSCURRENT);
# CDK's addRotationSchedule would also grant secretsmanager:GetRandomPassword on "*", which this
# function does not use (the key comes from Python's `secrets`).
ROTATION_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage")


def grant_rotation(secret: secretsmanager.ISecret, function: lambda_.Function) -> None:
    function.add_to_role_policy(iam.PolicyStatement(actions=list(ROTATION_ACTIONS), resources=[secret.secret_arn]))
    function.add_environment("PREVIOUS_KEY_VALID_DAYS", str(PREVIOUS_KEY_VALID_DAYS))


def schedule_rotation(stack: Stack, secret: secretsmanager.ISecret,
                      function: lambda_.Function) -> secretsmanager.CfnRotationSchedule:
    # Only Secrets Manager, for this account's secrets, may invoke the rotation function.
    function.add_permission("SecretsManagerRotates", principal=iam.ServicePrincipal("secretsmanager.amazonaws.com"),
                            source_account=stack.account)
    schedule = secretsmanager.CfnRotationSchedule(
        stack, "ApprovalSigningKeyRotation", secret_id=secret.secret_arn, rotation_lambda_arn=function.function_arn,
        rotation_rules=secretsmanager.CfnRotationSchedule.RotationRulesProperty(
            schedule_expression=f"rate({ROTATION_DAYS} days)"),
        # Deploying the schedule does not rotate at once: pending links keep their key until the first run.
        rotate_immediately_on_update=False,
    )
    schedule.node.add_dependency(function)
    return schedule
