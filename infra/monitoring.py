"""CloudWatch for operations (issue 11): a business and a technical dashboard, and alarms that
notify an SNS topic (email subscription from the `alarmEmail` context).

Custom metrics are EMF lines written by handoff.adapters.business_metrics (namespace
ClosedWonHandoff, Powertools adds `service`); grouped views use Metrics Insights
(`SELECT ... GROUP BY ServiceLine`) so a metric keeps one dimension set and the dashboards still
split it. Plain aws_cloudwatch rather than cdk-monitoring-constructs: most widgets are our own EMF
metrics and Metrics Insights queries, which its facades do not group this way, and the template
stays what the tests assert."""

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

NAMESPACE = "ClosedWonHandoff"
SERVICE = "closed-won-handoff"  # POWERTOOLS_SERVICE_NAME: the `service` dimension of every EMF metric
HANDOFF_SCHEMA = f'SCHEMA("{NAMESPACE}", ContractType, Region, ServiceLine, service)'
INTEGRATION_SCHEMA = f'SCHEMA("{NAMESPACE}", Step, System, service)'
WORK_ITEM_SCHEMA = f'SCHEMA("{NAMESPACE}", OwnerGroup, service)'
# The live process metrics RecordFacts emits from the facts (handoff/adapters/fact_metrics.py).
EXCEPTION_SCHEMA = f'SCHEMA("{NAMESPACE}", Code, Severity, service)'
RESOLVED_SCHEMA = f'SCHEMA("{NAMESPACE}", Code, service)'
APPROVAL_KIND_SCHEMA = f'SCHEMA("{NAMESPACE}", ApprovalKind, service)'
SERVICE_LINE_SCHEMA = f'SCHEMA("{NAMESPACE}", ServiceLine, service)'
# Emitted by the work queue (service dimension only): seconds the oldest open item is past its due time.
WORK_ITEM_PAST_SLA = "OldestOpenWorkItemPastSlaSeconds"
SES_BOUNCE_RATE_MAX = 0.05  # SES puts an account under review at 5 %
INTEGRATION_FAILURE_PERCENT_MAX = 10
FIVE_MINUTES, HOUR, DAY = Duration.minutes(5), Duration.hours(1), Duration.days(1)


def _service_metric(name: str, statistic: str, period: Duration = FIVE_MINUTES) -> cw.Metric:
    return cw.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map={"service": SERVICE},
                     statistic=statistic, period=period)


