"""Dashboards and alarms on the template: every widget the issue asks for references its metric,
every alarm notifies the alarm topic, the topic mails the `alarmEmail` context, and the embedded
runtime deliberately skips these types (CloudWatch is not emulated)."""

import json
import re

from infra import monitoring
from local.provision import MONITORING_NOT_EMULATED, Provisioner
from tests.infra.test_stack import resources


def _dashboard(template: dict, name: str) -> dict:
    [body] = [d["Properties"]["DashboardBody"] for k, d in resources(template, "AWS::CloudWatch::Dashboard").items()
              if name in k]
    # The body is Fn::Join of text and references; references become their logical ids.
    parts = body["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    return {"text": text, "widgets": json.loads(re.sub(r'\{"(Ref|Fn::GetAtt)": [^}]*\}', "X", text))["widgets"]}


def _titles(dashboard: dict) -> list[str]:
    return [w["properties"].get("title", "") for w in dashboard["widgets"]]


def test_business_dashboard_shows_handoffs_by_service_line_cycle_time_approvals_and_work_items(template: dict) -> None:
    board = _dashboard(template, "BusinessDashboard")
    text = board["text"]
    for metric in ("HandoffsStarted", "HandoffsActivated", "HandoffsBlocked", "HandoffsFailed"):
        assert f"SELECT SUM({metric}) FROM {monitoring.HANDOFF_SCHEMA} GROUP BY ServiceLine".replace('"', '\\"') in text
    assert '"ClosedWonToActivationSeconds"' in text and '"stat":"p50"' in text and '"stat":"p90"' in text
    assert '"ApprovalsPending"' in text and '"OldestPendingApprovalSeconds"' in text
    assert "MAX(OpenWorkItems)" in text and "MAX(OldestOpenWorkItemAgeSeconds)" in text and "GROUP BY OwnerGroup" in text
    assert len(_titles(board)) == 14  # 8, and the live process metrics (test_process_metrics_infra.py)


def test_technical_dashboard_covers_executions_lambdas_queues_api_ses_and_systems(template: dict) -> None:
    text = _dashboard(template, "TechnicalDashboard")["text"]
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled", "5XXError", "4XXError", "Latency",
                   "Bounce", "Complaint", "Reputation.BounceRate", "ApproximateNumberOfMessagesVisible"):
        assert f'"{metric}"' in text, metric
    functions = resources(template, "AWS::Lambda::Function")
    for name in functions:  # errors, duration and throttles of every function
        assert text.count(name) >= 3, name
    assert "SUM(IntegrationCalls)" in text and "SUM(IntegrationFailures)" in text and "GROUP BY System" in text


def _alarms(template: dict) -> dict[str, dict]:
    return {k: a["Properties"] for k, a in resources(template, "AWS::CloudWatch::Alarm").items()}


def test_every_alarm_notifies_the_alarm_topic(template: dict) -> None:
    [topic] = [t for t in resources(template, "AWS::SNS::Topic") if not t.startswith("MailFeedbackTopic")]
    alarms = _alarms(template)
    assert alarms and all(a["AlarmActions"] == [{"Ref": topic}] for a in alarms.values())
    assert all(a["TreatMissingData"] == "notBreaching" for a in alarms.values())


def test_any_message_in_any_dead_letter_queue_alarms(template: dict) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    dead_letters = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                    for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    dead_letters |= {f["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
                     for f in resources(template, "AWS::Lambda::Function").values() if "DeadLetterConfig" in f["Properties"]}
    for rule in resources(template, "AWS::Events::Rule").values():
        dead_letters |= {t["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0] for t in rule["Properties"].get("Targets", [])
                         if "DeadLetterConfig" in t}
    watched = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in _alarms(template).values()
               if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"}
    assert dead_letters and watched == dead_letters
    assert all(a["Threshold"] == 1 and a["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
               for a in _alarms(template).values() if a.get("MetricName") == "ApproximateNumberOfMessagesVisible")


def _one(template: dict, **match: object) -> dict:
    [alarm] = [a for a in _alarms(template).values() if all(a.get(k) == v for k, v in match.items())]
    return alarm


def test_failed_executions_approval_api_5xx_bounce_rate_and_work_items_past_sla_alarm(template: dict) -> None:
    [machine] = resources(template, "AWS::StepFunctions::StateMachine")
    failed = _one(template, MetricName="ExecutionsFailed")
    assert failed["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}] and failed["Threshold"] == 1
    server = _one(template, MetricName="5XXError")
    assert server["Namespace"] == "AWS/ApiGateway" and server["Threshold"] == 1
    bounce = _one(template, MetricName="Reputation.BounceRate")
    assert bounce["Namespace"] == "AWS/SES" and bounce["Threshold"] == 0.05
    sla = _one(template, MetricName=monitoring.WORK_ITEM_PAST_SLA)
    assert sla["Namespace"] == "ClosedWonHandoff" and sla["Threshold"] == 0
    assert sla["ComparisonOperator"] == "GreaterThanThreshold"
    assert sla["Dimensions"] == [{"Name": "service", "Value": monitoring.SERVICE}]


def test_integration_failure_rate_alarms_over_ten_percent(template: dict) -> None:
    [rate] = [a for a in _alarms(template).values() if "Metrics" in a]
    expression = next(m for m in rate["Metrics"] if "Expression" in m)
    assert expression["Expression"] == "IF(calls > 0, 100 * failures / calls, 0)"
    names = {m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"] if "MetricStat" in m}
    assert names == {"calls": "IntegrationCalls", "failures": "IntegrationFailures"}
    assert rate["Threshold"] == 10 and rate["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_alarm_topic_mails_the_alarm_email_over_ssl_only(template: dict) -> None:
    [topic] = [t for t in resources(template, "AWS::SNS::Topic") if not t.startswith("MailFeedbackTopic")]
    [subscription] = [s for s in resources(template, "AWS::SNS::Subscription").values()
                      if s["Properties"]["TopicArn"] == {"Ref": topic}]
    assert subscription["Properties"] == {"Protocol": "email", "TopicArn": {"Ref": topic},
                                          "Endpoint": "operations-alarms@example.com"}
    [policy] = [p for p in resources(template, "AWS::SNS::TopicPolicy").values()
                if {"Ref": topic} in p["Properties"]["Topics"]]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy["Properties"]["PolicyDocument"]["Statement"])


def test_metrics_namespace_and_service_are_the_functions_own(template: dict) -> None:
    for function in resources(template, "AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == monitoring.NAMESPACE
        assert variables["POWERTOOLS_SERVICE_NAME"] == monitoring.SERVICE


def test_the_embedded_runtime_skips_monitoring_on_purpose(template: dict) -> None:
    # SNS topics and subscriptions are provisioned (SES bounces reach MailFeedback through one); only the
    # dashboards, alarms and topic policies are skipped.
    kinds = {r["Type"] for r in template["Resources"].values()
             if r["Type"].startswith("AWS::CloudWatch") or r["Type"] == "AWS::SNS::TopicPolicy"}
    assert kinds and kinds <= MONITORING_NOT_EMULATED
    only = {"Resources": {k: v for k, v in template["Resources"].items() if v["Type"] in kinds}}
    provisioned = Provisioner(only, api_base_url="http://127.0.0.1:1").provision()
    assert set(provisioned.types.values()) == kinds and provisioned.physical == {}
