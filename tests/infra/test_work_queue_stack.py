"""The work queue in the template: the exceptions queue feeds the intake with partial batch
failures, the digest runs daily, and the dead-letter queues are readable but never consumed."""

from tests.infra.test_stack import _policy_actions, resources


def _function(template: dict, module: str) -> tuple[str, dict]:
    return next((lid, f) for lid, f in resources(template, "AWS::Lambda::Function").items()
                if f["Properties"]["Handler"] == f"handoff.handlers.{module}.handler")


def test_the_exceptions_queue_is_the_intakes_event_source_with_partial_batch_failures(template: dict) -> None:
    intake, function = _function(template, "work_queue_intake")
    (mapping,) = [m for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["FunctionName"] == {"Ref": intake}]
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": intake}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = props["EventSourceArn"]["Fn::GetAtt"][0]
    assert queue.startswith("ExceptionsQueue")
    queue_props = template["Resources"][queue]["Properties"]
    assert queue_props["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]
    assert "RedrivePolicy" in queue_props  # what keeps failing ends in the dead-letter queue
    assert "DeadLetterConfig" not in function["Properties"]  # not invoked asynchronously


def test_the_digest_runs_every_morning_and_only_reads_the_dead_letter_queues(template: dict) -> None:
    digest, function = _function(template, "work_queue_digest")
    (rule,) = [r for lid, r in resources(template, "AWS::Events::Rule").items() if lid.startswith("WorkQueueDigest")]
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 7 * * ? *)"
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [digest, "Arn"]}
    actions = _policy_actions(template, function["Properties"]["Role"]["Fn::GetAtt"][0])
    assert "sqs:ReceiveMessage" in actions and "sqs:DeleteMessage" not in actions
    assert "ses:SendRawEmail" in actions or "ses:SendEmail" in actions
    assert "DEAD_LETTER_QUEUES" in function["Properties"]["Environment"]["Variables"]
    intake_actions = _policy_actions(template, _function(template, "work_queue_intake")[1]["Properties"]["Role"]
                                     ["Fn::GetAtt"][0])
    assert not any(a.startswith(("ses:", "events:", "states:")) for a in intake_actions)


def test_work_items_have_their_own_recoverable_table_with_the_queue_and_handoff_indexes(template: dict) -> None:
    (table,) = [t for lid, t in resources(template, "AWS::DynamoDB::Table").items() if lid.startswith("WorkItems")]
    assert {i["IndexName"] for i in table["Properties"]["GlobalSecondaryIndexes"]} == {"byQueue", "byHandoff"}
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_a_live_handoffs_event_reaches_the_intake_through_the_exceptions_queue(template: dict) -> None:
    from tests.infra.test_stack import bus_rules

    rule = bus_rules(template)["Handoff Activated"]
    assert rule["EventPattern"] == {"detail-type": ["Handoff Activated"], "source": ["closed-won-handoff"]}
    target = rule["Targets"][0]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("ExceptionsQueue")
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8
