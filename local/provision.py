"""Provision moto from the synthesized template: the same tables, queues, bus, rules, functions
(handler strings and environment) and state machine (definition with its substitutions) that
CloudFormation would create. Unknown resource types and intrinsics fail loudly."""

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"
LOCAL_API_ID = "localapi"

# CloudFormation-only plumbing and policies moto would not enforce anyway (moto does not enforce
# IAM: grants are tested on the template, tests/infra).
SKIPPED = {
    # A managed policy holds what CDK splits off a role's inline policy past IAM's size limit.
    "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy", "AWS::ApiGateway::Account", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::Method", "AWS::CDK::Metadata", "AWS::Events::EventBusPolicy", "AWS::SNS::TopicPolicy",
}

# The analytics path in AWS (stream -> RecordFacts -> Firehose -> S3 -> Glue -> Athena). Locally the
# report reads the table's stream itself, through the same code as RecordFacts, and queries the facts
# with DuckDB running the same SQL (local/report.py); nothing here would be called.
ANALYTICS_SKIPPED = {
    "AWS::Glue::Database", "AWS::Glue::Table", "AWS::Athena::WorkGroup",
    "AWS::Athena::NamedQuery",
}

# Deliberately not provisioned: the local HTTP server stands in for API Gateway, so there is no stage
# for a web ACL to protect; what the ACL does is asserted on the template (tests/infra, tests/security).
NOT_EMULATED = {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"}
# Secrets Manager runs the signing key's rotation function every 90 days; moto cannot invoke it without
# Docker. The function is provisioned; its four steps are tested by calling it as Secrets Manager does
# (tests/security/test_key_rotation.py), the schedule on the template.
ROTATION_NOT_EMULATED = {"AWS::SecretsManager::RotationSchedule"}
# CloudWatch is not emulated (EMF metric lines go to the log), so neither are the dashboards and
# the alarms; tests/infra/test_monitoring.py asserts them on the template. SNS topics are provisioned
# (SES's bounce topic delivers to MailFeedback); the alarm topic is created and never published to.
MONITORING_NOT_EMULATED = {"AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm", "AWS::SNS::TopicPolicy"}


class UnsupportedTemplate(RuntimeError):
    pass


@dataclass
class Function:
    name: str
    logical_id: str
    handler: str
    code_path: Path
    environment: dict[str, str]
    dead_letter_arn: str | None = None
    timeout_seconds: int = 3  # CloudFormation's default, as on AWS
    memory_mb: int = 128


@dataclass
class Provisioned:
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> Arn
    types: dict[str, str] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)  # by function name
    routes: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path pattern, function name)
    schedules: dict[str, list[dict]] = field(default_factory=dict)  # rule logical id -> targets
    queue_sources: list[dict] = field(default_factory=list)  # SQS event source mappings: queue, function, batch
    stage_name: str = ""
    # Every REST API of the stack by logical id: (stage, routes). `routes` and `stage_name` above are
    # the first one's (the approval links and the operators' API).
    apis: dict[str, tuple[str, list[tuple[str, str, str]]]] = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)  # table logical id -> stream ARN

    def by_type(self, cfn_type: str) -> list[str]:
        return [logical for logical, t in self.types.items() if t == cfn_type]


