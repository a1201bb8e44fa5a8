"""Which deals a CRM notification makes us re-read, and which parts are ignored (our own write-backs
among them); HubSpot's v3 signature."""

import json

import pytest

from handoff.adapters.crm.hubspot_signature import SignatureRejected, sign, verify
from handoff.domain import crm_notifications
from tests.support.fixtures import CRM_FIXTURES

WATCHED = {"StageName", "Amount", "Service_Line__c"}
INTEGRATION_USER = "005000000000INTAAA"


def payload(name: str) -> dict:
    return json.loads((CRM_FIXTURES / "salesforce" / name).read_text())["detail"]["payload"]


def test_a_change_event_names_every_record_it_carries() -> None:
    found = crm_notifications.salesforce("OpportunityChangeEvent", payload("cdc-two-records-won.json"),
                                         watched=WATCHED, integration_user=INTEGRATION_USER)
    assert found.ids == ["006Qy00000AbCd1AAK", "006Qy00000LuMn2AAC"] and found.ignored == []


def test_the_platform_event_names_its_opportunity() -> None:
    found = crm_notifications.salesforce("Closed_Won_Handoff__e", payload("platform-event-closed-won.json"),
                                         watched=WATCHED)
    assert found.ids == ["006Qy00000AbCd1AAK"]
    assert crm_notifications.salesforce("Closed_Won_Handoff__e", {}, watched=WATCHED).ids == []


def test_our_own_write_back_starts_nothing() -> None:
    event = payload("cdc-our-write-back.json")
    by_user = crm_notifications.salesforce("OpportunityChangeEvent", event, watched=WATCHED,
                                           integration_user=INTEGRATION_USER[:15])  # 15-character id
    assert by_user.ids == [] and by_user.ignored == ["changed by the integration user (our own write-back)"]
    # Even without the user configured, the fields changed are not watched.
    unwatched = crm_notifications.salesforce("OpportunityChangeEvent", event, watched=WATCHED)
    assert unwatched.ids == [] and unwatched.ignored[0].startswith("no watched field changed")


@pytest.mark.parametrize(("header", "reason"), [
    ({"entityName": "Account"}, "change event for 'Account', not Opportunity"),
    ({"changeType": "DELETE"}, "change type DELETE"),
])
def test_other_objects_and_deletions_are_ignored(header: dict, reason: str) -> None:
    event = payload("cdc-closed-won.json")
    event["ChangeEventHeader"].update(header)
    assert crm_notifications.salesforce("OpportunityChangeEvent", event, watched=WATCHED).ignored == [reason]


def test_wildcard_record_ids_are_not_records() -> None:
    event = payload("cdc-closed-won.json")
    event["ChangeEventHeader"].update(recordIds=["006*"], changeType="GAP_UPDATE")
    found = crm_notifications.salesforce("OpportunityChangeEvent", event, watched=WATCHED)
    assert found.ids == [] and found.ignored == ["wildcard record ids"]


def test_a_hubspot_batch_names_each_deal_once_and_ignores_what_we_do_not_watch() -> None:
    body = json.loads((CRM_FIXTURES / "hubspot" / "webhook-closed-won.json").read_text())
    ours = json.loads((CRM_FIXTURES / "hubspot" / "webhook-our-write-back.json").read_text())
    contact = {**body[0], "subscriptionType": "contact.creation"}
    found = crm_notifications.hubspot([*body, *ours, contact], watched={"dealstage", "amount"}, app_id=54321)
    assert found.ids == ["9871001", "9871002"]
    assert found.ignored == ["property 'project_code' is not watched", "contact.creation: not a deal event"]
    ours[0]["propertyName"] = "amount"  # a watched property, but written by our app
    assert crm_notifications.hubspot(ours, watched={"amount"}, app_id=54321).ignored == [
        "changed by our app (our own write-back)"]


URL = "https://abc123.execute-api.eu-central-1.amazonaws.com/v1/crm/hubspot/webhook"
BODY = b'[{"eventId":1,"objectId":9871001}]'
NOW = 1_764_000_000_000


def test_a_signed_request_within_five_minutes_is_accepted() -> None:
    signature = sign("app-secret", "POST", URL, BODY, str(NOW - 299_000))
    verify("app-secret", method="POST", uri=URL, body=BODY, timestamp=str(NOW - 299_000), signature=signature,
           now_ms=NOW)
    # HubSpot signs the URI with some characters decoded.
    encoded = URL + "?portal%3A62515"
    verify("app-secret", method="POST", uri=encoded, body=BODY, timestamp=str(NOW),
           signature=sign("app-secret", "POST", URL + "?portal:62515", BODY, str(NOW)), now_ms=NOW)


@pytest.mark.parametrize(("change", "reason"), [
    ({"body": BODY.replace(b"9871001", b"9871002")}, "does not match"),
    ({"secret": "another-secret"}, "does not match"),
    ({"timestamp": str(NOW - 301_000)}, "more than 300 s"),
    ({"timestamp": None}, "Timestamp is missing"),
    ({"signature": None}, "Signature-v3 is missing"),
    ({"method": "GET"}, "does not match"),
])
def test_anything_else_is_refused(change: dict, reason: str) -> None:
    signed_at = str(NOW - 1000)
    request = {"secret": "app-secret", "method": "POST", "uri": URL, "body": BODY, "timestamp": signed_at,
               "signature": sign("app-secret", "POST", URL, BODY, signed_at)} | change
    secret = request.pop("secret")
    with pytest.raises(SignatureRejected, match=reason):
        verify(secret, now_ms=NOW, **request)
