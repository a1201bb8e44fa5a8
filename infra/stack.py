"""The handoff stack: bus and rule, state machine, one Lambda per step, table, queues, approval API."""

import json
import re
from pathlib import Path

from aws_cdk import (
    BundlingOptions,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import key_rotation, security
from infra.analytics import Analytics
from infra.bundling import LOCK_FILE, NOT_BUNDLED, PipBundling
from infra.configuration import ContextError, DeployConfiguration, context_flag, context_json
from infra.console import wire_console
from infra.dead_letters import async_function_name, dead_letter_queues
from infra.handoff_indexes import add_search_indexes
from infra.intake import CrmIntake
from infra.lambda_runtime import ARCHITECTURE, RUNTIME, pip_target_options
from infra.mail import Mail
from infra.monitoring import Monitoring
from infra.recovery import add_recovery
from infra.retry_policies import expanded_text
from infra.task_tokens import grant_task_tokens, task_tokens_table
from infra.wiring import API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS, FUNCTIONS, FunctionSpec
from infra.work_queue import wire_work_queue, work_items_table, work_queue_environment

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
DEFINITION = ROOT / "statemachines" / "handoff.asl.json"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


# Cross-region inference profiles are named by a geography prefix on the model id.
INFERENCE_PROFILE_PREFIXES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", "global")


def bedrock_model_arns(partition: str, region: str, account: str, model_id: str) -> list[str]:
    """What InvokeModel must be allowed on. A foundation model: its ARN in this region. An
    inference profile (e.g. `eu.anthropic...`): the profile, and the model in every region the
    profile may route to."""
    prefix, _, base_model = model_id.partition(".")
    if prefix in INFERENCE_PROFILE_PREFIXES and base_model:
        return [f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model_id}",
                f"arn:{partition}:bedrock:*::foundation-model/{base_model}"]
    return [f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"]


class HandoffStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ctx = self.node.try_get_context

        # Every change of a handoff, old and new image, feeds the facts (infra/analytics.py).
        self.handoffs = self._table("Handoffs", with_index=True, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
        self.ledger = self._table("Ledger")
        self.idempotency = self._table("Idempotency", ttl="expiration", pk="id", sk=None)
        self.work_items = work_items_table(self)
        self.task_tokens = task_tokens_table(self)  # pending approvals' task tokens, few readers (infra/task_tokens.py)
        self.documents = self._documents_bucket()
        self.exceptions = self._queue("Exceptions", retention=Duration.days(14))
        # One bus per stage: -c eventBusName=closed-won-handoffs-staging.
        self.bus = events.EventBus(self, "HandoffBus", event_bus_name=ctx("eventBusName") or "closed-won-handoffs")
        self._crm_publishers()
        self.approval_secret = secretsmanager.Secret(
            self, "ApprovalSigningKey",
            description="HMAC key that signs approval links",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        self.systems_secret = secretsmanager.Secret(
            self, "SystemsCredentials",
            description="Credentials of the REST systems of record (API keys, OAuth2 clients), JSON by system",
        )
        self.mail = Mail(self, "Mail")
        self.intake = CrmIntake(self)
        self.configuration = DeployConfiguration(
            self, "Configuration", systems_config=self.intake.systems_config(self._systems_config()))

        self.api = self._approval_api_shell()
        self.web_acl = security.web_acl(self, self.api.deployment_stage)
        # Named, so the callback grant can be scoped to it without referencing it (a cycle).
        self.state_machine_name = f"{self.stack_name}-handoff"
        self.analytics = Analytics(self, "Analytics", access_logs=self.access_logs)
        environment = {
            "POWERTOOLS_SERVICE_NAME": "closed-won-handoff",
            "POWERTOOLS_METRICS_NAMESPACE": "ClosedWonHandoff",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "HANDOFF_TABLE": self.handoffs.table_name,
            "LEDGER_TABLE": self.ledger.table_name,
            "IDEMPOTENCY_TABLE": self.idempotency.table_name,
            "DOCUMENTS_BUCKET": self.documents.bucket_name,
            "EXCEPTIONS_QUEUE_URL": self.exceptions.queue_url,
            "EVENT_BUS_NAME": self.bus.event_bus_name,
            "APPROVAL_SECRET_ARN": self.approval_secret.secret_arn,
            "SYSTEMS_SECRET_ARN": self.systems_secret.secret_arn,
            **self.configuration.environment,
            **self.mail.environment,
            "CONTRACT_ANALYSER": ctx("contractAnalyser") or "offline",
            "BEDROCK_MODEL_ID": ctx("bedrockModelId") or "",
            "WORK_ITEMS_TABLE": self.work_items.table_name,
            **work_queue_environment(self),
            "FACTS_DELIVERY_STREAM": self.analytics.delivery.ref,
            **self.intake.environment(),
        }
        code = self._code()
        self.functions = {spec.logical_name: self._function(spec, code, environment) for spec in FUNCTIONS}
        self._wire_approval_api()
        self._wire_handoff_api()
        self._wire_launch_packet_api()
        self.mail.subscribe(self.functions["MailFeedback"])
        self.state_machine = self._state_machine()
        self._let_start_executions()
        self._rule()
        self._pipeline_rule()
        self.intake.wire(self.functions)
        self._sweeper_schedule()
        self.key_rotation = key_rotation.schedule_rotation(self, self.approval_secret,
                                                           self.functions["RotateSigningKey"])
        wire_work_queue(self)
        wire_console(self)
        self.analytics.consume(self.handoffs, self.functions["RecordFacts"])
        self.analytics.grant_query(self.functions["Console"])  # the console's metrics page
        add_recovery(self)
        self.monitoring = Monitoring(  # dashboards and alarms (infra/monitoring.py)
            self, "Monitoring", functions=self.functions, state_machine=self.state_machine, api=self.api,
            dead_letters=[d.queue for d in dead_letter_queues(self).values()],
            alarm_email=ctx("alarmEmail"))

    # --- storage ----------------------------------------------------------------------------
    def _table(self, name: str, *, with_index: bool = False, ttl: str | None = None, pk: str = "pk",
               sk: str | None = "sk", stream: dynamodb.StreamViewType | None = None) -> dynamodb.Table:
        table = dynamodb.Table(
            self, f"{name}Table",
            partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING) if sk else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=ttl,
            stream=stream,
            removal_policy=RemovalPolicy.RETAIN,
        )
        if with_index:
            table.add_global_secondary_index(
                index_name="gsi1",
                partition_key=dynamodb.Attribute(name="gsi1pk", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="gsi1sk", type=dynamodb.AttributeType.STRING),
            )
            add_search_indexes(table)
        return table

    def _documents_bucket(self) -> s3.Bucket:
        access_logs = self.access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        return s3.Bucket(
            self, "Documents",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=security.document_lifecycle_rules(),
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="documents/",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _queue(self, name: str, *, retention: Duration = Duration.days(14), dlq: bool = True) -> sqs.Queue:
        dead_letters = None
        if dlq:
            dead_letters = sqs.DeadLetterQueue(max_receive_count=5, queue=self._queue(f"{name}DeadLetters", dlq=False))
        return sqs.Queue(
            self, f"{name}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=retention,
            dead_letter_queue=dead_letters,
        )

    # --- functions --------------------------------------------------------------------------
    def _code(self) -> lambda_.Code:
        # Docker is the fallback only when local bundling is unavailable; both install the lock.
        docker_pip = " ".join(["pip install --require-hashes --no-deps -r", LOCK_FILE, "-t /asset-output",
                               *pip_target_options()])
        return lambda_.Code.from_asset(
            str(FUNCTIONS_DIR),
            exclude=[f"**/{name}" for name in NOT_BUNDLED],
            bundling=BundlingOptions(
                image=RUNTIME.bundling_image,
                command=["bash", "-c", f"{docker_pip} && cp -r handoff /asset-output/"],  # exclude applied
                local=PipBundling(FUNCTIONS_DIR),
            ),
        )

    def _function(self, spec: FunctionSpec, code: lambda_.Code, environment: dict[str, str]) -> lambda_.Function:
        env = dict(environment)
        if not spec.behind_api:
            # The API's own functions build links from the request; referencing the API URL there would be a cycle.
            env["APPROVAL_BASE_URL"] = self.api.url.rstrip("/")
        asynchronous = not spec.in_workflow and not spec.behind_api and not spec.from_queue
        if spec.behind_api and spec.timeout_seconds >= API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS:
            raise ValueError(f"{spec.logical_name}: a {spec.timeout_seconds} s timeout outlives API Gateway's "
                             f"{API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s integration timeout")
        log_group = logs.LogGroup(self, f"{spec.logical_name}Logs", retention=LOG_RETENTION,
                                  removal_policy=RemovalPolicy.DESTROY)
        function = lambda_.Function(
            self, f"{spec.logical_name}Function",
            # Named, so the recovery API can re-invoke its dead letters (infra/recovery.py).
            function_name=async_function_name(self, spec.logical_name) if asynchronous else None,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=f"handoff.handlers.{spec.module}.handler",
            code=code,
            environment=env,
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=512,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=security.function_role(self, spec.logical_name, log_group),
            dead_letter_queue=self._queue(f"{spec.logical_name}Failed", dlq=False) if asynchronous else None,
            retry_attempts=2 if asynchronous else None,
        )
        self._grant(function, spec)
        return function

    def _grant(self, function: lambda_.Function, spec: FunctionSpec) -> None:
        grants = {
            "handoffs:write": lambda f: security.grant_table(self.handoffs, f, security.TABLE_WRITE),
            "handoffs:read": lambda f: security.grant_table(self.handoffs, f, security.TABLE_READ),
            "ledger:write": lambda f: security.grant_table(self.ledger, f, security.TABLE_WRITE),
            "idempotency:write": lambda f: security.grant_table(self.idempotency, f, security.IDEMPOTENCY_WRITE),
            "quarantine:write": lambda f: self._grant_documents(f, "quarantine/*", ["s3:PutObject"]),
            "packets:write": lambda f: self._grant_documents(f, "launch-packets/*", ["s3:PutObject"]),
            # Presign links to launch packets: a presigned URL carries the signer's permissions.
            "packets:read": lambda f: self._grant_documents(f, "launch-packets/*", ["s3:GetObject"]),
            "exceptions:send": lambda f: self.exceptions.grant_send_messages(f),
            "bus:put": lambda f: security.grant_put_events(self.bus, f, spec.publishes),
            "approval-secret:read": lambda f: self.approval_secret.grant_read(f),
            "approval-secret:rotate": lambda f: key_rotation.grant_rotation(self.approval_secret, f),
            "systems-secret:read": lambda f: self.systems_secret.grant_read(f),
            "mail:send": self.mail.grant_send,
            "states:callback": lambda f: security.grant_callbacks(self, f, self.state_machine_name),
            "config:approvers": lambda f: self.configuration.grant(f, "approvers"),
            "config:delivery-leads": lambda f: self.configuration.grant(f, "delivery-leads-email"),
            "config:playbooks": lambda f: self.configuration.grant(f, "playbooks"),
            "config:systems": lambda f: self.configuration.grant(f, "systems-config"),
            "states:start": lambda f: None,  # granted once the state machine exists: _let_start_executions
            "bedrock:invoke": self._grant_bedrock,
            "work-items:write": lambda f: security.grant_table(self.work_items, f, security.TABLE_WRITE),
            "work-items:read": lambda f: security.grant_table(self.work_items, f, security.TABLE_READ),
            "dead-letters:read": lambda f: None,  # infra/work_queue.py, once every queue exists
            "dead-letters:redrive": lambda f: None,  # infra/recovery.py, once every queue exists
            "quarantine:requeue": lambda f: None,  # infra/recovery.py
            # Dead-letter queues, the Cognito pool and the console's key are granted in infra/console.py.
            "facts:put": lambda f: self.analytics.grant_put(f),
            "task-tokens:write": lambda f: grant_task_tokens(self.task_tokens, f, "task-tokens:write"),
            "task-tokens:use": lambda f: grant_task_tokens(self.task_tokens, f, "task-tokens:use"),
            **self.intake.grants(),
        }
        for use in spec.uses:
            grants[use](function)

    def _grant_documents(self, function: lambda_.Function, keys: str, actions: list[str]) -> None:
        # One prefix per use (quarantined events hold personal data); no list, no delete.
        function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[self.documents.arn_for_objects(keys)]))

    def _grant_bedrock(self, function: lambda_.Function) -> None:
        model_id = self.node.try_get_context("bedrockModelId")
        if model_id:
            function.add_to_role_policy(iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],  # the Converse API is authorized as InvokeModel
                resources=bedrock_model_arns(self.partition, self.region, self.account, model_id),
            ))

    # --- approval API -----------------------------------------------------------------------
    def _approval_api_shell(self) -> apigw.RestApi:
        # The account's one API Gateway logging role: `-c apiGatewayCloudWatchRole=false` when the
        # platform team already set it (AWS::ApiGateway::Account is account-wide, last writer wins).
        cloud_watch_role = context_flag(self, "apiGatewayCloudWatchRole", True)
        access_logs = logs.LogGroup(self, "ApprovalApiAccessLogs", retention=LOG_RETENTION,
                                    removal_policy=RemovalPolicy.DESTROY)
        return apigw.RestApi(
            self, "ApprovalApi",
            description="Approval links (GET shows the page, POST decides) and the operators' handoff API (IAM)",
            cloud_watch_role=cloud_watch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY if cloud_watch_role else None,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                throttling_rate_limit=20,
                throttling_burst_limit=40,
                method_options=security.approval_method_throttling(),
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=_access_log_format(),
            ),
        )

    def _wire_approval_api(self) -> None:
        integration = apigw.LambdaIntegration(self.functions["ApprovalApi"])
        self.validator = self.api.add_request_validator("ValidateParameters", validate_request_parameters=True,
                                                          validate_request_body=True)
        approval = self.api.root.add_resource("approvals").add_resource("{approvalId}")
        # No API Gateway authorizer: each link carries an HMAC signature the handler verifies.
        self.approval_methods = [
            approval.add_method(
                method, integration,
                request_validator=self.validator,
                request_parameters={"method.request.path.approvalId": True},
            )
            for method in ("GET", "POST")
        ]

    def _wire_handoff_api(self) -> None:
        # CRM integrations and operators call with SigV4; IAM policies say who may read or resubmit.
        integration = apigw.LambdaIntegration(self.functions["HandoffApi"])
        handoffs = self.api.root.add_resource("handoffs")
        handoff = handoffs.add_resource("{handoffId}")
        parameters = {"method.request.path.handoffId": True}
        self.operator_methods = [
            resource.add_method(method, integration, authorization_type=apigw.AuthorizationType.IAM,
                                request_validator=self.validator, request_parameters=parameters)
            for resource, method in ((handoff, "GET"), (handoff.add_resource("resubmit"), "POST"),
                                     (handoff.add_resource("retry"), "POST"))
        ]
        # The search's parameters are checked by the handler (400 naming each), not by API Gateway.
        self.operator_methods.append(handoffs.add_method("GET", integration, authorization_type=apigw.AuthorizationType.IAM))

    def _wire_launch_packet_api(self) -> None:
        # The link in the launch-packet email: signed like approval links, checked by the handler.
        packet = self.api.root.add_resource("launch-packets").add_resource("{handoffId}")
        self.approval_methods.append(packet.add_method(
            "GET", apigw.LambdaIntegration(self.functions["LaunchPacketApi"]), request_validator=self.validator,
            request_parameters={"method.request.path.handoffId": True}))

    # --- workflow ---------------------------------------------------------------------------
    def _state_machine(self) -> sfn.StateMachine:
        workflow_functions = {s.logical_name: self.functions[s.logical_name] for s in FUNCTIONS if s.in_workflow}
        machine = sfn.StateMachine(
            self, "HandoffWorkflow",
            state_machine_name=self.state_machine_name,
            definition_body=sfn.DefinitionBody.from_string(expanded_text(DEFINITION.read_text())),
            definition_substitutions={f"{name}FunctionArn": fn.function_arn for name, fn in workflow_functions.items()},
            tracing_enabled=True,
            logs=sfn.LogOptions(
                # Under /aws/vendedlogs/: Step Functions' log delivery adds its resource policy there
                # without hitting CloudWatch Logs' 5120-character resource-policy limit.
                destination=logs.LogGroup(self, "WorkflowLogs", retention=LOG_RETENTION,
                                          log_group_name=f"/aws/vendedlogs/states/{self.stack_name}-HandoffWorkflow",
                                          removal_policy=RemovalPolicy.DESTROY),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
        )
        for fn in workflow_functions.values():
            fn.grant_invoke(machine)
        return machine

    def _systems_config(self) -> dict:
        config = context_json(self, "systemsConfig", {})
        if not isinstance(config, dict):
            raise ContextError("systemsConfig", "must be a JSON object keyed by port")
        return config

    def _crm_publishers(self) -> None:
        """A CRM in another account may put events on the bus: `crmPublisherAccounts` (account ids),
        and only events whose source starts with `crm.` (what the rules listen to)."""
        accounts = context_json(self, "crmPublisherAccounts", [])
        if not isinstance(accounts, list) or not all(isinstance(a, str | int) for a in accounts):
            raise ContextError("crmPublisherAccounts", "must be a list of 12-digit AWS account ids")
        accounts = [str(a) for a in accounts]
        bad = [a for a in accounts if not re.fullmatch(r"\d{12}", a)]
        if bad:
            raise ContextError("crmPublisherAccounts", f"{bad} are not 12-digit AWS account ids")
        for account in accounts:
            self.bus.add_to_resource_policy(iam.PolicyStatement(
                sid=f"CrmPublisher{account}",
                principals=[iam.AccountPrincipal(account)],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={"StringLike": {"events:source": "crm.*"}},
            ))

    def _let_start_executions(self) -> None:
        """Functions outside the workflow that start it (a retry of a FAILED handoff): this machine only.
        Its ARN is built from its fixed name, not referenced: the API's functions sit behind the API
        whose URL the workflow's functions carry, so a reference would be a dependency cycle."""
        arn = security.state_machine_arn(self, self.state_machine_name)
        for spec in FUNCTIONS:
            if "states:start" in spec.uses:
                function = self.functions[spec.logical_name]
                function.add_environment("STATE_MACHINE_ARN", arn)
                function.add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[arn]))

    def _bus_rule(self, construct_id: str, description: str, detail_type: str) -> events.Rule:
        return events.Rule(
            self, construct_id,
            event_bus=self.bus,
            description=description,
            event_pattern=events.EventPattern(source=events.Match.prefix("crm."), detail_type=[detail_type]),
        )

    def _delivery(self) -> dict:
        """EventBridge's delivery policy for CRM events: retried for a day, then kept in one queue."""
        return {"dead_letter_queue": self.undelivered_events, "retry_attempts": 8, "max_event_age": Duration.hours(24)}

    def _rule(self) -> None:
        self.undelivered_events = self._queue("UndeliveredEvents", dlq=False)
        self._bus_rule("ClosedWonRule", "Start one handoff per closed-won deal", "Opportunity Closed Won").add_target(
            targets.SfnStateMachine(self.state_machine, **self._delivery()))

    def _pipeline_rule(self) -> None:
        rule = self._bus_rule("StageChangedRule", "Soft staffing from pipeline stage changes", "Opportunity Stage Changed")
        rule.add_target(targets.LambdaFunction(self.functions["TrackPipeline"], **self._delivery()))

    def _sweeper_schedule(self) -> None:
        events.Rule(
            self, "ApprovalSweepSchedule",
            description="Reminders, escalations and expiry of pending approvals",
            schedule=events.Schedule.rate(Duration.minutes(15)),
        ).add_target(targets.LambdaFunction(
            self.functions["ApprovalSweeper"],
            retry_attempts=2,
            max_event_age=Duration.minutes(30),
        ))


def _access_log_format() -> apigw.AccessLogFormat:
    field = apigw.AccessLogField
    return apigw.AccessLogFormat.custom(json.dumps({
        "requestId": field.context_request_id(), "ip": field.context_identity_source_ip(),
        # Who called an operator route (SigV4); approval links carry no IAM identity.
        "userArn": field.context_identity_user_arn(), "requestTime": field.context_request_time(),
        "httpMethod": field.context_http_method(), "resourcePath": field.context_resource_path(),
        "status": field.context_status(), "protocol": field.context_protocol(),
        "responseLength": field.context_response_length(),
    }))

