"""The built-in ledger on DynamoDB (moto): match-or-create without duplicates, conflicts never
overwrite, and every other port idempotent on its key."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from handoff.adapters.ledger import (
    LedgerBilling,
    LedgerCrmWriteback,
    LedgerCustomerMaster,
    LedgerInspector,
    LedgerProcurement,
    LedgerProjects,
    LedgerStaffing,
    LedgerStore,
    name_key,
    tax_key,
)
from handoff.adapters.registry import build_ports
from handoff.contracts import (
    Account,
    BillingLine,
    BillingSchedule,
    CustomerRef,
    ProjectShell,
    PurchaseRequisition,
    StaffingRequest,
    WbsNode,
    parse_event,
)
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient, MasterDataConflict
from handoff.domain.staffing import requests_for
from tests.support.aws import create_ledger_table
from tests.support.fixtures import fixture_path

TABLE = "handoff-ledger"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def dynamodb(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        create_ledger_table(TABLE, "eu-west-1")
        yield boto3.resource("dynamodb", region_name="eu-west-1")


@pytest.fixture
def store(dynamodb) -> LedgerStore:
    return LedgerStore(TABLE, dynamodb, clock=lambda: NOW)


@pytest.fixture
def inspect(dynamodb) -> LedgerInspector:
    return LedgerInspector(dynamodb.Table(TABLE))


@pytest.fixture
def customers(store) -> LedgerCustomerMaster:
    return LedgerCustomerMaster(store)


def account(fixture: str = "emea-milestone-erp-rollout", **changes) -> Account:
    event = parse_event(json.loads(fixture_path("closed-won", fixture).read_text()))
    return event.detail.account.model_copy(update=changes)


# Normalisation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "key"),
    [("DE 811.907-980", "DE811907980"), ("de811907980", "DE811907980"), ("51 824 753 556", "51824753556"),
     ("  ", None), (None, None)],
)
def test_tax_key_strips_spaces_dots_dashes_and_uppercases(raw, key):
    assert tax_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Nordwerk Industrie GmbH", "nordwerk industrie"),
        ("NORDWERK-INDUSTRIE", "nordwerk industrie"),
        ("Cobalt Health Partners, Inc.", "cobalt health partners"),
        ("Harbourline Logistics Pty Ltd", "harbourline logistics"),
        ("Société Générale SAS", "societe generale"),
        ("Müller & Co. KG", "muller"),
        ("Limited", "limited"),  # never strips a name down to nothing
    ],
)
def test_name_key_ignores_case_accents_punctuation_and_legal_suffixes(raw, key):
    assert name_key(raw) == key


# Match or create -------------------------------------------------------------------------------
def test_creates_a_customer_with_uniqueness_items(customers, inspect):
    ref = customers.match_or_create(account(), idempotency_key="h1:customer")

    assert ref.match == "created"
    assert (ref.legal_name, ref.country) == ("Nordwerk Industrie GmbH", "DE")
    [customer] = inspect.customers()
    assert customer["erpCustomerId"] == ref.erp_customer_id
    assert customer["taxKey"] == "DE811907980"
    assert customer["createdAt"] == NOW.isoformat()
    assert {(u["pk"], u["customerId"]) for u in inspect.uniqueness()} == {
        ("TAXID#DE811907980", ref.erp_customer_id),
        ("NAME#DE#nordwerk industrie", ref.erp_customer_id),
    }


def test_repeat_with_the_same_key_returns_the_same_result(customers, inspect):
    first = customers.match_or_create(account(), idempotency_key="h1:customer")
    again = customers.match_or_create(account(), idempotency_key="h1:customer")

    assert again == first and again.match == "created"
    assert len(inspect.customers()) == 1


def test_matches_by_normalised_tax_id(customers, inspect):
    created = customers.match_or_create(account(), idempotency_key="h1:customer")

    ref = customers.match_or_create(
        account(tax_id="de 811.907-980", legal_name="Nordwerk Industrie AG (Hamburg)"), idempotency_key="h2:customer"
    )

    assert ref.match == "existing"
    assert ref.erp_customer_id == created.erp_customer_id
    assert ref.legal_name == "Nordwerk Industrie GmbH"  # the master's name, not the CRM's
    assert len(inspect.customers()) == 1


def test_matches_by_normalised_name_and_country_without_tax_id(customers, inspect):
    created = customers.match_or_create(account(), idempotency_key="h1:customer")

    ref = customers.match_or_create(account(tax_id=None, legal_name="NORDWERK INDUSTRIE gmbh."), idempotency_key="h2")

    assert (ref.match, ref.erp_customer_id) == ("existing", created.erp_customer_id)
    assert len(inspect.customers()) == 1


def test_same_name_in_another_country_is_another_customer(customers, inspect):
    customers.match_or_create(account(tax_id=None), idempotency_key="h1")
    ref = customers.match_or_create(account(tax_id=None, country="AT"), idempotency_key="h2")

    assert ref.match == "created"
    assert len(inspect.customers()) == 2


def test_matches_by_erp_customer_id(customers):
    created = customers.match_or_create(account(), idempotency_key="h1")

    ref = customers.match_or_create(account(erp_customer_id=created.erp_customer_id), idempotency_key="h2")

    assert (ref.match, ref.erp_customer_id) == ("existing", created.erp_customer_id)


def test_a_crm_known_erp_id_missing_from_the_ledger_is_adopted(customers):
    acct = account("apac-time-and-materials")

    ref = customers.match_or_create(acct, idempotency_key="h1")

    assert (ref.match, ref.erp_customer_id) == ("created", "C-AU-10233")
    again = customers.match_or_create(account("apac-time-and-materials", tax_id=None), idempotency_key="h2")
    assert (again.match, again.erp_customer_id) == ("existing", "C-AU-10233")


def test_concurrent_creates_yield_one_customer(store, inspect):
    """B creates the customer between A's (empty) match and A's create: A's transaction loses on
    the uniqueness items, and A returns B's customer instead of a duplicate."""
    a, b = LedgerCustomerMaster(store), LedgerCustomerMaster(store)
    real_match, raced = a._match, []

    def match_then_lose_the_race(probe):
        found = real_match(probe)
        if not raced:
            raced.append(True)
            b.match_or_create(account(tax_id=None, legal_name="Nordwerk Industrie"), idempotency_key="hB")
        return found

    a._match = match_then_lose_the_race
    ref_a = a.match_or_create(account(tax_id=None), idempotency_key="hA")

    assert raced and ref_a.match == "existing"
    [customer] = inspect.customers()
    assert ref_a.erp_customer_id == customer["erpCustomerId"]


