"""The Salesforce and HubSpot adapters over real HTTP against the fake CRM (local/fake_crm.py):
JWT bearer flow, SOQL, CRM v3 reads, 429 with Retry-After, write-backs, our own rate limit."""

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from handoff.adapters.crm.factory import CrmNotConfigured, crm_deals
from handoff.adapters.crm.settings import parse_settings
from handoff.adapters.crm.throttle import RateLimiter
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient
from local.fake_crm import parse_soql
from local.ingest import LocalCrms
from tests.support.fixtures import CRM_FIXTURES


class Secrets:
    """Secrets Manager's GetSecretValue, in memory."""

    def __init__(self, values: dict[str, dict]):
        self.values = values
        self.reads = 0

    def get_secret_value(self, SecretId: str) -> dict:
        self.reads += 1
        return {"SecretString": json.dumps(self.values[SecretId])}


def records(crm: str) -> dict:
    return json.loads((CRM_FIXTURES / crm / "records.json").read_text(), parse_float=Decimal)


@pytest.fixture
def crms(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCrms]:
    with LocalCrms(records("salesforce"), records("hubspot")) as started:
        monkeypatch.setenv("SALESFORCE_KEY_SECRET_ARN", "sf-key")
        monkeypatch.setenv("HUBSPOT_TOKEN_SECRET_ARN", "hs-token")
        yield started


def adapter(crms: LocalCrms, crm: str, sleeps: list[float], **overrides: object):
    config = json.loads(crms.environment()["CRM_CONFIG"])
    config[crm].update(overrides)
    secrets = Secrets({"sf-key": {"private_key": crms.private_key}, "hs-token": {"access_token": crms.hubspot.token}})
    return crm_deals(crm, secretsmanager=secrets, sleep=sleeps.append, settings=parse_settings(json.dumps(config)))


def test_salesforce_reads_a_won_opportunity_with_its_account_owner_contract_and_lines(crms: LocalCrms) -> None:
    sleeps: list[float] = []
    deals = adapter(crms, "salesforce", sleeps)
    [state] = deals.read(["006Qy00000AbCd1AAK"])
    assert state.won and state.closed and state.account_id == "001Qy00000NwK01AAC"
    opportunity = state.records["Opportunity"]
    assert opportunity["Amount"] == Decimal("480000.0") and opportunity["attributes"]["type"] == "Opportunity"
    assert opportunity["Account"]["Tax_Id__c"] == "DE811907980" and opportunity["Owner"]["Email"].startswith("lena")
    assert state.records["Contract"]["CustomerSigned"]["Email"] == "ap@nordwerk.example"
    assert [line["TotalPrice"] for line in state.records["OpportunityLineItem"]] == [
        Decimal("96000.0"), Decimal("144000.0"), Decimal("120000.0"), Decimal("120000.0")]
    kinds = [parse_soql(q)["type"] for q in crms.salesforce.queries]
    assert kinds == ["Opportunity", "Contract", "OpportunityLineItem"]
    assert "WHERE Id IN ('006Qy00000AbCd1AAK')" in crms.salesforce.queries[0]
    assert deals.api._auth.fetches == 1  # one JWT bearer token, reused
    assert sleeps == []


def test_several_records_are_read_in_one_query(crms: LocalCrms) -> None:
    states = adapter(crms, "salesforce", []).read(["006Qy00000LuMn2AAC", "006Qy00000AbCd1AAK", "006Qy00000AbCd1AAK"])
    assert sorted(s.opportunity_id for s in states) == ["006Qy00000AbCd1AAK", "006Qy00000LuMn2AAC"]
    assert crms.salesforce.queries[0].endswith("WHERE Id IN ('006Qy00000AbCd1AAK', '006Qy00000LuMn2AAC')")


def test_a_429_with_retry_after_is_waited_out(crms: LocalCrms) -> None:
    sleeps: list[float] = []
    crms.salesforce.throttle(2, retry_after="3")
    [state] = adapter(crms, "salesforce", sleeps).read(["006Qy00000AbCd1AAK"])
    assert state.won and sleeps == [3.0, 3.0]
    crms.hubspot.throttle(1, retry_after="2")
    hubspot_sleeps: list[float] = []
    [deal] = adapter(crms, "hubspot", hubspot_sleeps).read(["9871001"])
    assert deal.won and hubspot_sleeps == [2.0]


def test_a_retry_after_longer_than_the_function_should_wait_is_left_to_the_retry(crms: LocalCrms) -> None:
    crms.hubspot.throttle(5, retry_after="60")
    with pytest.raises(IntegrationTransient, match="Retry-After 60s"):
        adapter(crms, "hubspot", []).read(["9871001"])


def test_write_backs_are_patches_the_fake_crm_records(crms: LocalCrms) -> None:
    values = {"projectCode": "ERP-DE-2026-0001", "status": "ACTIVATED", "launchPacket": "s3://docs/packet.json"}
    adapter(crms, "salesforce", []).write_back("006Qy00000AbCd1AAK", values)
    adapter(crms, "hubspot", []).write_back("9871001", values)
    assert crms.salesforce.writes == [{"crm": "salesforce", "object": "Opportunity", "id": "006Qy00000AbCd1AAK",
                                       "fields": {"Project_Code__c": "ERP-DE-2026-0001", "Handoff_Status__c": "ACTIVATED",
                                                  "Launch_Packet_URL__c": "s3://docs/packet.json"}}]
    opportunity = next(r for r in crms.salesforce.records["Opportunity"] if r["Id"] == "006Qy00000AbCd1AAK")
    assert opportunity["LastModifiedById"] == crms.salesforce.integration_user_id  # CDC will name our user
    assert crms.hubspot.writes[0]["fields"] == {"project_code": "ERP-DE-2026-0001", "handoff_status": "ACTIVATED",
                                                "launch_packet_url": "s3://docs/packet.json"}
    assert ("PATCH", "/crm/v3/objects/deals/9871001") in crms.hubspot.requests


