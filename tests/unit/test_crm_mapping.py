"""The CRM mapping (pure): CRM records as the REST APIs return them -> the canonical events, money
exact, missing CRM fields named; readiness exceptions in the CRM's words."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from handoff.adapters.crm.mapping_file import load_mapping
from handoff.contracts import ExceptionEntry, parse_event, parse_stage_changed
from handoff.domain.crm_fields import in_crm_terms, intake_of
from handoff.domain.crm_intake import DealState, decide
from handoff.domain.crm_mapper import Mapper
from handoff.domain.crm_mapping import CrmMapping, MappingError
from handoff.domain.crm_values import money
from tests.support.fixtures import CRM_FIXTURES

SALESFORCE = load_mapping("salesforce")
HUBSPOT = load_mapping("hubspot")
AT = datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC)


def salesforce_bag(opportunity_id: str) -> dict:
    """What SalesforceDeals.read assembles: the SOQL records (nested relationships) of one deal."""
    records = json.loads((CRM_FIXTURES / "salesforce" / "records.json").read_text(), parse_float=Decimal)
    by_id = {r["Id"]: r for rows in records.values() for r in rows}
    opportunity = dict(by_id[opportunity_id])
    opportunity["Account"] = by_id[opportunity["AccountId"]]
    opportunity["Owner"] = by_id[opportunity["OwnerId"]]
    contract = dict(by_id[opportunity["ContractId"]]) if opportunity.get("ContractId") else None
    if contract:
        contract["CustomerSigned"] = by_id[contract["CustomerSignedId"]]
    lines = [r for r in records["OpportunityLineItem"] if r["OpportunityId"] == opportunity_id]
    return {"Opportunity": opportunity, "Contract": contract, "OpportunityLineItem": lines}


def state(opportunity_id: str, *, won: bool = True, closed: bool = True, at: datetime = AT) -> DealState:
    bag = salesforce_bag(opportunity_id)
    return DealState(opportunity_id, bag["Opportunity"]["AccountId"], bag, won=won, closed=closed, modified_at=at)


def test_a_complete_salesforce_deal_maps_to_a_valid_closed_won_event_with_exact_money() -> None:
    outcome = decide(SALESFORCE, state("006Qy00000AbCd1AAK"))
    event = parse_event(outcome.event)  # the contract accepts it
    detail = event.detail
    assert event.source == "crm.salesforce"
    assert detail.opportunity.amount.value == Decimal("480000.00") and str(detail.opportunity.amount.value) == "480000.00"
    assert detail.opportunity.service_line == "erp-implementation" and detail.opportunity.delivery_model == "hybrid"
    assert detail.opportunity.probability == 100 and detail.opportunity.owner.email == "lena.hoffmann@example-consulting.com"
    assert detail.contract.status == "signed" and detail.contract.type == "milestone"
    assert [m.amount.value for m in detail.contract.milestones] == [Decimal("96000.00"), Decimal("144000.00"),
                                                                     Decimal("120000.00"), Decimal("120000.00")]
    assert detail.contract.milestones[0].due_date.isoformat() == "2027-02-26"
    assert detail.contract.payment_terms_days == 45
    assert detail.account.billing_address.line1 == "Hafenstrasse 12" and detail.account.tax_id == "DE811907980"
    assert [s.role for s in detail.staffing] == ["Engagement Manager", "Solution Architect", "Functional Consultant"]
    assert detail.scope.countries == ["DE", "FR"]
    assert outcome.event["detail"]["crmIntake"]["missing"] == []


def test_the_event_id_is_the_deal_and_its_last_modification() -> None:
    first = decide(SALESFORCE, state("006Qy00000AbCd1AAK")).event["detail"]["eventId"]
    again = decide(SALESFORCE, state("006Qy00000AbCd1AAK")).event["detail"]["eventId"]
    later = decide(SALESFORCE, state("006Qy00000AbCd1AAK", at=datetime(2026, 11, 21, tzinfo=UTC))).event
    assert first == again == "salesforce-006Qy00000AbCd1AAK-20261120T140311000000Z"
    assert later["detail"]["eventId"] != first


def test_a_won_deal_missing_custom_fields_is_still_an_event_naming_the_salesforce_fields() -> None:
    outcome = decide(SALESFORCE, state("006Qy00000LuMn2AAC"))
    parse_event(outcome.event)  # still valid: placeholders stand in, the handoff can be BLOCKED
    missing = {m["field"]: m for m in outcome.event["detail"]["crmIntake"]["missing"]}
    assert missing["opportunity.serviceLine"]["crmField"] == "Service_Line__c on the Opportunity"
    assert "account.taxId" not in missing  # optional: the playbook decides (and readiness names the field)
    assert outcome.reason == "won, 1 field(s) missing"


def test_money_is_exact_in_the_currency_precision_and_never_a_float() -> None:
    assert money(Decimal("480000.0"), "EUR") == {"value": "480000.00", "currency": "EUR"}
    assert money("84500.5", "AUD") == {"value": "84500.50", "currency": "AUD"}
    assert money(Decimal("1500000"), "JPY") == {"value": "1500000", "currency": "JPY"}
    assert money("12.345", "BHD") == {"value": "12.345", "currency": "BHD"}
    for value, currency in ((Decimal("12.345"), "EUR"), (12.5, "EUR"), ("abc", "EUR"), (Decimal("1.5"), "JPY")):
        with pytest.raises(ValueError, match=r"decimals|float|number"):
            money(value, currency)


def test_an_amount_with_more_decimals_than_its_currency_blocks_naming_the_field() -> None:
    bag = salesforce_bag("006Qy00000AbCd1AAK")
    bag["Opportunity"]["Amount"] = Decimal("480000.005")
    mapped = Mapper(SALESFORCE).map(bag, identity={}, occurred_at=AT)
    problems = {m.field: m.problem for m in mapped.missing}
    assert problems["opportunity.amount"] == "480000.005 has more decimals than EUR allows"


def test_an_unknown_picklist_value_names_the_value_and_the_allowed_ones() -> None:
    bag = salesforce_bag("006Qy00000AbCd1AAK")
    bag["Opportunity"]["Delivery_Model__c"] = "Moon base"
    problems = {m.field: m.problem for m in Mapper(SALESFORCE).map(bag, identity={}, occurred_at=AT).missing}
    assert problems["opportunity.deliveryModel"].startswith("has 'Moon base', which is not one of ['Hybrid'")


def test_stage_changes_and_losses_become_stage_changed_events() -> None:
    open_deal = decide(SALESFORCE, state("006Qy00000HaNs3AAC", won=False, closed=False))
    event = parse_stage_changed(open_deal.event)
    assert event.detail.opportunity.stage == "Negotiation/Review" and event.detail.opportunity.probability == 80
    assert [s.role for s in event.detail.staffing] == ["Engagement Manager", "Solution Architect"]
    lost = parse_stage_changed(decide(SALESFORCE, state("006Qy00000HaNs4AAC", won=False, closed=True)).event)
    assert lost.detail.opportunity.stage == "Closed Lost" and lost.detail.opportunity.probability == 0


def test_hubspot_strings_and_percentages_and_line_items_map_exactly() -> None:
    records = json.loads((CRM_FIXTURES / "hubspot" / "records.json").read_text())
    deal = records["deals"][0]["properties"] | {"dealstage_label": "Closed Won"}
    bag = {"deal": deal, "company": records["companies"][0]["properties"],
           "owner": {"name": "Grace Tan", "email": "grace.tan@example-consulting.com"},
           "line_items": [line["properties"] for line in records["line_items"]]}
    outcome = decide(HUBSPOT, DealState("9871001", "5550001", bag, won=True, closed=True, modified_at=AT))
    detail = parse_event(outcome.event).detail
    assert detail.opportunity.amount.value == Decimal("312000.00") and detail.opportunity.amount.currency == "AUD"
    assert detail.opportunity.probability == 100  # hs_deal_stage_probability "1" is a fraction
    assert [(r.role, str(r.rate.value), r.unit) for r in detail.contract.rate_card] == [
        ("Data Architect", "1950.00", "day"), ("Data Engineer", "185.00", "hour")]
    assert detail.contract.not_to_exceed.value == Decimal("312000.00")
    assert detail.opportunity.close_date.isoformat() == "2026-11-21"


def test_the_mapping_is_validated_when_loaded(tmp_path: Path) -> None:
    data = SALESFORCE.model_dump(by_alias=True, exclude_none=True)
    del data["fields"]["contract.status"]
    with pytest.raises(ValueError, match=r"no mapping for required contract fields \['contract.status'\]"):
        CrmMapping.model_validate(data)
    data = SALESFORCE.model_dump(by_alias=True, exclude_none=True)
    data["fields"]["contract.colour"] = {"from": "Contract.Colour__c"}
    with pytest.raises(ValueError, match="unknown contract fields"):
        CrmMapping.model_validate(data)
    (tmp_path / "pipedrive.yaml").write_text("crm: pipedrive\n")
    with pytest.raises(MappingError, match="pipedrive.yaml"):
        load_mapping("pipedrive", tmp_path)


def test_watched_fields_exclude_our_write_back_fields() -> None:
    watched = SALESFORCE.watched_fields()
    assert {"StageName", "Service_Line__c", "Amount"} <= watched
    assert not {"Project_Code__c", "Handoff_Status__c", "Launch_Packet_URL__c"} & watched
    assert "project_code" not in HUBSPOT.watched_fields()


def test_readiness_exceptions_name_the_crm_field_and_placeholders_say_nothing() -> None:
    detail = decide(SALESFORCE, state("006Qy00000LuMn2AAC")).event["detail"]
    intake = intake_of(detail)
    about_placeholder = ExceptionEntry(code="UNKNOWN_PLAYBOOK", severity="BLOCKING", step="ValidateReadiness",
                                       field="opportunity.serviceLine", message="no playbook for '(missing)'")
    tax = ExceptionEntry(code="INVALID_TAX_ID", severity="BLOCKING", step="ValidateReadiness", field="account.taxId",
                         message="The tax id is missing.")
    result = in_crm_terms([about_placeholder, tax], intake)
    assert [(e.code, e.field) for e in result] == [("MISSING_FIELD", "opportunity.serviceLine"),
                                                   ("INVALID_TAX_ID", "account.taxId")]
    assert "Service_Line__c on the Opportunity" in result[0].message and "Salesforce" in result[0].message
    assert result[1].message == "The tax id is missing. (in Salesforce: Tax_Id__c on the Opportunity's Account)"
    assert in_crm_terms([tax], None) == [tax]  # a deal that came without a CRM intake
