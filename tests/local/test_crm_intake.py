"""CRM intake end to end on the embedded runtime: Salesforce Event Relay events put on the partner
event bus and HubSpot webhooks POSTed over HTTP (signed as HubSpot signs) reach the intake through
the stack's own rule, route and queue; the intake re-reads the fake CRM over HTTP and the handoffs
run to ACTIVATED (project code written back) or BLOCKED naming the CRM field to fill in."""

import copy
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoff.adapters.ledger.inspector import LedgerInspector
from local.fake_crm import exact_json
from local.ingest import LocalCrms, post_webhook, relay
from local.runtime import EmbeddedRuntime
from tests.support.fixtures import CRM_FIXTURES

SF, HS = CRM_FIXTURES / "salesforce", CRM_FIXTURES / "hubspot"


def load(path: Path) -> Any:
    return json.loads(path.read_text(), parse_float=Decimal)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedRuntime, LocalCrms]]:
    import logging
    import warnings

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="aws_lambda_powertools")
    with LocalCrms(load(SF / "records.json"), load(HS / "records.json")) as crms, \
            EmbeddedRuntime(tmp_path_factory.mktemp("runtime"), environment=crms.environment()) as runtime:
        crms.install_secrets(runtime)
        yield runtime, crms


def handoffs(runtime: EmbeddedRuntime, opportunity_id: str) -> list[Any]:
    return [r for r in runtime.records() if r.opportunity_id == opportunity_id]


def settle(runtime: EmbeddedRuntime) -> None:
    runtime.wait_settled()
    runtime.decide_all("approve")


def invocations(runtime: EmbeddedRuntime, prefix: str) -> int:
    return sum(1 for name, _error in runtime.lambdas.invocations if name.startswith(prefix))


def staffing(runtime: EmbeddedRuntime, opportunity_id: str) -> dict[str, str]:
    ledger = LedgerInspector(runtime.session.resource("dynamodb").Table(runtime.env("LEDGER_TABLE")))
    return {r["role"]: r["status"] for r in ledger.staffing_requests(opportunity_id)}


def record(crms: LocalCrms, sobject: str, record_id: str) -> dict:
    return next(r for r in crms.salesforce.records[sobject] if r["Id"] == record_id)


def touch(fields: dict, at: str) -> None:
    """A save in Salesforce: new values and a new LastModifiedDate."""
    fields["LastModifiedDate"] = at


def clone(crms: LocalCrms, source_id: str, new_id: str) -> None:
    """A deal of a test's own, with its products (tests of this module run in any order, on any worker)."""
    records = crms.salesforce.records
    records["Opportunity"].append({**copy.deepcopy(record(crms, "Opportunity", source_id)), "Id": new_id})
    for i, line in enumerate([r for r in records["OpportunityLineItem"] if r["OpportunityId"] == source_id]):
        records["OpportunityLineItem"].append({**copy.deepcopy(line), "OpportunityId": new_id,
                                               "Id": f"00k5e00000Cl{new_id[10:13]}{i}AAA"})


def renamed(events: Any, old: str, new: str) -> Any:
    return json.loads(exact_json(events).decode().replace(old, new), parse_float=Decimal)


# --- Salesforce ----------------------------------------------------------------------------------------

def test_redelivered_platform_and_change_events_make_one_handoff_activated_and_written_back(crm) -> None:
    runtime, crms = crm
    clone(crms, "006Qy00000AbCd1AAK", "006Qy00000AbCd6AAK")
    # The platform event, then one change event twice.
    relay(runtime, renamed(load(SF / "redelivered-closed-won.json"), "006Qy00000AbCd1AAK", "006Qy00000AbCd6AAK"))
    settle(runtime)
    [handoff] = handoffs(runtime, "006Qy00000AbCd6AAK")
    assert handoff.status == "ACTIVATED" and handoff.source == "crm.salesforce"
    assert handoff.billing_schedule.total == Decimal("480000.00")
    assert not [t for t in handoff.timeline if t.step.startswith("IgnoredEvent")]  # the same event, three times
    assert [w for w in crms.salesforce.writes if w["id"] == "006Qy00000AbCd6AAK"] == [{
        "crm": "salesforce", "object": "Opportunity", "id": "006Qy00000AbCd6AAK",
        "fields": {"Project_Code__c": handoff.project.code, "Handoff_Status__c": "ACTIVATED",
                   "Launch_Packet_URL__c": handoff.launch_packet}}]
    assert record(crms, "Opportunity", "006Qy00000AbCd6AAK")["Project_Code__c"] == handoff.project.code


