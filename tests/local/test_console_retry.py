"""The console's work queue retries a FAILED handoff (a master-data conflict fixed in the ERP) from the
step that failed, through the operators' API's use case; its own runtime and fake ERP, so nothing
another test did to the ERP's customers matters here."""

import re

import requests

from handoff.domain.work_items import item_id
from local.console import LocalConsole
from local.runtime import EmbeddedRuntime
from tests.local.test_retry_failed import erp, record_of, run, runtime  # noqa: F401 - module-scoped fixtures
from tests.support.events import closed_won
from tests.support.fake_erp import FakeErp


def test_a_failed_handoff_is_retried_from_the_console_work_queue(
        runtime: EmbeddedRuntime, erp: FakeErp) -> None:  # noqa: F811 - the fixtures imported above
    event = closed_won("us-fixed-fee-advisory", "006RETRY0000CON1")
    account = event["detail"]["account"]
    account.update(taxId="84-7654321", legalName="Console Retry Corp", erpCustomerId=None)  # a customer of its own
    erp.state.customers["C-9002"] = {"erpCustomerId": "C-9002", "legalName": account["legalName"], "country": "CA",
                                     "taxKey": account["taxId"].replace("-", ""), "nameKey": "console retry"}
    run(runtime, event)
    failed = record_of(runtime, "006RETRY0000CON1")
    assert failed.status == "FAILED"
    [exception] = failed.exceptions
    erp.state.customers["C-9002"]["country"] = "US"  # the data steward fixes the ERP record...

    console = LocalConsole(runtime).start()
    try:
        base = console.url.rstrip("/")
        page = requests.get(f"{base}/queue/{item_id(failed.handoff_id, exception.code, exception.field)}", timeout=30)
        assert page.status_code == 200 and 'value="retry"' in page.text  # ...and retries from the queue
        action = re.search(r'<form method="post" action="([^"]+/resolve)"', page.text).group(1)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        url = action if action.startswith("http") else base + action
        answer = requests.post(url, data={"csrf": csrf, "action": "retry", "note": "ERP record fixed"},
                               allow_redirects=False, timeout=30)
        assert answer.status_code in (302, 303), answer.text
        runtime.wait_settled()
        again = requests.get(f"{base}/queue/{item_id(failed.handoff_id, exception.code, exception.field)}", timeout=30)
    finally:
        console.stop()
    record = record_of(runtime, "006RETRY0000CON1")
    assert record.status == "ACTIVATED"
    assert record.customer.erp_customer_id == "C-9002"
    retry = next(t for t in record.timeline if t.step == "Retry 1")
    assert "console:" in retry.detail
    assert "retried from Sync customer master" in again.text
