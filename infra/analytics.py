"""Process analytics in AWS: the handoff table's stream -> RecordFacts -> Firehose -> S3
(facts/dt=YYYY-MM-DD/, the fact's own date via dynamic partitioning) -> a Glue table -> an Athena
workgroup whose named queries are the files of analytics/ (the same SQL DuckDB runs locally).

JSON lines, not Parquet: the S3 objects are then byte for byte what the embedded runtime writes
and DuckDB reads, so one reader and one schema (analytics/schema.py) serve both; a
handoff makes a few kilobytes of facts, so columnar storage would save Athena next to nothing."""

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from constructs import Construct

from analytics.schema import FACT_COLUMNS
from analytics.sql import named_queries

DATABASE = "handoff_analytics"
TABLE = "facts_raw"
WORKGROUP = "handoff-analytics"
PREFIX = "facts/"
ERRORS = "facts-errors/"
RESULTS = "athena-results/"


class Analytics(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, access_logs: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.bucket = s3.Bucket(
            self, "Facts",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="facts-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.database = glue.CfnDatabase(self, "Database", catalog_id=stack.account,
                                         database_input=glue.CfnDatabase.DatabaseInputProperty(
                                             name=DATABASE, description="Facts of closed-won handoffs"))
        location = f"s3://{self.bucket.bucket_name}/{PREFIX}"
        self.table = glue.CfnTable(
            self, "FactsTable", catalog_id=stack.account, database_name=DATABASE,
            table_input=glue.CfnTable.TableInputProperty(
                name=TABLE, table_type="EXTERNAL_TABLE",
                description="Facts, JSON lines, one partition per day (partition projection)",
                partition_keys=[glue.CfnTable.ColumnProperty(name="dt", type="string")],
                parameters={
                    "classification": "json",
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": "2020-01-01,NOW",
                    "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "storage.location.template": location + "dt=${dt}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "false"}),
                    columns=[glue.CfnTable.ColumnProperty(name=name, type=kind)
                             for name, kind in FACT_COLUMNS.items() if name != "dt"],
                ),
            ),
        )
        self.table.node.add_dependency(self.database)
        self.delivery_role = iam.Role(self, "DeliveryRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"))
        self.delivery = self._delivery_stream(self.delivery_role)
        self.workgroup = athena.CfnWorkGroup(
            self, "WorkGroup", name=WORKGROUP, description="Handoff process metrics (named queries: analytics/)",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=10 * 1024 ** 3,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.bucket.bucket_name}/{RESULTS}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3")),
            ),
        )
        statements = named_queries()
        self.named_queries = []
        for name, text in statements:
            query = athena.CfnNamedQuery(self, "Query" + "".join(p.title() for p in name.replace("_", " ").split()),
                                         name=name, database=DATABASE, work_group=WORKGROUP, query_string=text,
                                         description=f"analytics/{name}")
            query.node.add_dependency(self.workgroup)
            self.named_queries.append(query)

    def _delivery_stream(self, role: iam.Role) -> firehose.CfnDeliveryStream:
        # What Firehose needs for an S3 destination, on the facts and error prefixes only.
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
            resources=[self.bucket.arn_for_objects(f"{PREFIX}*"), self.bucket.arn_for_objects(f"{ERRORS}*")]))
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetBucketLocation", "s3:ListBucket",
                                                        "s3:ListBucketMultipartUploads"],
                                               resources=[self.bucket.bucket_arn]))
        stream = firehose.CfnDeliveryStream(
            self, "Delivery",
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream
            .DeliveryStreamEncryptionConfigurationInputProperty(key_type="AWS_OWNED_CMK"),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self.bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=PREFIX + "dt=!{partitionKeyFromQuery:dt}/",
                error_output_prefix=ERRORS + "!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(interval_in_seconds=60,
                                                                                  size_in_m_bs=64),
                compression_format="UNCOMPRESSED",
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[firehose.CfnDeliveryStream.ProcessorProperty(type="MetadataExtraction", parameters=[
                        firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name="MetadataExtractionQuery",
                                                                              parameter_value="{dt: .dt}"),
                        firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name="JsonParsingEngine",
                                                                              parameter_value="JQ-1.6"),
                    ])]),
            ),
        )
        stream.node.add_dependency(role)
        return stream

    def grant_put(self, function: lambda_.Function) -> None:
        function.add_to_role_policy(iam.PolicyStatement(actions=["firehose:PutRecordBatch", "firehose:PutRecord"],
                                                        resources=[self.delivery.attr_arn]))

    def grant_query(self, function: lambda_.Function) -> None:
        """The console's metrics page runs the workgroup's named queries (handoff/adapters/athena_metrics.py):
        read the named queries, run and read queries in this workgroup, read the facts, write results."""
        from infra.nag import _ack

        stack = Stack.of(self)
        workgroup = stack.format_arn(service="athena", resource="workgroup", resource_name=WORKGROUP)
        function.add_environment("ANALYTICS_WORKGROUP", WORKGROUP)
        function.add_environment("ANALYTICS_DATABASE", DATABASE)
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["athena:ListNamedQueries", "athena:GetNamedQuery", "athena:StartQueryExecution",
                     "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"],
            resources=[workgroup]))
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["glue:GetDatabase", "glue:GetTable"],
            resources=[stack.format_arn(service="glue", resource="catalog"),
                       stack.format_arn(service="glue", resource="database", resource_name=DATABASE),
                       stack.format_arn(service="glue", resource="table", resource_name=f"{DATABASE}/{TABLE}")]))
        function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetBucketLocation", "s3:ListBucket"],
                                                        resources=[self.bucket.bucket_arn]))
        function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"],
                                                        resources=[self.bucket.arn_for_objects(f"{PREFIX}*")]))
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            resources=[self.bucket.arn_for_objects(f"{RESULTS}*")]))
        facts = stack.get_logical_id(self.bucket.node.default_child)
        assert function.role is not None
        _ack(function.role, f"IAM5[Resource::<{facts}.Arn>/{PREFIX}*]",
             "Athena reads the fact objects Firehose writes under the facts prefix (keys made by Firehose, one per "
             "buffer), on the console's behalf; read only.")
        _ack(function.role, f"IAM5[Resource::<{facts}.Arn>/{RESULTS}*]",
             "Athena writes each query's result object under the workgroup's result prefix (keys made by Athena, one "
             "per query execution) and the console reads them back.")

    def consume(self, table: dynamodb.Table, function: lambda_.Function) -> None:
        """The stream feeds RecordFacts: in order per item, retried then bisected on error, never dropped
        silently (after the retries the batch's stream position goes to the function's failure queue)."""
        assert function.dead_letter_queue is not None
        function.add_event_source(sources.DynamoEventSource(
            table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=100,
            max_batching_window=Duration.seconds(5), bisect_batch_on_error=True, retry_attempts=10,
            on_failure=sources.SqsDlq(function.dead_letter_queue),
        ))
