"""A quarantined event brought back to a good end through the operators' recovery API
(POST /quarantine/requeue): still invalid, it stays (a dry run says why); corrected, it is put on
the bus once, moved out of the quarantine, and the deal activates; requeued again, nothing runs twice."""

import copy

from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw

OPPORTUNITY = "hs-deal-REQUEUE01"


def test_a_quarantined_event_is_corrected_requeued_once_and_activates(runtime: EmbeddedRuntime) -> None:
    bad = load_raw("invalid", "float-amount")
    bad["detail"]["opportunity"]["id"] = OPPORTUNITY
    bad["detail"]["eventId"] = "hs-evt-requeue-1"
    runtime.publish([bad])
    runtime.wait_settled()
    [kept] = [q for q in runtime.quarantined() if q["event"]["detail"]["eventId"] == "hs-evt-requeue-1"]

    status, plan = runtime.requeue_quarantine(dry_run=True)
    assert status == 200 and plan["dryRun"] is True and plan["requeued"] == []
    [still] = [s for s in plan["stillInvalid"] if s["key"] == kept["key"]]
    assert any(p["field"] == "detail.opportunity.amount.value" for p in still["problems"])

    corrected = copy.deepcopy(kept["event"])
    # The fix: the amount as the contract states it, a decimal string.
    corrected["detail"]["opportunity"]["amount"]["value"] = str(corrected["detail"]["contract"]["value"]["value"])
    status, done = runtime.requeue_quarantine(key=kept["key"], event=corrected)
    assert status == 202, done
    assert [r["eventId"] for r in done["requeued"]] == ["hs-evt-requeue-1"] and done["stillInvalid"] == []
    runtime.wait_settled()
    runtime.decide_all("approve")
    assert kept["key"] not in {q["key"] for q in runtime.quarantined()}

    again_status, again = runtime.requeue_quarantine(key=kept["key"], event=corrected)
    assert again_status == 202 and again["requeued"] == []
    runtime.wait_settled()
    records = [r for r in runtime.records() if r.opportunity_id == OPPORTUNITY]
    assert len(records) == 1 and records[0].status == "ACTIVATED", [(r.status, r.exceptions) for r in records]
    assert records[0].event_id == "hs-evt-requeue-1" and records[0].project is not None


def test_a_requeue_body_that_is_not_an_object_is_refused_naming_the_field(runtime: EmbeddedRuntime) -> None:
    status, body = runtime.requeue_quarantine(key="not-a-quarantine-key")
    assert status == 422 and body["problems"][0]["field"] == "key"
