"""The analytics path in the template: the handoff table's stream feeds RecordFacts, which may only
put to the facts delivery stream; Firehose writes the fact's date partitions; the Glue table has
the facts' columns; the Athena workgroup holds every file of analytics/ as a named query."""

from analytics.schema import FACT_COLUMNS
from analytics.sql import queries, views
from local.provision import ANALYTICS_SKIPPED


def of_type(template: dict, cfn_type: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type}


def test_the_stream_feeds_record_facts_with_a_failure_queue(template: dict) -> None:
    [table] = [t for k, t in of_type(template, "AWS::DynamoDB::Table").items() if k.startswith("HandoffsTable")]
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    [mapping] = [m for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
                 if m["Properties"]["FunctionName"]["Ref"].startswith("RecordFacts")]
    props = mapping["Properties"]
    assert props["FunctionName"]["Ref"].startswith("RecordFactsFunction")
    assert props["BisectBatchOnFunctionError"] is True and props["StartingPosition"] == "TRIM_HORIZON"
    assert "OnFailure" in props["DestinationConfig"]


def test_record_facts_may_only_put_to_the_delivery_stream(template: dict) -> None:
    [stream_id] = of_type(template, "AWS::KinesisFirehose::DeliveryStream")
    policies = [p for k, p in of_type(template, "AWS::IAM::Policy").items() if k.startswith("RecordFacts")]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    firehose = [s for s in statements if any(str(a).startswith("firehose:") for a in
                                             (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    assert firehose and all(s["Resource"] == {"Fn::GetAtt": [stream_id, "Arn"]} for s in firehose)
    assert not [s for s in statements if "dynamodb:PutItem" in str(s["Action"])]  # reads its stream, writes nothing


def test_firehose_partitions_by_the_facts_date_and_encrypts(template: dict) -> None:
    [stream] = of_type(template, "AWS::KinesisFirehose::DeliveryStream").values()
    props = stream["Properties"]
    destination = props["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == "facts/dt=!{partitionKeyFromQuery:dt}/"
    assert destination["DynamicPartitioningConfiguration"] == {"Enabled": True}
    assert props["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}


def test_glue_table_has_the_fact_columns_and_athena_the_named_queries(template: dict) -> None:
    [table] = of_type(template, "AWS::Glue::Table").values()
    descriptor = table["Properties"]["TableInput"]["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
        (n, t) for n, t in FACT_COLUMNS.items() if n != "dt"]
    assert table["Properties"]["TableInput"]["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    named = {q["Properties"]["Name"]: q["Properties"]["QueryString"]
             for q in of_type(template, "AWS::Athena::NamedQuery").values()}
    assert named == {**{f"view {n}": text for n, text in views()}, **queries()}
    [workgroup] = of_type(template, "AWS::Athena::WorkGroup").values()
    result = workgroup["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]
    assert result["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}


def test_the_local_runtime_skips_exactly_the_analytics_types_it_does_not_run(template: dict) -> None:
    present = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::Lambda::EventSourceMapping" not in ANALYTICS_SKIPPED  # SQS mappings run locally; the stream's is skipped
    assert ANALYTICS_SKIPPED <= present  # none is skipped by mistake for a type the stack no longer has