def test_concurrent_repeat_of_the_same_handoff_returns_created(store, inspect):
    a, b = LedgerCustomerMaster(store), LedgerCustomerMaster(store)
    real_match, raced = a._match, []

    def match_then_lose_the_race(probe):
        found = real_match(probe)
        if not raced:
            raced.append(b.match_or_create(account(), idempotency_key="h1"))
        return found

    a._match = match_then_lose_the_race

    assert a.match_or_create(account(), idempotency_key="h1") == raced[0]
    assert raced[0].match == "created"
    assert len(inspect.customers()) == 1


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"country": "AT"}, "country is DE in the ERP but AT"),
        ({"tax_id": "DE999999999"}, "tax id is DE811907980 in the ERP but DE999999999"),
        ({"tax_id": None, "legal_name": "Blauwal Logistik GmbH"}, "legal name is 'Nordwerk Industrie GmbH'"),
    ],
)
def test_erp_id_with_conflicting_master_data_raises_and_changes_nothing(customers, inspect, changes, words):
    created = customers.match_or_create(account(), idempotency_key="h1")
    before = inspect.customers() + inspect.uniqueness()

    with pytest.raises(MasterDataConflict) as caught:
        customers.match_or_create(account(erp_customer_id=created.erp_customer_id, **changes), idempotency_key="h2")

    assert words in str(caught.value)
    assert created.erp_customer_id in str(caught.value)
    assert caught.value.detail["matchedBy"] == "ERP customer id"
    assert inspect.customers() + inspect.uniqueness() == before
    assert type(caught.value).__name__ == "Integration.MasterDataConflict"


