"""CRM intake: Salesforce through Event Relay (rules on the partner event bus, source pinned by
context, detail-types on an allow-list) and HubSpot through a signed webhook on the RestApi,
queued in SQS and processed asynchronously; the CRM credentials in Secrets Manager."""

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

if TYPE_CHECKING:
    from infra.stack import HandoffStack

DEFAULT_DETAIL_TYPES = ("Closed_Won_Handoff__e", "OpportunityChangeEvent")
WEBHOOK_PATH = ("crm", "hubspot", "webhook")


class CrmIntake:
    """Built in two halves around the stack's functions: `__init__` makes what the functions'
    environment and grants refer to; `wire` connects the functions once they exist."""

    def __init__(self, stack: "HandoffStack") -> None:
        self.stack = stack
        ctx = stack.node.try_get_context
        # aws.partner/salesforce.com/<orgId>/<channelId>: the partner event source each Event Relay made
        # (one per channel: platform events and change events travel on channels of their own).
        configured = ctx("salesforceEventSources") or []
        self.event_sources: list[str] = [configured] if isinstance(configured, str) else list(configured)
        self.settings: dict[str, Any] = dict(ctx("crmIntake") or {})
        salesforce = dict(self.settings.get("salesforce") or {})
        self.detail_types = list(salesforce.get("detailTypes") or DEFAULT_DETAIL_TYPES)
        self.salesforce_key = secretsmanager.Secret(
            stack, "SalesforceJwtKey",
            description='Salesforce connected app: {"private_key": "<PEM of the JWT bearer certificate key>"}')
        self.hubspot_app_secret = secretsmanager.Secret(
            stack, "HubSpotAppSecret", description='HubSpot app client secret: {"app_secret": "..."}')
        self.hubspot_token = secretsmanager.Secret(
            stack, "HubSpotPrivateAppToken", description='HubSpot private app access token: {"access_token": "..."}')
        # Visibility six times the intake's timeout, as Lambda recommends for SQS event sources.
        self.webhook_dead_letters = sqs.Queue(stack, "HubSpotWebhookDeadLetters", encryption=sqs.QueueEncryption.SQS_MANAGED,
                                              enforce_ssl=True, retention_period=Duration.days(14))
        self.webhook_queue = sqs.Queue(
            stack, "HubSpotWebhookQueue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            retention_period=Duration.days(4), visibility_timeout=Duration.seconds(720),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=self.webhook_dead_letters))
        # A partner bus takes its name from its partner event source.
        self.partner_buses = [events.EventBus(stack, f"SalesforceEventBus{i + 1}", event_source_name=source)
                              for i, source in enumerate(self.event_sources)]

    def environment(self) -> dict[str, str]:
        # Only the CRMs the deployment configured: a deal from an unconfigured one is written back to
        # the ledger, and its intake refuses events.
        return {
            "CRM_CONFIG": json.dumps(self.settings, sort_keys=True),
            "SALESFORCE_EVENT_SOURCES": ",".join(self.event_sources),
            "SALESFORCE_KEY_SECRET_ARN": self.salesforce_key.secret_arn,
            "HUBSPOT_APP_SECRET_ARN": self.hubspot_app_secret.secret_arn,
            "HUBSPOT_TOKEN_SECRET_ARN": self.hubspot_token.secret_arn,
            "HUBSPOT_QUEUE_URL": self.webhook_queue.queue_url,
        }

    def systems_config(self, configured: dict[str, Any]) -> dict[str, Any]:
        """The write-back goes to the CRM a deal came from unless the deployment chose a crm adapter."""
        return configured if "crm" in configured else {**configured, "crm": {"adapter": "crm_intake"}}

    def grants(self) -> dict[str, Any]:
        return {
            "salesforce-key:read": lambda f: self.salesforce_key.grant_read(f),
            "hubspot-app-secret:read": lambda f: self.hubspot_app_secret.grant_read(f),
            "hubspot-token:read": lambda f: self.hubspot_token.grant_read(f),
            "hubspot-queue:send": lambda f: self.webhook_queue.grant_send_messages(f),
        }

    def wire(self, functions: dict[str, lambda_.Function]) -> None:
        stack = self.stack
        for i, (bus, source) in enumerate(zip(self.partner_buses, self.event_sources, strict=True)):
            events.Rule(
                stack, f"SalesforceEventRule{i + 1}", event_bus=bus,
                description="Salesforce Event Relay: the closed-won platform event and opportunity change events",
                event_pattern=events.EventPattern(source=[source], detail_type=self.detail_types),
            ).add_target(targets.LambdaFunction(functions["SalesforceIntake"], **stack._delivery()))
        webhook = stack.api.root
        for part in WEBHOOK_PATH:
            webhook = webhook.add_resource(part)
        # No IAM or authorizer: HubSpot calls it; the function verifies X-HubSpot-Signature-v3.
        self.webhook_method = webhook.add_method("POST", apigw.LambdaIntegration(functions["HubSpotWebhook"]),
                                                 request_validator=stack.validator)
        functions["HubSpotIntake"].add_event_source(sources.SqsEventSource(
            self.webhook_queue, batch_size=10, report_batch_item_failures=True))

    def acknowledge(self, ack: Any) -> None:
        """cdk-nag findings of the intake with their reasons (called by infra.nag)."""
        for secret in (self.salesforce_key, self.hubspot_app_secret, self.hubspot_token):
            ack(secret, "SMG4", "Issued by the CRM (connected app certificate, HubSpot app secret, private app "
                                "token) and rotated there by the CRM admin, then put here; Secrets Manager cannot "
                                "rotate them.")
        ack(self.webhook_method, "APIG4", "HubSpot calls the webhook without AWS credentials; every request must "
                                          "carry X-HubSpot-Signature-v3 (HMAC with the app secret, 5-minute "
                                          "timestamp window), verified by the function before anything is queued.")
        ack(self.webhook_method, "COG4", "See APIG4: HubSpot's request signature, not Cognito users, authorizes it.")
        ack(self.webhook_dead_letters, "SQS3", "This queue is the HubSpot webhook queue's dead-letter queue.")
