"""A FAILED handoff brought back to ACTIVATED on the embedded runtime, with every port on the fake
ERP over HTTP: an ERP down for longer than every retry, then back, then POST /handoffs/{id}/retry;
a master-data conflict that goes to the data steward and is retried once the ERP record is fixed;
a new CRM event for a FAILED deal. Each ends with exactly one customer, project, schedule, staffing
request per need, requisition per subcontractor and email of each kind."""

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from local.runtime import EmbeddedRuntime
from tests.support.events import closed_won
from tests.support.fake_erp import FakeErp
from tests.support.runtime_fixture import runtime_over_rest

API_KEY = "k-retry"
STEWARD = "arn:aws:iam::123456789012:role/data-steward"


@pytest.fixture(scope="module")
def erp() -> Iterator[FakeErp]:
    with FakeErp(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def runtime(erp: FakeErp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRuntime]:
    with runtime_over_rest(erp, API_KEY, tmp_path_factory.mktemp("retry")) as started:
        yield started


def run(runtime: EmbeddedRuntime, *events: dict) -> None:
    runtime.publish(list(events))
    runtime.wait_settled()
    runtime.decide_all("approve")


def record_of(runtime: EmbeddedRuntime, opportunity_id: str):
    return next(r for r in runtime.records() if r.opportunity_id == opportunity_id)


def assert_exactly_once(runtime: EmbeddedRuntime, erp: FakeErp, event: dict) -> None:
    detail = event["detail"]
    record = record_of(runtime, detail["opportunity"]["id"])
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    code = record.project.code
    state = erp.state
    assert [c for c in state.customers.values() if c["legalName"] == detail["account"]["legalName"]] != []
    assert sum(1 for c in state.customers.values() if c["legalName"] == detail["account"]["legalName"]) == 1
    assert list(state.projects).count(code) == 1
    assert Counter(s["projectCode"] for s in state.schedules.values())[code] == 1
    requests = [r for r in state.staffing.values() if r["opportunityId"] == detail["opportunity"]["id"]]
    assert len(requests) == len(detail["staffing"]) and {r["status"] for r in requests} == {"FIRM"}
    assert Counter(r["projectCode"] for r in state.requisitions.values())[code] == len(detail.get("subcontractors", []))
    assert state.crm[detail["opportunity"]["id"]] == code
    name = detail["opportunity"]["name"]
    subjects = Counter(m.subject for m in runtime.emails() if name in m.subject)
    assert subjects[f"Launch packet ready: {code} {name}"] == 1
    assert all(n == 1 for n in subjects.values()), subjects


def test_an_erp_down_longer_than_the_retries_fails_the_handoff_and_a_retry_activates_it_once(
    runtime: EmbeddedRuntime, erp: FakeErp
) -> None:
    event = closed_won("emea-milestone-erp-rollout", "006RETRY0000ERP1")
    erp.fault("/requisitions", errors=10_000)  # procurement down: every attempt of every retry fails
    run(runtime, event)
    failed = record_of(runtime, "006RETRY0000ERP1")
    assert failed.status == "FAILED"
    assert [e.code for e in failed.exceptions] == ["INTEGRATION_FAILURE"]
    assert failed.project is not None and failed.billing_schedule is not None  # done before the failure
    billing_calls = len(erp.requests_to("/billing-schedules"))

    erp.fault("/requisitions")  # back up
    status, body = runtime.retry(failed.handoff_id)
    assert status == 202, body
    assert body["resumeAt"] == "Set up billing, staffing and procurement" and body["retry"] == 1
    assert body["status"] == "PROVISIONING" and body["executionArn"].endswith(f"{failed.handoff_id}-retry-1")
    runtime.wait_settled()

    assert_exactly_once(runtime, erp, event)
    record = record_of(runtime, "006RETRY0000ERP1")
    assert record.exceptions == []
    retry = next(t for t in record.timeline if t.step == "Retry 1")
    assert runtime.OPERATOR_ARN in retry.detail and "Set up billing" in retry.detail
    # Done steps were not redone: billing replayed its stored result without calling the ERP again.
    assert len(erp.requests_to("/billing-schedules")) == billing_calls

    again, refused = runtime.retry(failed.handoff_id)
    assert again == 409 and refused["status"] == "ACTIVATED" and "ACTIVATED" in refused["message"]


def test_retry_of_an_unknown_handoff_is_404(runtime: EmbeddedRuntime) -> None:
    assert runtime.retry("ho-0000000000000000")[0] == 404
    assert runtime.retry("not-an-id")[0] == 404


def test_a_master_data_conflict_goes_to_the_data_steward_and_resolving_it_retries(
    runtime: EmbeddedRuntime, erp: FakeErp
) -> None:
    event = closed_won("us-fixed-fee-advisory", "006RETRY0000MDC1")
    account = event["detail"]["account"]
    # The ERP holds the account's tax id under the wrong country.
    erp.state.customers["C-9001"] = {"erpCustomerId": "C-9001", "legalName": account["legalName"], "country": "CA",
                                     "taxKey": account["taxId"].replace("-", ""), "nameKey": "cobalt"}
    run(runtime, event)
    failed = record_of(runtime, "006RETRY0000MDC1")
    assert failed.status == "FAILED"
    [exception] = failed.exceptions
    assert exception.code == "MASTER_DATA_CONFLICT" and exception.owner_group == "data-steward"
    # The exceptions queue's message became the data steward's work item (the work queue's intake takes it).
    [item] = [i for i in runtime.work_items().for_handoff(failed.handoff_id) if i.code == "MASTER_DATA_CONFLICT"]
    assert item.owner_group == "data-steward" and item.is_open

    erp.state.customers["C-9001"]["country"] = "US"  # the steward fixes the ERP record and resolves the item
    status, body = runtime.retry(failed.handoff_id, caller=STEWARD)
    assert status == 202 and body["resumeAt"] == "Sync customer master", body
    runtime.wait_settled()

    assert_exactly_once(runtime, erp, event)
    record = record_of(runtime, "006RETRY0000MDC1")
    assert record.customer.erp_customer_id == "C-9001" and record.customer.match == "existing"
    assert STEWARD in next(t for t in record.timeline if t.step == "Retry 1").detail


def test_a_new_crm_event_for_a_failed_deal_retries_it_with_that_deal(runtime: EmbeddedRuntime, erp: FakeErp) -> None:
    first = closed_won("us-fixed-fee-advisory", "006RETRY0000CRM1")
    first["detail"]["account"].update(legalName="Teal Dental LLC", taxId="84-7654321")
    erp.fault("/customers/match-or-create", errors=10_000)
    run(runtime, first)
    failed = record_of(runtime, "006RETRY0000CRM1")
    assert failed.status == "FAILED" and failed.customer is None

    erp.fault("/customers/match-or-create")
    corrected = closed_won("us-fixed-fee-advisory", "006RETRY0000CRM1", event_id="006RETRY0000CRM1-won-2")
    corrected["detail"]["account"].update(legalName="Teal Dental Group LLC", taxId="84-7654321")
    run(runtime, corrected)

    assert_exactly_once(runtime, erp, corrected)
    record = record_of(runtime, "006RETRY0000CRM1")
    assert record.handoff_id == failed.handoff_id and record.rework == 1
    assert record.customer.legal_name == "Teal Dental Group LLC"
    assert "CRM event 006RETRY0000CRM1-won-2" in next(t for t in record.timeline if t.step == "Retry 1").detail
    # The same event again is a plain duplicate: nothing runs twice.
    run(runtime, corrected)
    assert record_of(runtime, "006RETRY0000CRM1").status == "ACTIVATED"
    assert_exactly_once(runtime, erp, corrected)


def test_retry_from_the_command_line_every_failed_handoff_once(runtime: EmbeddedRuntime, erp: FakeErp,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from local import cli

    api = f"{runtime.api.base_url}/{runtime.resources.stage_name}"
    events = [closed_won("us-fixed-fee-advisory", "006RETRY0000CLI1"),
              closed_won("apac-time-and-materials", "006RETRY0000CLI2")]
    events[0]["detail"]["account"].update(legalName="Umber Analytics LLC", taxId="84-1112223")
    erp.fault("/billing-schedules", errors=10_000)
    run(runtime, *events)
    failed = {e["detail"]["opportunity"]["id"]: record_of(runtime, e["detail"]["opportunity"]["id"]) for e in events}
    assert {r.status for r in failed.values()} == {"FAILED"}
    erp.fault("/billing-schedules")  # back up

    assert cli.main(["retry", "--api", api, "--failed", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index('{\n  "retried"'):])
    retried = {r["handoffId"]: r for r in report["retried"]}
    assert {r.handoff_id for r in failed.values()} <= set(retried) and report["refused"] == []
    assert all(retried[r.handoff_id]["resumeAt"] == "Set up billing, staffing and procurement"
               for r in failed.values())
    runtime.wait_settled()
    for event in events:
        assert_exactly_once(runtime, erp, event)

    # Named again: ACTIVATED now, so refused (409) with the status, exit 1; no handoff named at all: usage, exit 2.
    one = failed["006RETRY0000CLI1"].handoff_id
    assert cli.main(["retry", "--api", api, "--handoff", one]) == 1
    assert f"{one}: refused (409)" in capsys.readouterr().out
    assert cli.main(["retry", "--api", api]) == 2
    assert "--handoff" in capsys.readouterr().err