def test_tax_id_registered_in_another_country_conflicts(customers):
    customers.match_or_create(account(), idempotency_key="h1")

    with pytest.raises(MasterDataConflict, match="country is DE in the ERP but FR"):
        customers.match_or_create(account(country="FR", legal_name="Nordwerk France SAS"), idempotency_key="h2")


def test_same_name_and_country_with_another_tax_id_conflicts(customers, inspect):
    customers.match_or_create(account(), idempotency_key="h1")

    with pytest.raises(MasterDataConflict, match="by legal name and country"):
        customers.match_or_create(account(tax_id="DE123456789"), idempotency_key="h2")
    assert len(inspect.customers()) == 1


def test_unknown_erp_id_whose_tax_id_belongs_to_another_customer_conflicts(customers, inspect):
    created = customers.match_or_create(account(), idempotency_key="h1")

    with pytest.raises(MasterDataConflict, match=f"matched ERP customer {created.erp_customer_id} by tax id"):
        customers.match_or_create(account(erp_customer_id="C-DE-42"), idempotency_key="h2")
    assert len(inspect.customers()) == 1


def test_a_low_level_client_is_refused_with_a_clear_message(dynamodb):
    with pytest.raises(TypeError, match="DynamoDB resource"):
        LedgerStore(TABLE, dynamodb.meta.client)


def test_throttled_dynamodb_is_transient(customers, store, monkeypatch):
    def throttled(**_):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")

    monkeypatch.setattr(store.table, "get_item", throttled)
    with pytest.raises(IntegrationTransient, match="ProvisionedThroughputExceeded"):
        customers.match_or_create(account(), idempotency_key="h1")


# Projects --------------------------------------------------------------------------------------
CUSTOMER = CustomerRef(erp_customer_id="C-1", legal_name="Nordwerk Industrie GmbH", country="DE", match="created")


def shell(code: str = "PRJ-2027-0001") -> ProjectShell:
    return ProjectShell(
        code=code,
        name="Nordwerk S/4 rollout",
        cost_center="CC-EMEA-ERP",
        tax_treatment="DE-VAT-19",
        start_date=date(2027, 1, 4),
        end_date=date(2027, 9, 30),
        wbs=[
            WbsNode(
                code=f"{code}.1",
                name="Blueprint",
                start=date(2027, 1, 4),
                end=date(2027, 2, 26),
                children=[WbsNode(code=f"{code}.1.1", name="Workshops", start=date(2027, 1, 4), end=date(2027, 1, 29))],
            )
        ],
    )


def test_project_is_created_once_per_idempotency_key(store, inspect):
    projects = LedgerProjects(store)

    first = projects.create_project(shell(), CUSTOMER, idempotency_key="h1:project")
    again = projects.create_project(shell(), CUSTOMER, idempotency_key="h1:project")

    assert first == again == shell()
    [item] = inspect.projects()
    assert (item["pk"], item["customerId"], item["wbs"][0]["children"][0]["code"]) == (
        "PROJECT#PRJ-2027-0001", "C-1", "PRJ-2027-0001.1.1"
    )


def test_project_code_taken_by_another_handoff_is_permanent(store, inspect):
    projects = LedgerProjects(store)
    projects.create_project(shell(), CUSTOMER, idempotency_key="h1:project")

    with pytest.raises(IntegrationPermanent, match="PRJ-2027-0001 already exists for another handoff") as caught:
        projects.create_project(shell(), CUSTOMER, idempotency_key="h2:project")
    assert caught.value.system == "ledger"
    assert len(inspect.projects()) == 1


# Billing, procurement, CRM -----------------------------------------------------------------------
def schedule() -> BillingSchedule:
    return BillingSchedule(
        contract_type="milestone",
        currency="EUR",
        total=Decimal("480000.00"),
        lines=[
            BillingLine(seq=1, description="M1", amount=Decimal("96000.00"), tax=Decimal("18240.00"),
                        due_date=date(2027, 2, 26)),
            BillingLine(seq=2, description="M2", amount=Decimal("384000.00"), tax=Decimal("72960.00"),
                        trigger="go-live"),
        ],
    )