def test_one_change_event_for_two_records_re_reads_both_and_blocks_the_one_missing_a_custom_field(crm) -> None:
    runtime, crms = crm
    queries = len(crms.salesforce.queries)
    relay(runtime, [load(SF / "cdc-two-records-won.json")])
    settle(runtime)
    [blocked] = handoffs(runtime, "006Qy00000LuMn2AAC")
    assert blocked.status == "BLOCKED"
    [missing] = [e for e in blocked.exceptions if e.field == "opportunity.serviceLine"]
    assert missing.code == "MISSING_FIELD" and missing.severity == "BLOCKING"
    assert "Service_Line__c on the Opportunity" in missing.message
    assert len(handoffs(runtime, "006Qy00000AbCd1AAK")) == 1  # the activated deal stays one handoff
    opportunity_queries = [q for q in crms.salesforce.queries[queries:] if "FROM Opportunity " in q]
    assert opportunity_queries == [opportunity_queries[0]] and "'006Qy00000LuMn2AAC'" in opportunity_queries[0]
    mail = [m for m in runtime.emails() if m.to == "marc.dubois@example-consulting.com"]
    assert mail and "Service_Line__c" in mail[-1].text()


def test_the_fix_is_made_in_salesforce_and_the_same_handoff_continues_through_a_rate_limit(crm) -> None:
    runtime, crms = crm
    # A deal of its own (tests of this module may run in any order, on any worker): the thin one, won.
    opportunity = {**copy.deepcopy(record(crms, "Opportunity", "006Qy00000LuMn2AAC")), "Id": "006Qy00000LuMn5AAC"}
    crms.salesforce.records["Opportunity"].append(opportunity)
    change = load(SF / "cdc-closed-won.json")
    header = change["detail"]["payload"]["ChangeEventHeader"]
    header.update(recordIds=["006Qy00000LuMn5AAC"], commitUser="0055e000003LnHgAAK")
    relay(runtime, [change])
    settle(runtime)
    assert [h.status for h in handoffs(runtime, "006Qy00000LuMn5AAC")] == ["BLOCKED"]
    opportunity["Service_Line__c"] = "Data & Analytics"
    touch(opportunity, "2026-11-24T12:00:00.000+0000")
    header.update(changedFields=["Service_Line__c", "LastModifiedDate"])
    slept = len(runtime.bridge.slept)
    crms.salesforce.throttle(2, retry_after="2")
    relay(runtime, [change])
    settle(runtime)
    [handoff] = handoffs(runtime, "006Qy00000LuMn5AAC")
    assert handoff.rework == 1 and handoff.status == "BLOCKED"
    assert runtime.store().deal(handoff.handoff_id).detail.opportunity.service_line == "data-analytics"
    fields = {e.field: e for e in handoff.exceptions}
    assert "opportunity.serviceLine" not in fields
    assert "Tax_Id__c on the Opportunity's Account" in fields["account.taxId"].message  # the next fix, named
    assert runtime.bridge.slept[slept:].count(2 * runtime.time_scale) >= 2  # Retry-After obeyed (scaled)
    assert crms.salesforce._throttled == 0


def test_stage_changes_open_soft_staffing_and_a_loss_releases_it(crm) -> None:
    runtime, crms = crm
    relay(runtime, [load(SF / "cdc-stage-negotiation.json")])
    lost = record(crms, "Opportunity", "006Qy00000HaNs4AAC")
    lost.update(StageName="Negotiation/Review", Probability=Decimal("80.0"), IsClosed=False)
    touch(lost, "2026-10-10T09:00:00.000+0000")
    negotiation = load(SF / "cdc-stage-negotiation.json")
    negotiation["detail"]["payload"]["ChangeEventHeader"]["recordIds"] = ["006Qy00000HaNs4AAC"]
    relay(runtime, [negotiation])
    settle(runtime)
    assert staffing(runtime, "006Qy00000HaNs3AAC") == {"Engagement Manager": "SOFT", "Solution Architect": "SOFT"}
    assert staffing(runtime, "006Qy00000HaNs4AAC") == {"Engagement Manager": "SOFT", "Solution Architect": "SOFT"}
    lost.update(StageName="Closed Lost", Probability=Decimal("0.0"), IsClosed=True)
    touch(lost, "2026-10-15T11:00:00.000+0000")
    relay(runtime, [load(SF / "cdc-closed-lost.json")])
    settle(runtime)
    assert staffing(runtime, "006Qy00000HaNs4AAC") == {"Engagement Manager": "RELEASED", "Solution Architect": "RELEASED"}
    assert not handoffs(runtime, "006Qy00000HaNs3AAC") and not handoffs(runtime, "006Qy00000HaNs4AAC")


