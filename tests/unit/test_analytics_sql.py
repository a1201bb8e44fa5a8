"""The metric SQL on a small hand-written set of facts: DuckDB's results equal values computed by
hand, and every file parses as Athena (Trino) SQL."""

import json
from pathlib import Path

import pytest
import sqlglot

from analytics.engine import FactsDb, FactsUnreadable
from analytics.schema import FACT_COLUMNS
from analytics.sql import queries, views
from handoff.domain.facts import Fact, sequence_text
from handoff.logic.process_metrics import compute

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
_seq = iter(range(1, 10_000))


def fact(kind: str, handoff: str, offset: float, **fields: object) -> dict:
    fields.setdefault("fact_id", f"{handoff}-{kind}-{offset}-{fields.get('code', '')}{fields.get('system', '')}")
    return Fact(kind=kind, handoff_id=handoff, occurred_at="2027-01-15T08:00:00.000Z", ts=T0 + offset, dt="2027-01-15",
                seq=sequence_text(next(_seq)), **fields).to_row()


def received(handoff: str, service_line: str, region: str) -> dict:
    return fact("received", handoff, 0, service_line=service_line, region=region, status="RECEIVED", fix_round=0)


def deal(handoff: str, closed_offset: float, contract_type: str) -> dict:
    return fact("deal", handoff, 1, contract_type=contract_type, amount="1000.00", currency="EUR",
                closed_ts=T0 + closed_offset, subcontractors=0, countries="DE", customer_new=False)


def status(handoff: str, offset: float, value: str) -> dict:
    return fact("status_changed", handoff, offset, status=value)


def activated(handoff: str, offset: float) -> list[dict]:
    return [status(handoff, offset, "ACTIVATED"), fact("activated", handoff, offset, status="ACTIVATED")]


def raised(handoff: str, offset: float, code: str, severity: str = "BLOCKING", owner: str = "sales-ops") -> dict:
    return fact("exception_raised", handoff, offset, code=code, severity=severity, owner_group=owner,
                step="ValidateReadiness", field="account.taxId")


def resolved(handoff: str, offset: float, code: str) -> dict:
    return fact("exception_resolved", handoff, offset, code=code, severity="BLOCKING", step="ValidateReadiness",
                field="account.taxId")


def approval(handoff: str, kind: str, asked: float, decided: float, decision: str) -> list[dict]:
    return [fact("approval_requested", handoff, asked, approval_kind=kind, approval_id=f"{handoff}.{kind}"),
            fact("approval_decided", handoff, decided, approval_kind=kind, approval_id=f"{handoff}.{kind}",
                 decision=decision, duration_seconds=decided - asked)]


def call(handoff: str, offset: float, system: str, outcome: str) -> dict:
    return fact("system_call", handoff, offset, system=system, outcome=outcome, operation="op",
                fact_id=f"{handoff}-call-{offset}")


def hand_written_facts() -> list[dict]:
    a = [received("A", "advisory", "AMER"), deal("A", -3600, "fixed_fee"), status("A", 50, "AWAITING_APPROVAL"),
         *approval("A", "finance", 100, 400, "APPROVED"), *activated("A", 1000)]
    b = [received("B", "advisory", "EMEA"), deal("B", -7200, "milestone"), raised("B", 10, "MISSING_FIELD"),
         status("B", 11, "BLOCKED"), fact("round_started", "B", 500, fix_round=1), resolved("B", 500, "MISSING_FIELD"),
         *activated("B", 2000)]
    c = [received("C", "erp-implementation", "EMEA"), deal("C", -60, "milestone"), raised("C", 5, "INVALID_TAX_ID"),
         status("C", 6, "BLOCKED")]
    d = [received("D", "erp-implementation", "APAC"), deal("D", -600, "time_and_materials"),
         raised("D", 20, "NON_STANDARD_CLAUSE", "WARNING", "legal"), *approval("D", "legal", 50, 850, "APPROVED"),
         call("D", 900, "billing", "SUCCEEDED"), call("D", 910, "billing", "FAILED"),
         call("D", 920, "billing", "SUCCEEDED"), call("D", 990, "crm", "SUCCEEDED"), *activated("D", 4000)]
    e = [received("E", "erp-implementation", "EMEA"), deal("E", -60, "retainer"),
         *approval("E", "finance", 30, 9000, "EXPIRED"), raised("E", 9001, "APPROVAL_TIMEOUT", owner="finance"),
         status("E", 9002, "BLOCKED")]
    redelivered = [a[-1], b[2]]  # the same facts again: counted once
    return a + b + c + d + e + redelivered