def test_billing_schedule_is_idempotent_and_keeps_decimal_strings(store, inspect):
    billing = LedgerBilling(store)

    first = billing.create_schedule("PRJ-1", CUSTOMER, schedule(), idempotency_key="h1:billing")
    again = billing.create_schedule("PRJ-1", CUSTOMER, schedule(), idempotency_key="h1:billing")
    other = billing.create_schedule("PRJ-1", CUSTOMER, schedule(), idempotency_key="h2:billing")

    assert first == again != other
    items = inspect.billing_schedules()
    assert len(items) == 2
    mine = next(i for i in items if i["scheduleId"] == first)
    assert (mine["total"], mine["lines"][0]["amount"], mine["lines"][1]["seq"]) == ("480000.00", "96000.00", 2)


def test_requisitions_are_raised_once(store, inspect):
    procurement = LedgerProcurement(store)
    wanted = [
        PurchaseRequisition(vendor="Datenwerk GmbH", amount=Decimal("62000.00"), currency="EUR", cost_center="CC-1"),
        PurchaseRequisition(vendor="Lyon Conseil", amount=Decimal("18500.50"), currency="EUR", cost_center="CC-1"),
    ]

    raised = procurement.raise_requisitions("PRJ-1", wanted, idempotency_key="h1:procurement")
    again = procurement.raise_requisitions("PRJ-1", wanted, idempotency_key="h1:procurement")

    assert raised == again
    assert [r.project_code for r in raised] == ["PRJ-1", "PRJ-1"]
    assert len({r.requisition_id for r in raised}) == 2
    assert sorted(i["amount"] for i in inspect.requisitions()) == ["18500.50", "62000.00"]


def test_crm_writeback_records_the_project_code_once(store, inspect):
    crm = LedgerCrmWriteback(store)

    crm.project_created("006Qy00000AbCdE1", "PRJ-1", idempotency_key="h1:crm")
    crm.project_created("006Qy00000AbCdE1", "PRJ-1", idempotency_key="h1:crm")

    [item] = inspect.crm_writebacks()
    assert (item["opportunityId"], item["projectCode"]) == ("006Qy00000AbCdE1", "PRJ-1")
    assert [r["sk"] for r in inspect.idempotency_records()] == ["crm_project_created"]


# Staffing ----------------------------------------------------------------------------------------
def demand(opportunity_id: str = "OPP-1", status: str = "SOFT") -> list[StaffingRequest]:
    event = parse_event(json.loads(fixture_path("closed-won", "emea-milestone-erp-rollout").read_text()))
    return requests_for(opportunity_id, event.detail.staffing, status=status)


def stored(inspect, opportunity_id: str = "OPP-1") -> dict[str, str]:
    return {r["role"]: r["status"] for r in inspect.staffing_requests(opportunity_id)}


def test_soft_then_firm_reuses_the_soft_requests(store, inspect):
    staffing = LedgerStaffing(store)

    soft = staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:evt-1")
    assert [r.status for r in soft] == ["SOFT"] * 3
    assert soft == staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:evt-1")  # replayed
    assert soft == staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:evt-2")  # same stage again
    assert len(inspect.staffing_requests("OPP-1")) == 3

    firm = staffing.firm("OPP-1", "PRJ-1", demand(status="FIRM"), idempotency_key="h1:staffing")

    assert [(r.request_id, r.status) for r in firm] == [(r.request_id, "FIRM") for r in soft]
    items = inspect.staffing_requests("OPP-1")
    assert len(items) == 3
    assert {(i["status"], i["projectCode"]) for i in items} == {("FIRM", "PRJ-1")}
    assert {i["requestId"] for i in items} == {r.request_id for r in soft}


def test_firm_without_soft_creates_every_request_once(store, inspect):
    staffing = LedgerStaffing(store)
    firm = staffing.firm("OPP-1", "PRJ-1", demand(status="FIRM"), idempotency_key="h1:staffing")
    again = staffing.firm("OPP-1", "PRJ-1", demand(status="FIRM"), idempotency_key="h1:staffing-redriven")

    assert firm == again
    assert stored(inspect) == dict.fromkeys(["Engagement Manager", "Solution Architect", "Functional Consultant"],
                                            "FIRM")