def test_our_own_write_back_and_events_from_another_org_start_nothing(crm) -> None:
    runtime, crms = crm
    executions, intakes = len(runtime.executions()), invocations(runtime, "SalesforceIntake")
    queries = len(crms.salesforce.queries)
    stranger = load(SF / "platform-event-closed-won.json")
    stranger["source"] = "aws.partner/salesforce.com/00D000000000EVILAA/0YL000000000EVILAA"
    relay(runtime, [load(SF / "cdc-our-write-back.json"), stranger])
    runtime.wait_settled()
    assert invocations(runtime, "SalesforceIntake") == intakes + 1  # the other org's event matches no rule
    assert len(runtime.executions()) == executions and len(crms.salesforce.queries) == queries


# --- HubSpot -------------------------------------------------------------------------------------------

def body(name: str) -> bytes:
    return exact_json(load(HS / name))


def test_unsigned_forged_stale_or_foreign_webhooks_are_refused_and_nothing_is_queued(crm) -> None:
    runtime, crms = crm
    intakes = invocations(runtime, "HubSpotIntake")
    won = body("webhook-closed-won.json")
    assert post_webhook(runtime, won, app_secret=None)[0] == 401
    assert post_webhook(runtime, won, app_secret="not-the-app-secret")[0] == 401
    stale = int(time.time() * 1000) - 301_000
    status, answer = post_webhook(runtime, won, app_secret=crms.app_secret, timestamp_ms=stale)
    assert status == 401 and "more than 300 s" in answer["message"]
    foreign = [{**e, "portalId": 999} for e in load(HS / "webhook-closed-won.json")]
    assert post_webhook(runtime, exact_json(foreign), app_secret=crms.app_secret)[0] == 403
    runtime.wait_settled()
    assert invocations(runtime, "HubSpotIntake") == intakes
    assert runtime.queue_messages("HubSpotWebhookQueue") == []


def test_a_signed_batch_becomes_one_handoff_per_deal_activated_or_blocked_naming_the_property(crm) -> None:
    runtime, crms = crm
    assert post_webhook(runtime, body("webhook-closed-won.json"), app_secret=crms.app_secret) == (200, {"accepted": 3})
    settle(runtime)
    [won] = handoffs(runtime, "9871001")
    assert won.status == "ACTIVATED" and won.source == "crm.hubspot"
    assert won.billing_schedule.contract_type == "time_and_materials" and won.billing_schedule.currency == "AUD"
    [blocked] = handoffs(runtime, "9871002")
    messages = {e.field: e.message for e in blocked.exceptions if e.code == "MISSING_FIELD"}
    assert "the deal property service_line" in messages["opportunity.serviceLine"]
    assert "the deal property payment_terms_days" in messages["contract.paymentTermsDays"]
    writes = [w for w in crms.hubspot.writes if w["id"] == "9871001"]
    assert [w["fields"]["project_code"] for w in writes] == [won.project.code]
    # HubSpot retries, repeats an eventId across subscriptions, and tells us about our own write-back.
    for again in load(HS / "webhook-redelivered.json"):
        assert post_webhook(runtime, exact_json(again), app_secret=crms.app_secret)[0] == 200
    assert post_webhook(runtime, body("webhook-our-write-back.json"), app_secret=crms.app_secret)[0] == 200
    settle(runtime)
    assert len(handoffs(runtime, "9871001")) == 1 and len(crms.hubspot.writes) == len(writes)


def test_hubspot_stage_changes_open_soft_staffing_and_a_loss_releases_it(crm) -> None:
    runtime, crms = crm
    lost = next(d for d in crms.hubspot.records["deals"] if d["id"] == "9871004")
    as_lost = copy.deepcopy(lost["properties"])
    lost["properties"].update(dealstage="contractsent", hs_is_closed="false", hs_deal_stage_probability="0.9",
                              hs_lastmodifieddate="2026-10-10T06:00:00.000Z")
    assert post_webhook(runtime, body("webhook-stage-changes.json"), app_secret=crms.app_secret)[0] == 200
    settle(runtime)
    assert staffing(runtime, "9871003") == {"Data Architect": "SOFT"}
    assert staffing(runtime, "9871004") == {"Data Architect": "SOFT"}
    lost["properties"] = as_lost
    assert post_webhook(runtime, body("webhook-stage-changes.json"), app_secret=crms.app_secret)[0] == 200
    settle(runtime)
    assert staffing(runtime, "9871004") == {"Data Architect": "RELEASED"}
    assert staffing(runtime, "9871003") == {"Data Architect": "SOFT"}