def test_hubspot_reads_the_deal_its_company_line_items_owner_and_won_stage(crms: LocalCrms) -> None:
    states = {s.opportunity_id: s for s in adapter(crms, "hubspot", []).read(["9871001", "9871003", "9871004"])}
    won, open_deal, lost = states["9871001"], states["9871003"], states["9871004"]
    assert won.won and won.account_id == "5550001" and won.records["company"]["tax_id"] == "51 824 753 556"
    assert won.records["owner"] == {"name": "Grace Tan", "email": "grace.tan@example-consulting.com", "id": "41230001"}
    assert [line["price"] for line in won.records["line_items"]] == ["1950.00", "185.00"]
    assert won.records["deal"]["dealstage_label"] == "Closed Won"
    assert not open_deal.won and not open_deal.closed and open_deal.records["deal"]["dealstage_label"] == "Contract Sent"
    assert lost.closed and not lost.won
    assert crms.hubspot.requests.count(("GET", "/crm/v3/pipelines/deals")) == 1  # stages cached


def test_refused_credentials_are_permanent(crms: LocalCrms) -> None:
    other = LocalCrms()
    config = json.loads(crms.environment()["CRM_CONFIG"])
    secrets = Secrets({"sf-key": {"private_key": other.private_key}, "hs-token": {"access_token": "pat-wrong"}})
    settings = parse_settings(json.dumps(config))
    with pytest.raises(IntegrationPermanent, match="JWT bearer grant was refused .*invalid_grant"):
        crm_deals("salesforce", secretsmanager=secrets, sleep=lambda _s: None, settings=settings).read(
            ["006Qy00000AbCd1AAK"])
    with pytest.raises(IntegrationPermanent, match="HTTP 401"):
        crm_deals("hubspot", secretsmanager=secrets, sleep=lambda _s: None, settings=settings).read(["9871001"])


def test_ids_that_are_not_record_ids_never_reach_a_query(crms: LocalCrms) -> None:
    with pytest.raises(IntegrationPermanent, match="is not a record id"):
        adapter(crms, "salesforce", []).read(["006' OR Name != '"])
    assert crms.salesforce.queries == []


def test_the_rate_limiter_spaces_calls_to_the_quota() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.acquire()
    assert waits == [0.5, 0.5]  # two at once (the burst), then one every half second


def test_the_write_back_port_goes_to_the_crm_the_deal_came_from_else_the_ledger(
        crms: LocalCrms, monkeypatch: pytest.MonkeyPatch) -> None:
    from handoff.adapters.crm.factory import CrmIntakeWriteback

    class Ledger:
        def __init__(self) -> None:
            self.calls: list[tuple] = []

        def project_created(self, opportunity_id: str, project_code: str, **kwargs: object) -> None:
            self.calls.append((opportunity_id, project_code, kwargs["source"]))

    ledger = Ledger()
    config = json.loads(crms.environment()["CRM_CONFIG"])
    secrets = Secrets({"sf-key": {"private_key": crms.private_key}, "hs-token": {"access_token": crms.hubspot.token}})
    port = CrmIntakeWriteback(ledger, secretsmanager=secrets, sleep=lambda _s: None)
    monkeypatch.setenv("CRM_CONFIG", json.dumps({"hubspot": config["hubspot"]}))  # Salesforce not configured
    port.project_created("9871001", "P-1", idempotency_key="k", source="crm.hubspot")
    port.project_created("006Qy00000AbCd1AAK", "P-2", idempotency_key="k", source="crm.salesforce")
    port.project_created("OPP-1", "P-3", idempotency_key="k", source="crm.demo")
    assert [w["fields"]["project_code"] for w in crms.hubspot.writes] == ["P-1"]
    assert crms.salesforce.writes == []
    assert ledger.calls == [("006Qy00000AbCd1AAK", "P-2", "crm.salesforce"), ("OPP-1", "P-3", "crm.demo")]


def test_an_adapter_is_built_once_per_configuration_and_a_refused_one_is_not_kept(crms: LocalCrms) -> None:
    sleeps: list[float] = []
    config = json.loads(crms.environment()["CRM_CONFIG"])
    secrets = Secrets({"sf-key": {"private_key": crms.private_key}, "hs-token": {"access_token": crms.hubspot.token}})
    settings = parse_settings(json.dumps(config))
    first = crm_deals("hubspot", secretsmanager=secrets, sleep=sleeps.append, settings=settings)
    assert crm_deals("hubspot", secretsmanager=secrets, sleep=sleeps.append, settings=settings) is first
    other = parse_settings(json.dumps({**config, "hubspot": {**config["hubspot"], "requestsPerSecond": 3}}))
    assert crm_deals("hubspot", secretsmanager=secrets, sleep=sleeps.append, settings=other) is not first
    without = parse_settings(json.dumps({"hubspot": config["hubspot"]}))
    with pytest.raises(CrmNotConfigured, match="no salesforce settings"):
        crm_deals("salesforce", secretsmanager=secrets, sleep=sleeps.append, settings=without)
    with pytest.raises(CrmNotConfigured, match="no intake adapter for CRM 'pipedrive'"):
        crm_deals("pipedrive", secretsmanager=secrets, sleep=sleeps.append, settings=settings)
    assert crm_deals("salesforce", secretsmanager=secrets, sleep=sleeps.append, settings=settings).read(
        ["006Qy00000AbCd1AAK"])[0].won
