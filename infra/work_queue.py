"""The exceptions work queue's infrastructure: its table, the exceptions queue as the intake's
event source (partial batch failures), the daily digest schedule, and read access to every
dead-letter queue for the functions that record dead-lettered messages as work items."""

import json
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources

from infra.dead_letters import dead_letter_queues
from infra.wiring import FUNCTIONS

if TYPE_CHECKING:
    from infra.stack import HandoffStack

# Lambda's guidance: the source queue's visibility timeout at least six times the function's.
INTAKE_VISIBILITY = Duration.minutes(3)


def work_items_table(stack: Stack) -> dynamodb.Table:
    def key(name: str) -> dynamodb.Attribute:
        return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)

    table = dynamodb.Table(
        stack, "WorkItemsTable", partition_key=key("pk"), billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        encryption=dynamodb.TableEncryption.AWS_MANAGED, removal_policy=RemovalPolicy.RETAIN,
    )
    table.add_global_secondary_index(index_name="byQueue", partition_key=key("queueKey"), sort_key=key("dueAt"))
    table.add_global_secondary_index(index_name="byHandoff", partition_key=key("handoffId"), sort_key=key("pk"))
    return table


def wire_work_queue(stack: "HandoffStack") -> None:
    stack.exceptions.node.default_child.visibility_timeout = INTAKE_VISIBILITY.to_seconds()
    stack.functions["WorkQueueIntake"].add_event_source(sources.SqsEventSource(
        stack.exceptions, batch_size=10, max_batching_window=Duration.seconds(5), report_batch_item_failures=True))
    events.Rule(
        stack, "WorkQueueDigestSchedule", description="Each owner group's open work items by email, every morning",
        schedule=events.Schedule.cron(minute="0", hour="7"),
    ).add_target(targets.LambdaFunction(stack.functions["WorkQueueDigest"], retry_attempts=2,
                                        max_event_age=Duration.hours(2)))
    # A handoff that goes live closes its open items: its Handoff Activated event joins the intake.
    events.Rule(
        stack, "HandoffActivatedToWorkQueue", event_bus=stack.bus, description="Resolve the work items of live handoffs",
        event_pattern=events.EventPattern(source=["closed-won-handoff"], detail_type=["Handoff Activated"]),
    ).add_target(targets.SqsQueue(stack.exceptions, dead_letter_queue=stack.undelivered_events, retry_attempts=8,
                                  max_event_age=Duration.hours(24)))
    queues = {name: d.queue for name, d in dead_letter_queues(stack).items()}
    readers = [s.logical_name for s in FUNCTIONS if "dead-letters:read" in s.uses]
    for name in readers:
        function: lambda_.Function = stack.functions[name]
        function.add_environment("DEAD_LETTER_QUEUES", stack.to_json_string({k: q.queue_url for k, q in queues.items()}))
        # Read only: the messages stay for a redrive; no DeleteMessage.
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["sqs:ReceiveMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
            resources=[q.queue_arn for q in queues.values()]))


def work_queue_environment(stack: Stack) -> dict[str, str]:
    ctx = stack.node.try_get_context
    return {"WORK_QUEUE_SLA_HOURS": json.dumps(ctx("workQueueSlaHours") or {}),
            "WORK_QUEUE_EMAILS": json.dumps(ctx("workQueueEmails") or {})}