def _insights(label: str, query: str, period: Duration = HOUR) -> cw.MathExpression:
    return cw.MathExpression(expression=query, label=label, period=period, using_metrics={})


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: dict[str, lambda_.Function],
                 state_machine: sfn.StateMachine, api: apigw.RestApi, dead_letters: list[sqs.IQueue],
                 alarm_email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "AlarmTopic", display_name="Closed-won handoff alarms", enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: dict[str, cw.Alarm] = {}
        self._alarms(state_machine, api, dead_letters)
        self.business = self._business_dashboard()
        self.technical = self._technical_dashboard(functions, state_machine, api, dead_letters)

    # --- alarms -----------------------------------------------------------------------------------
    def _alarm(self, name: str, metric: cw.IMetric, threshold: float, description: str,
               comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD) -> None:
        alarm = metric.create_alarm(
            self, name, threshold=threshold, evaluation_periods=1, comparison_operator=comparison,
            alarm_description=description, treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm

    def _alarms(self, machine: sfn.StateMachine, api: apigw.RestApi, dead_letters: list[sqs.IQueue]) -> None:
        for queue in dead_letters:
            name = f"DeadLetters{queue.node.id}"
            self._alarm(name, queue.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                                 period=FIVE_MINUTES), 1,
                        f"A message is in the dead-letter queue {queue.node.path}: something was not processed.")
        self._alarm("ExecutionsFailed", machine.metric_failed(statistic="Sum", period=FIVE_MINUTES), 1,
                    "A handoff execution failed (see the handoff's exceptions and the work queue).")
        self._alarm("WorkItemPastSla", _service_metric(WORK_ITEM_PAST_SLA, "Maximum", Duration.minutes(15)), 0,
                    "The oldest open work item is past its group's SLA.",
                    cw.ComparisonOperator.GREATER_THAN_THRESHOLD)
        self._alarm("ApprovalApi5xx", api.metric_server_error(statistic="Sum", period=FIVE_MINUTES), 1,
                    "The approval and operators' API answered 5xx: approvers or integrations are failing.")
        self._alarm("SesBounceRate", cw.Metric(namespace="AWS/SES", metric_name="Reputation.BounceRate",
                                               statistic="Maximum", period=HOUR), SES_BOUNCE_RATE_MAX,
                    "The SES bounce rate reached 5 %: SES reviews the account at 5 % and may pause sending at 10 %.")
        rate = cw.MathExpression(
            expression="IF(calls > 0, 100 * failures / calls, 0)", label="Integration failure rate (%)",
            period=Duration.minutes(15),
            using_metrics={"calls": _service_metric("IntegrationCalls", "Sum", Duration.minutes(15)),
                           "failures": _service_metric("IntegrationFailures", "Sum", Duration.minutes(15))})
        self._alarm("IntegrationFailureRate", rate, INTEGRATION_FAILURE_PERCENT_MAX,
                    "Over 10 % of calls to systems of record failed in 15 minutes (retries included).",
                    cw.ComparisonOperator.GREATER_THAN_THRESHOLD)

    # --- dashboards -------------------------------------------------------------------------------
    def _business_dashboard(self) -> cw.Dashboard:
        by_line = [
            cw.GraphWidget(title=f"{title} by service line", width=6, left=[_insights(
                title, f"SELECT SUM({metric}) FROM {HANDOFF_SCHEMA} GROUP BY ServiceLine")])
            for metric, title in (("HandoffsStarted", "Handoffs started"), ("HandoffsActivated", "Activated"),
                                  ("HandoffsBlocked", "Blocked"), ("HandoffsFailed", "Failed"))
        ]
        cycle = cw.GraphWidget(title="Closed-won to activation (seconds)", width=8, left=[
            _service_metric("ClosedWonToActivationSeconds", p, DAY).with_(label=p) for p in ("p50", "p90")])
        approvals = cw.GraphWidget(
            title="Approvals pending and the oldest one's age", width=8,
            left=[_service_metric("ApprovalsPending", "Maximum", Duration.minutes(15))],
            right=[_service_metric("OldestPendingApprovalSeconds", "Maximum", Duration.minutes(15))])
        work = cw.GraphWidget(
            title="Open work items by group, and the oldest one's age", width=8,
            left=[_insights("Open work items", f"SELECT MAX(OpenWorkItems) FROM {WORK_ITEM_SCHEMA} GROUP BY OwnerGroup",
                            Duration.minutes(15))],
            right=[_insights("Oldest open item (s)",
                             f"SELECT MAX(OldestOpenWorkItemAgeSeconds) FROM {WORK_ITEM_SCHEMA} GROUP BY OwnerGroup",
                             Duration.minutes(15))])
        return cw.Dashboard(self, "BusinessDashboard", widgets=[
            [cw.TextWidget(markdown="# Closed-won handoffs: business", width=24, height=1)], by_line,
            [cycle, approvals, work], *self._process_widgets()])

    @staticmethod
    def _process_widgets() -> list[list[cw.IWidget]]:
        """The process metrics live (the facts' EMF): where handoffs fail, how long approvals take,
        which systems fail; the report and the console's metrics page have the same from Athena."""
        def approval(stat: str) -> cw.MathExpression:
            return _insights(f"{stat} by kind", f"SEARCH('{{{NAMESPACE},ApprovalKind,service}} "
                                                f"MetricName=\"ApprovalDecisionSeconds\"', '{stat}', 86400)", DAY)

        return [[
            cw.GraphWidget(title="Exceptions raised by code", width=8, left=[_insights(
                "Exceptions raised", f"SELECT SUM(ExceptionsRaised) FROM {EXCEPTION_SCHEMA} GROUP BY Code")]),
            cw.GraphWidget(title="Exceptions resolved by code", width=8, left=[_insights(
                "Exceptions resolved", f"SELECT SUM(ExceptionsResolved) FROM {RESOLVED_SCHEMA} GROUP BY Code")]),
            cw.GraphWidget(title="Integration failures by system of record", width=8, left=[_insights(
                "Failures", f"SELECT SUM(IntegrationFailures) FROM {INTEGRATION_SCHEMA} GROUP BY System")]),
        ], [
            cw.GraphWidget(title="Approval decision time by kind (p50, p90 seconds)", width=8,
                           left=[approval("p50"), approval("p90")]),
            cw.GraphWidget(title="Approvals timed out by kind", width=8, left=[_insights(
                "Timed out", f"SELECT SUM(ApprovalsTimedOut) FROM {APPROVAL_KIND_SCHEMA} GROUP BY ApprovalKind", DAY)]),
            cw.GraphWidget(title="Received to activated (seconds)", width=8, left=[
                _service_metric("ReceivedToActivatedSeconds", p, DAY).with_(label=p) for p in ("p50", "p90")],
                right=[_insights("Fix rounds by service line",
                                 f"SELECT SUM(FixRoundsStarted) FROM {SERVICE_LINE_SCHEMA} GROUP BY ServiceLine", DAY)]),
        ]]

    def _technical_dashboard(self, functions: dict[str, lambda_.Function], machine: sfn.StateMachine,
                             api: apigw.RestApi, dead_letters: list[sqs.IQueue]) -> cw.Dashboard:
        fns = sorted(functions.items())
        executions = cw.GraphWidget(title="Executions failed, timed out, throttled", width=8, left=[
            machine.metric_failed(statistic="Sum"), machine.metric_timed_out(statistic="Sum"),
            machine.metric_throttled(statistic="Sum")])
        lambda_widgets = [
            cw.GraphWidget(title="Lambda errors per function", width=8,
                           left=[f.metric_errors(statistic="Sum", label=n) for n, f in fns]),
            cw.GraphWidget(title="Lambda duration p90 per function", width=8,
                           left=[f.metric_duration(statistic="p90", label=n) for n, f in fns]),
            cw.GraphWidget(title="Lambda throttles per function", width=8,
                           left=[f.metric_throttles(statistic="Sum", label=n) for n, f in fns]),
        ]
        queues = cw.GraphWidget(title="Dead-letter queue depth", width=8, left=[
            q.metric_approximate_number_of_messages_visible(statistic="Maximum", label=q.node.id) for q in dead_letters])
        api_widgets = [
            cw.GraphWidget(title="API 4xx and 5xx", width=8, left=[
                api.metric_client_error(statistic="Sum"), api.metric_server_error(statistic="Sum")]),
            cw.GraphWidget(title="API latency", width=8, left=[
                api.metric_latency(statistic=p, label=f"latency {p}") for p in ("p50", "p90", "p99")]),
        ]
        ses = cw.GraphWidget(title="SES bounces and complaints", width=8, left=[
            cw.Metric(namespace="AWS/SES", metric_name=m, statistic="Sum") for m in ("Send", "Bounce", "Complaint")],
            right=[cw.Metric(namespace="AWS/SES", metric_name="Reputation.BounceRate", statistic="Maximum")])
        systems = [
            cw.GraphWidget(title=f"{title} per system of record", width=8, left=[_insights(
                title, f"SELECT SUM({metric}) FROM {INTEGRATION_SCHEMA} GROUP BY System", FIVE_MINUTES)])
            for metric, title in (("IntegrationCalls", "Calls"), ("IntegrationFailures", "Failures"))
        ]
        return cw.Dashboard(self, "TechnicalDashboard", widgets=[
            [cw.TextWidget(markdown="# Closed-won handoffs: technical", width=24, height=1)],
            [executions, queues, *api_widgets[:1]], lambda_widgets, [api_widgets[1], ses, systems[0]], [systems[1]]])
