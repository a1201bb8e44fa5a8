"""The process metrics in the template: the console may run the analytics workgroup's named queries
(Athena, read-only on the facts, results under the workgroup's prefix) and knows the workgroup;
the business dashboard shows the live metrics RecordFacts emits from the facts."""

import json

from infra import analytics, monitoring
from tests.infra.test_monitoring import _dashboard, _titles
from tests.infra.test_stack import resources


def _console(template: dict) -> tuple[str, dict]:
    [(logical, function)] = [(k, f) for k, f in resources(template, "AWS::Lambda::Function").items()
                             if f["Properties"]["Handler"] == "handoff.handlers.console.handler"]
    return logical, function


def _statements(template: dict, role: dict) -> list[dict]:
    return [s for p in resources(template, "AWS::IAM::Policy").values() if role in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_the_console_runs_the_workgroups_named_queries_and_nothing_else_in_athena(template: dict) -> None:
    _logical, console = _console(template)
    env = console["Properties"]["Environment"]["Variables"]
    assert (env["ANALYTICS_WORKGROUP"], env["ANALYTICS_DATABASE"]) == (analytics.WORKGROUP, analytics.DATABASE)
    statements = _statements(template, {"Ref": console["Properties"]["Role"]["Fn::GetAtt"][0]})
    athena = [s for s in statements if any(str(a).startswith("athena:") for a in s["Action"])]
    [run] = athena
    assert sorted(run["Action"]) == sorted(["athena:ListNamedQueries", "athena:GetNamedQuery",
                                            "athena:StartQueryExecution", "athena:GetQueryExecution",
                                            "athena:GetQueryResults", "athena:StopQueryExecution"])
    assert f"workgroup/{analytics.WORKGROUP}" in json.dumps(run["Resource"])
    glue = [s for s in statements if any(str(a).startswith("glue:") for a in s["Action"])]
    assert [sorted(s["Action"]) for s in glue] == [["glue:GetDatabase", "glue:GetTable"]]
    assert f"table/{analytics.DATABASE}/{analytics.TABLE}" in json.dumps(glue[0]["Resource"])
    s3 = {json.dumps(s["Resource"]): s["Action"] for s in statements
          if any(str(a).startswith("s3:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))}
    facts_read = [a for r, a in s3.items() if f"/{analytics.PREFIX}*" in r]
    assert facts_read == ["s3:GetObject"]  # the facts are read only
    assert any(f"/{analytics.RESULTS}*" in r and "s3:PutObject" in a for r, a in s3.items())


def test_the_business_dashboard_shows_the_live_process_metrics(template: dict) -> None:
    board = _dashboard(template, "BusinessDashboard")
    text = board["text"].replace('\\"', '"')
    for query in (f"SELECT SUM(ExceptionsRaised) FROM {monitoring.EXCEPTION_SCHEMA} GROUP BY Code",
                  f"SELECT SUM(ExceptionsResolved) FROM {monitoring.RESOLVED_SCHEMA} GROUP BY Code",
                  f"SELECT SUM(IntegrationFailures) FROM {monitoring.INTEGRATION_SCHEMA} GROUP BY System",
                  f"SELECT SUM(ApprovalsTimedOut) FROM {monitoring.APPROVAL_KIND_SCHEMA} GROUP BY ApprovalKind",
                  f"SELECT SUM(FixRoundsStarted) FROM {monitoring.SERVICE_LINE_SCHEMA} GROUP BY ServiceLine"):
        assert query in text, query
    for stat in ("p50", "p90"):
        assert (f"SEARCH('{{{monitoring.NAMESPACE},ApprovalKind,service}} MetricName=\\\"ApprovalDecisionSeconds\\\"'"
                f", '{stat}', 86400)") in board["text"] or \
            f"MetricName=\"ApprovalDecisionSeconds\"', '{stat}', 86400)" in text
    assert '"ReceivedToActivatedSeconds"' in text
    titles = _titles(board)
    for title in ("Exceptions raised by code", "Approval decision time by kind (p50, p90 seconds)",
                  "Approvals timed out by kind", "Integration failures by system of record",
                  "Received to activated (seconds)", "Activated by service line", "Blocked by service line",
                  "Closed-won to activation (seconds)"):
        assert title in titles, title