def write(folder: Path, rows: list[dict]) -> Path:
    part = folder / "dt=2027-01-15"
    part.mkdir(parents=True, exist_ok=True)
    (part / "facts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    db = FactsDb(write(tmp_path_factory.mktemp("facts"), hand_written_facts()))
    try:
        return compute(db)
    finally:
        db.close()


def test_counts_and_rates_match_the_hand_computed_values(report: dict) -> None:
    assert report["handoffs"] == 5
    assert report["byStatus"] == {"ACTIVATED": 3, "BLOCKED": 2}
    assert report["firstTimeRight"] == 0.4  # A and D: activated, no blocking exception, no rework
    assert report["exceptionRate"] == 0.6  # B, C, E
    assert report["reworkRate"] == 0.2  # B
    assert report["synthetic"] is False


def test_cycle_times_are_nearest_rank_percentiles(report: dict) -> None:
    # received -> activated: A 1000, B 2000, D 4000; closed-won -> activated: 4600, 9200, 4600
    assert report["cycleTimeSeconds"] == {"receivedToActivated": {"p50": 2000.0, "p90": 4000.0},
                                          "closedWonToActivated": {"p50": 4600.0, "p90": 9200.0}}


def test_exceptions_approvals_and_integrations(report: dict) -> None:
    assert report["exceptionsByCode"] == {"MISSING_FIELD": 1, "INVALID_TAX_ID": 1, "NON_STANDARD_CLAUSE": 1,
                                          "APPROVAL_TIMEOUT": 1}
    assert report["approvalSeconds"] == {"finance": {"count": 1, "p50": 300.0, "p90": 300.0},
                                         "legal": {"count": 1, "p50": 800.0, "p90": 800.0}}
    assert report["approvalsTimedOut"] == 1
    assert report["approvals"]["finance"] == {"requested": 2, "approved": 1, "rejected": 0, "timedOut": 1,
                                              "escalated": 0}
    assert report["integrationFailures"] == {"billing": {"calls": 3, "failures": 1, "failureRate": 0.3333},
                                             "crm": {"calls": 1, "failures": 0, "failureRate": 0.0}}
    assert report["exceptionCycleSeconds"]["byCode"] == {"MISSING_FIELD": {"count": 1, "p50": 490.0, "p90": 490.0}}
    assert report["exceptionRateBy"]["code"]["APPROVAL_TIMEOUT"] == {"handoffs": 5, "withBlockingException": 1,
                                                                     "rate": 0.2}
    assert report["exceptionRateBy"]["region"]["EMEA"]["rate"] == 1.0  # B, C, E


def test_by_service_line(report: dict) -> None:
    assert report["byServiceLine"] == {
        "advisory": {"handoffs": 2, "activated": 2, "blocked": 0, "firstTimeRight": 0.5, "exceptionRate": 0.5,
                     "reworkRate": 0.5, "cycleTimeSeconds": {"p50": 4600.0, "p90": 9200.0}},
        "erp-implementation": {"handoffs": 3, "activated": 1, "blocked": 2, "firstTimeRight": 0.3333,
                               "exceptionRate": 0.6667, "reworkRate": 0.0,
                               "cycleTimeSeconds": {"p50": 4600.0, "p90": 4600.0}},
    }


def test_no_facts_gives_nulls_not_errors(tmp_path: Path) -> None:
    report = compute(FactsDb(tmp_path))
    assert report["handoffs"] == 0
    assert report["firstTimeRight"] is None
    assert report["cycleTimeSeconds"]["receivedToActivated"] == {"p50": None, "p90": None}
    assert report["byServiceLine"] == {} and report["exceptionsByCode"] == {}


def test_a_file_that_is_not_facts_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    with pytest.raises(FactsUnreadable, match="broken.jsonl"):
        FactsDb(tmp_path)


@pytest.mark.parametrize("name", [*(n for n, _ in views()), *queries()])
def test_every_statement_parses_as_athena_sql(name: str) -> None:
    text = dict(views()).get(name) or queries()[name]
    parsed = sqlglot.parse(text, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(parsed) == 1 and parsed[0] is not None


def test_fact_columns_are_the_model_fields() -> None:
    assert list(FACT_COLUMNS) == list(Fact.model_fields)