def test_firm_creates_missing_needs_and_releases_dropped_soft_ones(store, inspect):
    staffing = LedgerStaffing(store)
    staffing.open_soft("OPP-1", demand()[:2], idempotency_key="opp-1:evt-1")
    wanted = [demand(status="FIRM")[0], demand(status="FIRM")[2]]

    firm = staffing.firm("OPP-1", "PRJ-1", wanted, idempotency_key="h1:staffing")

    assert [(r.role, r.status) for r in firm] == [
        ("Engagement Manager", "FIRM"), ("Functional Consultant", "FIRM"), ("Solution Architect", "RELEASED")]
    assert stored(inspect) == {"Engagement Manager": "FIRM", "Functional Consultant": "FIRM",
                               "Solution Architect": "RELEASED"}


def test_release_frees_soft_requests_only_and_repeats_answer_the_same(store, inspect):
    staffing = LedgerStaffing(store)
    staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:evt-1")
    staffing.open_soft("OPP-2", demand("OPP-2"), idempotency_key="opp-2:evt-1")
    staffing.firm("OPP-2", "PRJ-2", demand("OPP-2", "FIRM")[:1], idempotency_key="h2:staffing")

    assert staffing.release("OPP-1", idempotency_key="opp-1:lost") == 3
    assert staffing.release("OPP-1", idempotency_key="opp-1:lost") == 3  # replayed: same answer
    assert staffing.release("OPP-1", idempotency_key="opp-1:lost-again") == 0
    assert set(stored(inspect).values()) == {"RELEASED"}
    # The firm step of OPP-2 released its two dropped needs; releasing the deal leaves the firm one.
    assert staffing.release("OPP-2", idempotency_key="opp-2:lost") == 0
    assert stored(inspect, "OPP-2")["Engagement Manager"] == "FIRM"


def test_a_late_pipeline_event_never_downgrades_firm_requests(store, inspect):
    staffing = LedgerStaffing(store)
    staffing.firm("OPP-1", "PRJ-1", demand(status="FIRM"), idempotency_key="h1:staffing")

    after = staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:late-event")

    assert {r.status for r in after} == {"FIRM"}
    assert set(stored(inspect).values()) == {"FIRM"}


def test_a_revived_deal_reopens_released_requests_as_soft(store, inspect):
    staffing = LedgerStaffing(store)
    soft = staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:evt-1")
    staffing.release("OPP-1", idempotency_key="opp-1:lost")

    again = staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:reopened")

    assert [(r.request_id, r.status) for r in again] == [(r.request_id, "SOFT") for r in soft]
    assert len(inspect.staffing_requests("OPP-1")) == 3


def test_a_concurrent_change_is_transient_not_overwritten(store, dynamodb, inspect, monkeypatch):
    staffing = LedgerStaffing(store)
    staffing.open_soft("OPP-1", demand(), idempotency_key="opp-1:evt-1")
    query = store.query
    other = LedgerStaffing(LedgerStore(TABLE, dynamodb, clock=lambda: NOW))

    def query_then_release(*args):
        items = query(*args)
        other.release("OPP-1", idempotency_key="opp-1:lost")  # lands between our read and our write
        return items

    monkeypatch.setattr(store, "query", query_then_release)
    with pytest.raises(IntegrationTransient, match="changed during firm_staffing"):
        staffing.firm("OPP-1", "PRJ-1", demand(status="FIRM"), idempotency_key="h1:staffing")
    assert set(stored(inspect).values()) == {"RELEASED"}


def test_requests_without_an_id_are_refused(store):
    with pytest.raises(ValueError, match="need a request_id"):
        LedgerStaffing(store).firm("OPP-1", "PRJ-1", [demand()[0].model_copy(update={"request_id": None})],
                                   idempotency_key="k")


# Registry default ------------------------------------------------------------------------------
def test_build_ports_defaults_every_port_to_the_ledger(dynamodb, inspect):
    ports = build_ports({}, table_name=TABLE, dynamodb=dynamodb)

    ref = ports.customer_master.match_or_create(account(), idempotency_key="h1")
    ports.crm.project_created("OPP-1", "PRJ-1", idempotency_key="h1:crm")

    assert isinstance(ports.staffing, LedgerStaffing)
    assert [c["erpCustomerId"] for c in inspect.customers()] == [ref.erp_customer_id]
    assert [c["projectCode"] for c in inspect.crm_writebacks()] == ["PRJ-1"]
