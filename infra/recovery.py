"""Recovery: the bus archive, and the RecoveryApi function's routes, configuration and grants:
redrive the dead-letter queues (GET /dead-letters, POST /dead-letters/{queue}/redrive), replay a
window of the archive (POST /replays, GET /replays/{replayName}) and requeue the quarantine
(POST /quarantine/requeue). Called once by HandoffStack after everything it refers to exists. The
redrive's and the requeue's grants and configuration go to every function whose wiring uses
`dead-letters:redrive` / `quarantine:requeue` (the recovery API and the console's recovery page).

Functions invoked asynchronously are named (`infra.dead_letters.async_function_name`), and their ARNs built from the
names: they carry the API's URL, and the API's methods depend on the RecoveryApi function, so a
reference to them from its configuration or policy would be a dependency cycle."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam

from infra.dead_letters import dead_letter_queues
from infra.wiring import FUNCTIONS

if TYPE_CHECKING:
    from infra.stack import HandoffStack

FUNCTION = "RecoveryApi"
# How long the bus archive keeps events (context `archiveRetentionDays`): a replay reaches this far back.
DEFAULT_ARCHIVE_RETENTION_DAYS = 30
ARCHIVE_RETENTION_CONTEXT = "archiveRetentionDays"


def archive_retention_days(value: Any) -> int:
    """The context value: a whole number of days, at least 1 (absent: the default)."""
    from infra.configuration import ContextError

    if value is None or value == "":
        return DEFAULT_ARCHIVE_RETENTION_DAYS
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ContextError(ARCHIVE_RETENTION_CONTEXT, f"must be a whole number of days, at least 1; got {value!r}")
    return int(text)


def _function_arn(stack: Stack, name: str) -> str:
    return stack.format_arn(service="lambda", resource="function", resource_name=name,
                            arn_format=ArnFormat.COLON_RESOURCE_NAME)


def add_recovery(stack: "HandoffStack") -> None:
    function = stack.functions[FUNCTION]
    # Every function the wiring says redrives or requeues (the recovery API, the console's recovery page).
    for spec in FUNCTIONS:
        if "quarantine:requeue" in spec.uses:
            _grant_quarantine(stack, stack.functions[spec.logical_name])
        if "dead-letters:redrive" in spec.uses:
            _grant_redrive(stack, stack.functions[spec.logical_name])
    _archive(stack, function)
    integration = apigw.LambdaIntegration(function)
    root = stack.api.root
    requeue = root.add_resource("quarantine").add_resource("requeue")
    dead_letters = root.add_resource("dead-letters")
    redrive = dead_letters.add_resource("{queue}").add_resource("redrive")
    replays = root.add_resource("replays")
    for resource, method, parameters in ((requeue, "POST", None), (dead_letters, "GET", None),
                                         (redrive, "POST", {"method.request.path.queue": True}),
                                         (replays, "POST", None),
                                         (replays.add_resource("{replayName}"), "GET",
                                          {"method.request.path.replayName": True})):
        stack.operator_methods.append(resource.add_method(
            method, integration, authorization_type=apigw.AuthorizationType.IAM, request_validator=stack.validator,
            request_parameters=parameters))


def _archive(stack: "HandoffStack", function: Any) -> None:
    """Every CRM event the bus takes is archived; the recovery API replays a window of it onto the bus."""
    days = archive_retention_days(stack.node.try_get_context(ARCHIVE_RETENTION_CONTEXT))
    stack.archive = stack.bus.archive(
        "CrmEventArchive", description="Every CRM event the bus took, for replays of a time window",
        event_pattern=events.EventPattern(source=events.Match.prefix("crm.")), retention=Duration.days(days))
    for name, value in (("ARCHIVE_NAME", stack.archive.archive_name), ("ARCHIVE_ARN", stack.archive.archive_arn),
                        ("EVENT_BUS_ARN", stack.bus.event_bus_arn), ("REPLAY_NAME_PREFIX", stack.stack_name)):
        function.add_environment(name, value)
    function.add_to_role_policy(iam.PolicyStatement(actions=["events:StartReplay", "events:DescribeArchive"],
                                                    resources=[stack.archive.archive_arn]))
    function.add_to_role_policy(iam.PolicyStatement(actions=["events:DescribeReplay"], resources=[
        replay_arn(stack)]))


def replay_arn(stack: Stack) -> str:
    """The replays this stack's API starts: named <stack>-<window>-<random> (a name per replay)."""
    return stack.format_arn(service="events", resource="replay", resource_name=f"{stack.stack_name}-*")


def _grant_quarantine(stack: "HandoffStack", function: Any) -> None:
    bucket = stack.documents
    # Read and remove quarantined events, keep the requeued ones under requeued/: nothing else.
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                                                    conditions={"StringLike": {"s3:prefix": ["quarantine/*"]}}))
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject", "s3:DeleteObject"],
                                                    resources=[bucket.arn_for_objects("quarantine/*")]))
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"],
                                                    resources=[bucket.arn_for_objects("requeued/*")]))


def _grant_redrive(stack: "HandoffStack", function: Any) -> None:
    queues = dead_letter_queues(stack)
    config = {name: [queue.queue_url, kind, source.queue_url if kind == "queue" else source or ""]
              for name, (queue, kind, source) in queues.items()}
    function.add_environment("REDRIVE_QUEUES", stack.to_json_string(config))
    # SQS's own redrive of queue-sourced dead letters (the embedded runtime sets receive-send: moto has none).
    function.add_environment("SQS_MESSAGE_MOVE", "move-task")
    add = function.add_to_role_policy
    # The dead-letter queues, each named: read, hide while re-sending, delete once re-sent.
    add(iam.PolicyStatement(
        actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        resources=[q.queue_arn for q, _, _ in queues.values()]))
    from_queues = [(q, source) for q, kind, source in queues.values() if kind == "queue"]
    # SQS's redrive of a queue's dead letters back to it: the move task runs as the caller.
    add(iam.PolicyStatement(actions=["sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks"],
                            resources=[q.queue_arn for q, _ in from_queues]))
    # The source queues, and the exceptions queue, a rule's target whose failures land in UndeliveredEvents.
    targets = {s.node.path: s for _, s in from_queues} | {stack.exceptions.node.path: stack.exceptions}
    add(iam.PolicyStatement(actions=["sqs:SendMessage", "sqs:GetQueueUrl"],
                            resources=[q.queue_arn for q in targets.values()]))
    # Asynchronous functions: their own DLQs, and rule targets (TrackPipeline) of UndeliveredEvents.
    add(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                            resources=[_function_arn(stack, s) for _, kind, s in queues.values() if kind == "function"]))


def acknowledge(stack: "HandoffStack", ack: Callable[[Any, str, str], None]) -> None:
    documents = stack.get_logical_id(stack.documents.node.default_child)
    ack(stack, f"IAM5[Resource::<{documents}.Arn>/requeued/*]",
        "Put of re-ingested events under the requeued prefix of the stack's own bucket; keys are per event.")
    ack(stack, f"IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:replay/"
                                   f"{stack.stack_name}-*]",
        "DescribeReplay on the replays this API starts: each gets a new name under the stack's prefix, so they can "
        "only be granted by prefix.")
