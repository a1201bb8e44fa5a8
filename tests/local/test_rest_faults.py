"""Every closed-won example end to end with every port served by a fake ERP/PSA/CRM over real HTTP
on 127.0.0.1, faults injected on its endpoints (429 with Retry-After, 500, a timeout, malformed
bodies, latency): every handoff still activates with exactly one customer, project, billing
schedule, staffing request per need and requisition per subcontractor in the systems of record.

Own runtime: its functions get SYSTEMS_CONFIG pointing at the fake, as a deployment's
`systemsConfig` context would; the API key sits in the stack's SystemsCredentials secret. Retry
waits (the connector's and the state machine's) are scaled: 1 s = 1 ms."""

import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from handoff.adapters.ledger.inspector import LedgerInspector
from local.runtime import EmbeddedRuntime
from tests.conftest import fixture_files
from tests.support.fake_erp import FakeErp
from tests.support.runtime_fixture import runtime_over_rest

API_KEY = "k-local-e2e"
EMEA = "006Qy00000AbCdE1"  # the deal with a subcontractor and approvals
CRM_PATH = f"/crm/opportunities/{EMEA}/project"
FAULTS = {
    "/customers/match-or-create": {"throttle": 2, "retry_after": "2"},
    "/projects": {"errors": 4},  # one more than the connector's 3 attempts: the state machine's Retry takes over
    "/billing-schedules": {"timeouts": 1},  # processed, answered after the client gave up
    "/staffing-requests/firm": {"malformed": 2},
    "/requisitions": {"latency": 0.05, "errors": 1},
    CRM_PATH: {"throttle": 1, "retry_after": "30"},  # longer than the connector waits: left to the state machine
}


@pytest.fixture(scope="module")
def erp() -> Iterator[FakeErp]:
    with FakeErp(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def rest_runtime(erp: FakeErp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRuntime]:
    with runtime_over_rest(erp, API_KEY, tmp_path_factory.mktemp("rest-runtime")) as runtime:
        yield runtime


def by_project(items: dict[str, dict]) -> Counter:
    return Counter(i["projectCode"] for i in items.values())


def test_every_example_activates_through_rest_adapters_despite_injected_faults(
    rest_runtime: EmbeddedRuntime, erp: FakeErp
) -> None:
    for path, fault in FAULTS.items():
        erp.fault(path, **fault, hang_seconds=1.0)
    events = [json.loads(p.read_text()) for p in fixture_files("closed-won")]
    started = time.monotonic()

    rest_runtime.publish(events)
    rest_runtime.wait_settled()
    rest_runtime.decide_all("approve")
    elapsed = time.monotonic() - started

    records = {r.opportunity_id: r for r in rest_runtime.records()}
    assert sorted(records) == sorted(e["detail"]["opportunity"]["id"] for e in events)
    for event in events:
        record = records[event["detail"]["opportunity"]["id"]]
        assert record.status == "ACTIVATED", (record.opportunity_id, record.status, record.exceptions)

    state = erp.state
    codes = {r.project.code for r in records.values()}
    # Exactly one of each per deal in the systems of record, whatever was retried.
    assert sorted(c["legalName"] for c in state.customers.values()) == sorted(
        e["detail"]["account"]["legalName"] for e in events)
    assert set(state.projects) == codes and len(state.projects) == len(events)
    assert Counter(s["projectCode"] for s in state.schedules.values()) == dict.fromkeys(codes, 1)
    subcontractors = {records[e["detail"]["opportunity"]["id"]].project.code: len(e["detail"].get("subcontractors", []))
                      for e in events}
    assert by_project(state.requisitions) == {code: n for code, n in subcontractors.items() if n}
    for event in events:
        opportunity = event["detail"]["opportunity"]["id"]
        requests = [r for r in state.staffing.values() if r["opportunityId"] == opportunity]
        assert len(requests) == len(event["detail"]["staffing"]) and {r["status"] for r in requests} == {"FIRM"}
        assert len({r["requestId"] for r in requests}) == len(requests)
        assert state.crm[opportunity] == records[opportunity].project.code
        record = records[opportunity]
        assert record.customer.erp_customer_id in state.customers
        assert [r.status for r in record.staffing_requests] == ["FIRM"] * len(event["detail"]["staffing"])

    # Every fault was met, and survived.
    injected = erp.injected
    assert injected[("/customers/match-or-create", "throttle")] == 2
    assert injected[("/projects", "error")] == 4
    assert injected[("/billing-schedules", "timeout")] == 1
    assert injected[("/staffing-requests/firm", "malformed")] == 2
    assert injected[("/requisitions", "error")] == 1 and injected[("/requisitions", "latency")] >= 2
    assert injected[(CRM_PATH, "throttle")] == 1
    # The connector's waits were scaled (Retry-After 2 s slept 2 ms), and the ledger was not used.
    assert 2 * rest_runtime.time_scale in rest_runtime.bridge.slept
    ledger = LedgerInspector(rest_runtime.session.resource("dynamodb").Table(rest_runtime.env("LEDGER_TABLE")))
    assert ledger.projects() == [] and ledger.customers() == []
    assert {r.header("X-Api-Key") for r in erp.requests} == {API_KEY}
    print(f"\nREST fault run: {elapsed:.1f} s, {sum(injected.values())} faults hit, {len(erp.requests)} requests")