def _deps(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and not str(value["Ref"]).startswith("AWS::"):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found |= {n.split(".")[0] for n in re.findall(r"\$\{([^}!]+)\}", text) if not n.startswith("AWS::")}
        for v in value.values():
            found |= _deps(v)
    elif isinstance(value, list):
        for v in value:
            found |= _deps(v)
    return found


class Provisioner:
    def __init__(self, template: dict, *, api_base_url: str, session: boto3.Session | None = None):
        self.template = template
        self.resources: dict[str, dict] = template["Resources"]
        self.api_base_url = api_base_url.rstrip("/")
        self.session = session or boto3.Session(region_name=REGION)
        self.out = Provisioned()
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=REGION)
        return self._clients[service]

    # --- resolver -------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                return self._get_att(arg[0], arg[1])
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(arg[0])]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key.startswith("Fn::"):
                raise UnsupportedTemplate(f"intrinsic {key} is not supported by the local runtime")
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "local", "AWS::NoValue": None}
        if name in pseudo:
            return pseudo[name]
        if self.resources.get(name, {}).get("Type") == "AWS::ApiGateway::RestApi":
            return LOCAL_API_ID
        if self.resources.get(name, {}).get("Type") == "AWS::ApiGateway::Stage":
            return self.resources[name]["Properties"]["StageName"]
        if name not in self.out.physical:
            raise UnsupportedTemplate(f"Ref to {name}, which is not provisioned")
        return self.out.physical[name]

    def _get_att(self, name: str, attribute: str) -> str:
        if attribute == "Arn" and name in self.out.arns:
            return self.out.arns[name]
        if attribute == "StreamArn" and name in self.out.streams:
            return self.out.streams[name]
        if attribute == "QueueUrl":
            return self.out.physical[name]
        if attribute == "QueueName":
            return self.out.physical[name].rsplit("/", 1)[-1]
        if attribute == "ArchiveName":
            return self.out.physical[name]
        if attribute == "RootResourceId":
            return "root"
        raise UnsupportedTemplate(f"Fn::GetAtt {name}.{attribute} is not supported by the local runtime")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self._get_att(*name.split(".", 1)))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def _local_url(self, value: str) -> str:
        """API Gateway URLs of this stack point at the local HTTP server."""
        prefix = f"https://{LOCAL_API_ID}.execute-api.{REGION}.amazonaws.com"
        return value.replace(prefix, self.api_base_url) if isinstance(value, str) else value

    # --- walk -----------------------------------------------------------------------------------
    def provision(self) -> Provisioned:
        graph = {}
        for logical, resource in self.resources.items():
            deps = _deps(resource.get("Properties", {})) | set(resource.get("DependsOn", []) if isinstance(
                resource.get("DependsOn"), list) else [resource["DependsOn"]] if resource.get("DependsOn") else [])
            graph[logical] = {d for d in deps if d in self.resources}
        for logical in TopologicalSorter(graph).static_order():
            resource = self.resources[logical]
            cfn_type = resource["Type"]
            self.out.types[logical] = cfn_type
            if (cfn_type in SKIPPED or cfn_type in NOT_EMULATED or cfn_type in MONITORING_NOT_EMULATED
                    or cfn_type in ANALYTICS_SKIPPED or cfn_type in ROTATION_NOT_EMULATED
                    or cfn_type.startswith("Custom::")):
                continue
            create = getattr(self, "_create_" + cfn_type.replace("AWS::", "").replace("::", "_"), None)
            if create is None:
                raise UnsupportedTemplate(f"{logical}: resource type {cfn_type} is not supported by the local runtime")
            create(logical, resource.get("Properties", {}), resource.get("Metadata", {}))
        self._routes()
        self.account_prerequisites()
        return self.out

    def _name(self, logical: str) -> str:
        return re.sub(r"[^A-Za-z0-9-]", "", logical)[:60]

    def _create_IAM_Role(self, logical: str, props: dict, _meta: dict) -> None:
        role = self.client("iam").create_role(
            RoleName=self._name(logical),
            AssumeRolePolicyDocument=json.dumps(self.resolve(props["AssumeRolePolicyDocument"])),
        )["Role"]
        self.out.physical[logical] = role["RoleName"]
        self.out.arns[logical] = role["Arn"]

    def _create_Logs_LogGroup(self, logical: str, props: dict, _meta: dict) -> None:
        name = props.get("LogGroupName") or f"/local/{self._name(logical)}"
        self.client("logs").create_log_group(logGroupName=name)
        self.out.physical[logical] = name
        self.out.arns[logical] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"

    def _create_DynamoDB_Table(self, logical: str, props: dict, _meta: dict) -> None:
        name = props.get("TableName") or self._name(logical)
        kwargs = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        table = self.client("dynamodb").create_table(**kwargs)["TableDescription"]
        self.out.physical[logical] = name
        self.out.arns[logical] = table["TableArn"]
        if table.get("LatestStreamArn"):
            self.out.streams[logical] = table["LatestStreamArn"]

    def _create_S3_Bucket(self, logical: str, props: dict, _meta: dict) -> None:
        name = props.get("BucketName") or self._name(logical).lower()
        self.client("s3").create_bucket(Bucket=name)
        self.out.physical[logical] = name
        self.out.arns[logical] = f"arn:aws:s3:::{name}"

    def _create_SQS_Queue(self, logical: str, props: dict, _meta: dict) -> None:
        attributes = {}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(self.resolve(props["RedrivePolicy"]))
        for name in ("MessageRetentionPeriod", "VisibilityTimeout"):
            if name in props:
                attributes[name] = str(props[name])
        url = self.client("sqs").create_queue(QueueName=props.get("QueueName") or self._name(logical),
                                              Attributes=attributes)["QueueUrl"]
        self.out.physical[logical] = url
        self.out.arns[logical] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rsplit('/', 1)[-1]}"

    def _create_SecretsManager_Secret(self, logical: str, props: dict, _meta: dict) -> None:
        import secrets

        value = props.get("SecretString")
        if value is None and "GenerateSecretString" in props:
            value = secrets.token_urlsafe(48)
        secret = self.client("secretsmanager").create_secret(Name=self._name(logical), SecretString=value or "{}")
        self.out.physical[logical] = secret["ARN"]
        self.out.arns[logical] = secret["ARN"]

    def _create_SES_EmailIdentity(self, logical: str, props: dict, _meta: dict) -> None:
        identity = self.resolve(props["EmailIdentity"])
        self._verify(identity)
        self.out.physical[logical] = identity

    def _verify(self, identity: str) -> None:
        ses = self.client("ses")
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)

    def account_prerequisites(self) -> None:
        """What the README asks a platform team to have done before deploying, done here: the
        sender identity the functions are configured with (SES_IDENTITY) is verified in SES."""
        identities = {f.environment["SES_IDENTITY"] for f in self.out.functions.values() if "SES_IDENTITY" in f.environment}
        for identity in identities:
            self._verify(identity)

    def _create_SES_ConfigurationSet(self, logical: str, props: dict, _meta: dict) -> None:
        name = props.get("Name") or self._name(logical)
        self.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        self.out.physical[logical] = name

    def _create_SES_ConfigurationSetEventDestination(self, logical: str, props: dict, _meta: dict) -> None:
        destination = self.resolve(props["EventDestination"])
        if set(destination) - {"Name", "Enabled", "MatchingEventTypes", "SnsDestination"}:
            raise UnsupportedTemplate(f"{logical}: only SNS event destinations are supported locally")
        self.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=self.resolve(props["ConfigurationSetName"]),
            EventDestination={"Name": destination.get("Name") or self._name(logical),
                              "Enabled": destination.get("Enabled", False),
                              "MatchingEventTypes": destination["MatchingEventTypes"],
                              "SNSDestination": {"TopicARN": destination["SnsDestination"]["TopicARN"]}})
        self.out.physical[logical] = destination.get("Name") or self._name(logical)

    def _create_KMS_Key(self, logical: str, props: dict, _meta: dict) -> None:
        key = self.client("kms").create_key(Description=props.get("Description", ""),
                                            Policy=json.dumps(self.resolve(props["KeyPolicy"])))["KeyMetadata"]
        self.out.physical[logical] = key["KeyId"]
        self.out.arns[logical] = key["Arn"]

    def _create_SNS_Topic(self, logical: str, props: dict, _meta: dict) -> None:
        attributes = {"KmsMasterKeyId": str(self.resolve(props["KmsMasterKeyId"]))} if "KmsMasterKeyId" in props else {}
        arn = self.client("sns").create_topic(Name=props.get("TopicName") or self._name(logical),
                                              Attributes=attributes)["TopicArn"]
        self.out.physical[logical] = arn
        self.out.arns[logical] = arn

    def _create_SNS_Subscription(self, logical: str, props: dict, _meta: dict) -> None:
        arn = self.client("sns").subscribe(TopicArn=self.resolve(props["TopicArn"]), Protocol=props["Protocol"],
                                           Endpoint=self.resolve(props["Endpoint"]))["SubscriptionArn"]
        self.out.physical[logical] = arn

    def _create_SSM_Parameter(self, logical: str, props: dict, _meta: dict) -> None:
        name = self.resolve(props["Name"])
        self.client("ssm").put_parameter(Name=name, Value=self.resolve(props["Value"]), Type=props["Type"],
                                         Tier=props.get("Tier", "Standard"), Description=props.get("Description", ""))
        self.out.physical[logical] = name
        self.out.arns[logical] = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"

    def _create_KinesisFirehose_DeliveryStream(self, logical: str, props: dict, _meta: dict) -> None:
        # Provisioned (RecordFacts is configured with its name), delivering to the facts bucket as on AWS.
        destination = self.resolve(props["ExtendedS3DestinationConfiguration"])
        name = props.get("DeliveryStreamName") or self._name(logical)
        answer = self.client("firehose").create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType=props.get("DeliveryStreamType", "DirectPut"),
            ExtendedS3DestinationConfiguration={"BucketARN": destination["BucketARN"], "RoleARN": destination["RoleARN"],
                                                "Prefix": destination.get("Prefix", "")})
        self.out.physical[logical] = name
        self.out.arns[logical] = answer["DeliveryStreamARN"]

    def _create_Events_EventBus(self, logical: str, props: dict, _meta: dict) -> None:
        kwargs = {"Name": self.resolve(props["Name"])}
        if props.get("EventSourceName"):
            # A partner bus needs the partner's event source: the partner (Salesforce Event Relay)
            # creates it in the account before the stack is deployed; here we stand in for it.
            source = self.resolve(props["EventSourceName"])
            self.client("events").create_partner_event_source(Name=source, Account=ACCOUNT)
            kwargs["EventSourceName"] = source
        bus = self.client("events").create_event_bus(**kwargs)
        self.out.physical[logical] = self.resolve(props["Name"])
        self.out.arns[logical] = bus["EventBusArn"]

    def _create_Events_Archive(self, logical: str, props: dict, _meta: dict) -> None:
        name = self.resolve(props.get("ArchiveName")) or self._name(logical)[:48]
        archive = self.client("events").create_archive(
            ArchiveName=name, EventSourceArn=self.resolve(props["SourceArn"]), Description=props.get("Description", ""),
            EventPattern=json.dumps(self.resolve(props.get("EventPattern", {}))),
            RetentionDays=int(props.get("RetentionDays", 0)))
        self.out.physical[logical] = name
        self.out.arns[logical] = archive["ArchiveArn"]

    def _create_Lambda_Function(self, logical: str, props: dict, meta: dict) -> None:
        if "aws:asset:path" not in meta:
            raise UnsupportedTemplate(f"{logical}: no aws:asset:path metadata; synthesize with the local context")
        environment = {k: self._local_url(str(self.resolve(v)))
                       for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        name = self.resolve(props.get("FunctionName")) or self._name(logical)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("placeholder.py", "# runs in-process from the asset path\n")
        fn = self.client("lambda").create_function(
            FunctionName=name, Runtime=props["Runtime"], Role=self.resolve(props["Role"]),
            Handler=props["Handler"], Code={"ZipFile": buffer.getvalue()},
            Environment={"Variables": environment}, Timeout=int(props.get("Timeout", 3)),
        )
        dead_letter = self.resolve(props.get("DeadLetterConfig", {}).get("TargetArn"))
        self.out.physical[logical] = name
        self.out.arns[logical] = fn["FunctionArn"]
        self.out.functions[name] = Function(name, logical, props["Handler"], Path(meta["aws:asset:path"]),
                                            environment, dead_letter, int(props.get("Timeout", 3)),
                                            int(props.get("MemorySize", 128)))

    def _create_Events_Rule(self, logical: str, props: dict, _meta: dict) -> None:
        events = self.client("events")
        name = self._name(logical)
        kwargs: dict[str, Any] = {"Name": name, "State": props.get("State", "ENABLED")}
        if "EventBusName" in props:
            kwargs["EventBusName"] = self.resolve(props["EventBusName"])
        if "EventPattern" in props:
            kwargs["EventPattern"] = json.dumps(self.resolve(props["EventPattern"]))
        if "ScheduleExpression" in props:
            kwargs["ScheduleExpression"] = props["ScheduleExpression"]
        arn = events.put_rule(**kwargs)["RuleArn"]
        targets = [{k: v for k, v in self.resolve(t).items() if k != "RoleArn"} for t in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=kwargs.get("EventBusName", "default"), Targets=targets)
        if "ScheduleExpression" in props:
            self.out.schedules[logical] = targets
        self.out.physical[logical] = name
        self.out.arns[logical] = arn

    def _create_Lambda_EventSourceMapping(self, logical: str, props: dict, _meta: dict) -> None:
        source = self.resolve(props["EventSourceArn"])
        if source.split(":")[2] == "dynamodb":
            return  # the analytics stream: locally the report reads the stream itself (ANALYTICS_SKIPPED)
        if source.split(":")[2] != "sqs":
            raise UnsupportedTemplate(f"{logical}: only SQS event sources are supported by the local runtime")
        function = self.resolve(props["FunctionName"])
        queue_url = next(url for lid, url in self.out.physical.items() if self.out.arns.get(lid) == source)
        self.out.queue_sources.append({
            "queue_url": queue_url, "function": function, "batch_size": int(props.get("BatchSize", 10)),
            "partial": "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        })
        self.out.physical[logical] = logical

    # --- Cognito: the console's user pool (sign-in itself is not emulated: a fixed local operator) ---
    def _create_Cognito_UserPool(self, logical: str, props: dict, _meta: dict) -> None:
        pool = self.client("cognito-idp").create_user_pool(PoolName=props.get("UserPoolName") or self._name(logical))
        self.out.physical[logical] = pool["UserPool"]["Id"]
        self.out.arns[logical] = pool["UserPool"]["Arn"]

    def _create_Cognito_UserPoolClient(self, logical: str, props: dict, _meta: dict) -> None:
        client = self.client("cognito-idp").create_user_pool_client(
            UserPoolId=self.resolve(props["UserPoolId"]), ClientName=self._name(logical),
            AllowedOAuthFlows=props.get("AllowedOAuthFlows", []),
            CallbackURLs=[self._local_url(str(u)) for u in self.resolve(props.get("CallbackURLs", []))])
        self.out.physical[logical] = client["UserPoolClient"]["ClientId"]

    def _create_Cognito_UserPoolDomain(self, logical: str, props: dict, _meta: dict) -> None:
        domain = self.resolve(props["Domain"])
        self.client("cognito-idp").create_user_pool_domain(Domain=domain, UserPoolId=self.resolve(props["UserPoolId"]))
        self.out.physical[logical] = domain

    def _create_Cognito_UserPoolGroup(self, logical: str, props: dict, _meta: dict) -> None:
        name = props["GroupName"]
        self.client("cognito-idp").create_group(GroupName=name, UserPoolId=self.resolve(props["UserPoolId"]),
                                                Description=props.get("Description", ""))
        self.out.physical[logical] = name

    def _create_StepFunctions_StateMachine(self, logical: str, props: dict, _meta: dict) -> None:
        definition = self.resolve(props["DefinitionString"])
        # CloudFormation applies DefinitionSubstitutions server-side; moto does not, so we do.
        for key, value in self.resolve(props.get("DefinitionSubstitutions", {})).items():
            definition = definition.replace("${" + key + "}", str(value))
        unresolved = re.findall(r"\$\{[A-Za-z0-9]+\}", definition)
        if unresolved:
            raise UnsupportedTemplate(f"{logical}: unresolved substitutions {unresolved}")
        machine = self.client("stepfunctions").create_state_machine(
            name=props.get("StateMachineName") or self._name(logical), definition=definition,
            roleArn=self.resolve(props["RoleArn"]),
            type=props.get("StateMachineType", "STANDARD"),
        )
        self.out.physical[logical] = machine["stateMachineArn"]
        self.out.arns[logical] = machine["stateMachineArn"]

    # --- API Gateway: routes for the local HTTP server --------------------------------------------
    def _routes(self) -> None:
        def path_of(resource_id: Any) -> str:
            if isinstance(resource_id, dict) and "Fn::GetAtt" in resource_id:
                return ""  # the root resource
            resource = self.resources[resource_id["Ref"]]["Properties"]
            return path_of(resource["ParentId"]) + "/" + resource["PathPart"]

        function_by_arn = {self.out.arns[f.logical_id]: f.name for f in self.out.functions.values()}
        stages = {r["Properties"]["RestApiId"]["Ref"]: r["Properties"]["StageName"]
                  for r in self.resources.values() if r["Type"] == "AWS::ApiGateway::Stage"}
        for api in [n for n, r in self.resources.items() if r["Type"] == "AWS::ApiGateway::RestApi"]:
            self.out.apis[api] = (stages.get(api, ""), [])
        for logical in [n for n, r in self.resources.items() if r["Type"] == "AWS::ApiGateway::Method"]:
            props = self.resources[logical]["Properties"]
            uri = self.resolve(props["Integration"]["Uri"])
            function = next((name for arn, name in function_by_arn.items() if arn in uri), None)
            if function is None:
                raise UnsupportedTemplate(f"{logical}: integration {uri} is not a function of this stack")
            route = (props["HttpMethod"], path_of(props["ResourceId"]) or "/", function)
            self.out.apis[props["RestApiId"]["Ref"]][1].append(route)
        if self.out.apis:
            self.out.stage_name, self.out.routes = next(iter(self.out.apis.values()))
