"""Recovery: the RecoveryApi function's route and grants (requeue the quarantine). Called once by
HandoffStack after the API and the documents bucket exist."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam

if TYPE_CHECKING:
    from infra.stack import HandoffStack

FUNCTION = "RecoveryApi"


def add_recovery(stack: "HandoffStack") -> None:
    function = stack.functions[FUNCTION]
    bucket = stack.documents
    # Read and remove quarantined events, keep the requeued ones under requeued/: nothing else.
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                                                    conditions={"StringLike": {"s3:prefix": ["quarantine/*"]}}))
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject", "s3:DeleteObject"],
                                                    resources=[bucket.arn_for_objects("quarantine/*")]))
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"],
                                                    resources=[bucket.arn_for_objects("requeued/*")]))
    integration = apigw.LambdaIntegration(function)
    requeue = stack.api.root.add_resource("quarantine").add_resource("requeue")
    stack.operator_methods.append(requeue.add_method(
        "POST", integration, authorization_type=apigw.AuthorizationType.IAM, request_validator=stack.validator))


def acknowledge(stack: "HandoffStack", ack: Callable[[Any, str, str], None]) -> None:
    documents = stack.get_logical_id(stack.documents.node.default_child)
    ack(stack, f"IAM5[Resource::<{documents}.Arn>/requeued/*]",
        "Put of re-ingested events under the requeued prefix of the stack's own bucket; keys are per event.")
