"""REST adapters against a fake ERP on 127.0.0.1: idempotency keys, retries and backoff, error
mapping, credentials from Secrets Manager (moto) and the OAuth2 token cache. No real sleeps."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from unittest.mock import MagicMock

import boto3
import pytest
from moto import mock_aws

from handoff.adapters.credentials import OAuth2ClientCredentials, SecretCache
from handoff.adapters.ledger import LedgerCrmWriteback
from handoff.adapters.registry import ENV_VAR, build_ports, load_config
from handoff.adapters.rest import (
    RestBilling,
    RestClient,
    RestCrmWriteback,
    RestCustomerMaster,
    RestProcurement,
    RestProjects,
    RestStaffing,
    RestSystemConfig,
    retry_after_seconds,
)
from handoff.contracts import (
    Account,
    BillingLine,
    BillingSchedule,
    CustomerRef,
    ProjectShell,
    PurchaseRequisition,
    StaffingRequest,
    WbsNode,
)
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient, MasterDataConflict
from tests.support.fake_erp import FakeErp

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ACCOUNT = Account.model_validate(
    {
        "crmId": "001Qy00000NwK001",
        "legalName": "Nordwerk Industrie GmbH",
        "country": "DE",
        "taxId": "DE811907980",
        "erpCustomerId": None,
        "billingAddress": {"line1": "Hafenstrasse 12", "city": "Hamburg", "postalCode": "20457", "country": "DE"},
        "billingContact": {"name": "Jonas Weber", "email": "ap@nordwerk.example"},
    }
)
CUSTOMER = CustomerRef(erp_customer_id="C-0001", legal_name="Nordwerk Industrie GmbH", country="DE", match="created")
SHELL = ProjectShell(
    code="PRJ-2027-0001",
    name="Nordwerk S/4 rollout",
    cost_center="CC-EMEA-ERP",
    tax_treatment="DE-VAT-19",
    start_date=date(2027, 1, 4),
    end_date=date(2027, 9, 30),
    wbs=[WbsNode(code="PRJ-2027-0001.1", name="Blueprint", start=date(2027, 1, 4), end=date(2027, 2, 26))],
)
SCHEDULE = BillingSchedule(
    contract_type="milestone",
    currency="EUR",
    total=Decimal("480000.00"),
    lines=[
        BillingLine(seq=1, description="M1", amount=Decimal("96000.00"), tax=Decimal("0.00"),
                    due_date=date(2027, 2, 26)),
        BillingLine(seq=2, description="M2", amount=Decimal("384000.00"), tax=Decimal("0.00"), trigger="go-live"),
    ],
)
DEMAND = [
    StaffingRequest(role="Solution Architect", hours=320, start_date=date(2027, 1, 4), location="DE",
                    status="SOFT", skills=["S/4HANA"], request_id="SR-000000000001"),
    StaffingRequest(role="FI Consultant", hours=640, start_date=date(2027, 2, 1), location="DE", status="SOFT",
                    request_id="SR-000000000002"),
]


@pytest.fixture
def erp():
    with FakeErp() as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(erp: FakeErp, sleeps: list[float], **settings) -> RestClient:
    config = RestSystemConfig.model_validate(
        {
            "name": "Fake ERP",
            "base_url": erp.base_url,
            # Generous, so a loaded CI machine never times out by accident; the timeout test sets its own.
            "timeout_seconds": 2.0,
            "max_attempts": 3,
            "backoff_base_seconds": 0.5,
            "backoff_max_seconds": 8,
            **settings,
        }
    )
    # No jitter in tests: the backoff sequence is asserted exactly.
    return RestClient(config, sleep=sleeps.append, now=lambda: NOW, jitter=lambda delay: delay)


@pytest.fixture
def client(erp, sleeps) -> RestClient:
    return make_client(erp, sleeps)


# Idempotency and the happy path ----------------------------------------------------------------
def test_every_port_over_rest_maps_to_contract_models(erp, client):
    customer = RestCustomerMaster(client).match_or_create(ACCOUNT, idempotency_key="h1:customer")
    project = RestProjects(client).create_project(SHELL, customer, idempotency_key="h1:project")
    schedule_id = RestBilling(client).create_schedule(SHELL.code, customer, SCHEDULE, idempotency_key="h1:billing")
    staffing = RestStaffing(client)
    soft = staffing.open_soft("OPP 1/x", DEMAND, idempotency_key="h1:soft")
    firm = staffing.firm("OPP 1/x", SHELL.code, DEMAND[:1], idempotency_key="h1:firm")
    released = staffing.release("OPP 1/x", idempotency_key="h1:release")
    reqs = RestProcurement(client).raise_requisitions(
        SHELL.code,
        [PurchaseRequisition(vendor="Datenwerk GmbH", amount=Decimal("62000.00"), currency="EUR", cost_center="CC-1")],
        idempotency_key="h1:procurement",
    )
    RestCrmWriteback(client).project_created("OPP 1/x", SHELL.code, idempotency_key="h1:crm")

    assert (customer.erp_customer_id, customer.match) == ("C-0001", "created")
    assert project == SHELL  # the PSA's extra fields (id, status) are ignored
    assert schedule_id.startswith("BS-")
    assert [(r.request_id, r.status) for r in soft] == [("SR-000000000001", "SOFT"), ("SR-000000000002", "SOFT")]
    # The firm step keeps the soft request's id; the need the won deal dropped is released.
    assert [(r.request_id, r.status) for r in firm] == [("SR-000000000001", "FIRM"), ("SR-000000000002", "RELEASED")]
    assert released == 0  # nothing soft was left: a lost deal never releases firm requests
    assert len(erp.state.staffing) == 2
    assert (reqs[0].requisition_id is not None, reqs[0].project_code, reqs[0].amount) == (
        True, SHELL.code, Decimal("62000.00")
    )
    assert erp.state.crm == {"OPP 1/x": SHELL.code}
    assert erp.requests[-1].path == "/crm/opportunities/OPP%201%2Fx/project"  # path parameters are quoted


def test_bodies_are_camel_case_json_with_decimal_strings(erp, client):
    RestBilling(client).create_schedule(SHELL.code, CUSTOMER, SCHEDULE, idempotency_key="h1:billing")

    [request] = erp.requests_to("/billing-schedules")
    body = request.json
    assert request.header("Content-Type") == "application/json"
    assert body["projectCode"] == SHELL.code
    assert (body["schedule"]["total"], body["schedule"]["lines"][0]["amount"]) == ("480000.00", "96000.00")
    assert body["schedule"]["lines"][0]["dueDate"] == "2027-02-26"
    assert body["customer"]["erpCustomerId"] == "C-0001"


def test_idempotency_key_is_sent_and_stable_across_retries(erp, client, sleeps):
    erp.fault("/projects", errors=1)

    RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="handoff-7:create_project")

    keys = [r.header("Idempotency-Key") for r in erp.requests_to("/projects")]
    assert keys == ["handoff-7:create_project"] * 2


def test_repeat_with_the_same_key_creates_nothing_twice(erp, client):
    customers = RestCustomerMaster(client)
    first = customers.match_or_create(ACCOUNT, idempotency_key="h1:customer")
    again = customers.match_or_create(ACCOUNT, idempotency_key="h1:customer")
    other = customers.match_or_create(ACCOUNT, idempotency_key="h2:customer")

    assert first == again and first.match == "created"
    assert (other.erp_customer_id, other.match) == (first.erp_customer_id, "existing")
    assert len(erp.state.customers) == 1


# Retries ----------------------------------------------------------------------------------------
def test_429_honours_retry_after_seconds(erp, client, sleeps):
    erp.fault("/billing-schedules", throttle=2, retry_after="2")

    assert RestBilling(client).create_schedule("P", CUSTOMER, SCHEDULE, idempotency_key="k").startswith("BS-")
    assert sleeps == [2.0, 2.0]
    assert len(erp.requests_to("/billing-schedules")) == 3


def test_429_honours_retry_after_http_date(erp, client, sleeps):
    erp.fault("/requisitions", throttle=1, retry_after=format_datetime(NOW + timedelta(seconds=3), usegmt=True))

    RestProcurement(client).raise_requisitions("P", [], idempotency_key="k")

    assert sleeps == [3.0]


def test_retry_after_beyond_the_backoff_cap_is_left_to_the_state_machine(erp, client, sleeps):
    erp.fault("/projects", throttle=1, retry_after="120")

    with pytest.raises(IntegrationTransient, match="Retry-After 120s"):
        RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="k")
    assert sleeps == [] and len(erp.requests_to("/projects")) == 1


def test_500_is_retried_with_exponential_backoff_then_succeeds(erp, client, sleeps):
    erp.fault("/projects", errors=2)

    assert RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="k") == SHELL
    assert sleeps == [0.5, 1.0]


def test_backoff_is_capped(erp, sleeps):
    client = make_client(erp, sleeps, max_attempts=5, backoff_base_seconds=1, backoff_max_seconds=3)
    erp.fault("/projects", errors=4)

    RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="k")

    assert sleeps == [1, 2, 3, 3]


def test_timeout_is_retried_and_the_key_prevents_a_duplicate(erp, sleeps):
    """The ERP processed the first request but answered too late; the retry gets the same answer."""
    client = make_client(erp, sleeps, timeout_seconds=0.3)
    erp.fault("/customers/match-or-create", timeouts=1, hang_seconds=3)  # only a server thread waits

    ref = RestCustomerMaster(client).match_or_create(ACCOUNT, idempotency_key="h1:customer")

    assert ref.match == "created"
    assert len(erp.requests_to("/customers/match-or-create")) == 2
    assert len(erp.state.customers) == 1
    assert sleeps == [0.5]


def test_timeouts_until_max_attempts_are_transient(erp, sleeps):
    client = make_client(erp, sleeps, timeout_seconds=0.3, max_attempts=2)
    erp.fault("/requisitions", timeouts=5, hang_seconds=3)

    with pytest.raises(IntegrationTransient, match="failed after 2 attempts: timeout after 0.3s"):
        RestProcurement(client).raise_requisitions("P", [], idempotency_key="k")


def test_max_attempts_then_integration_transient(erp, client, sleeps):
    erp.fault("/staffing-requests/soft", errors=10)

    with pytest.raises(IntegrationTransient) as caught:
        RestStaffing(client).open_soft("OPP-1", DEMAND, idempotency_key="k")

    assert "Fake ERP: open_soft_staffing failed after 3 attempts: HTTP 500" in str(caught.value)
    assert type(caught.value).__name__ == "Integration.Transient"
    assert len(erp.requests_to("/staffing-requests/soft")) == 3
    assert sleeps == [0.5, 1.0]


def test_connection_refused_is_transient(sleeps):
    with FakeErp() as gone:
        pass  # started and stopped: nothing listens on its port any more
    client = make_client(gone, sleeps, max_attempts=2)

    with pytest.raises(IntegrationTransient, match="connection error"):
        RestCrmWriteback(client).project_created("OPP-1", "P", idempotency_key="k")
    assert sleeps == [0.5]


# Permanent errors -------------------------------------------------------------------------------
def test_400_is_permanent_with_system_status_and_detail(erp, client, sleeps):
    detail = {"error": "validation_failed", "fields": {"costCenter": "unknown cost center CC-EMEA-ERP"}}
    erp.fault("/projects", reject=detail)

    with pytest.raises(IntegrationPermanent) as caught:
        RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="k")

    error = caught.value
    assert (error.system, error.status, error.detail) == ("Fake ERP", 400, detail)
    assert "HTTP 400" in str(error) and "unknown cost center" in str(error)
    assert len(erp.requests_to("/projects")) == 1 and sleeps == []


def test_long_error_text_is_truncated(erp, client):
    erp.fault("/projects", reject="x" * 5000, reject_status=422)

    with pytest.raises(IntegrationPermanent) as caught:
        RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="k")
    assert caught.value.status == 422 and len(caught.value.detail) == 500


def test_duplicate_project_code_from_another_handoff_is_permanent(erp, client):
    RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="h1")

    with pytest.raises(IntegrationPermanent) as caught:
        RestProjects(client).create_project(SHELL, CUSTOMER, idempotency_key="h2")
    assert (caught.value.status, caught.value.detail["error"]) == (409, "duplicate_project_code")


def test_409_from_the_customer_master_is_a_master_data_conflict(erp, client):
    RestCustomerMaster(client).match_or_create(ACCOUNT, idempotency_key="h1")

    with pytest.raises(MasterDataConflict) as caught:
        RestCustomerMaster(client).match_or_create(ACCOUNT.model_copy(update={"country": "AT"}), idempotency_key="h2")
    assert caught.value.status == 409 and caught.value.detail["error"] == "master_data_conflict"


def test_malformed_2xx_body_is_retried_and_the_key_prevents_a_duplicate(erp, client, sleeps):
    erp.fault("/billing-schedules", malformed=1)

    schedule_id = RestBilling(client).create_schedule("P", CUSTOMER, SCHEDULE, idempotency_key="k")

    assert schedule_id.startswith("BS-") and list(erp.state.schedules) == [schedule_id]
    assert len(erp.requests_to("/billing-schedules")) == 2 and sleeps == [0.5]
    assert erp.injected[("/billing-schedules", "malformed")] == 1


def test_a_system_that_keeps_answering_garbage_is_transient(erp, client, sleeps):
    erp.fault("/billing-schedules", malformed=10)

    with pytest.raises(IntegrationTransient, match="after 3 attempts: HTTP 201 with a malformed response"):
        RestBilling(client).create_schedule("P", CUSTOMER, SCHEDULE, idempotency_key="k")
    assert len(erp.state.schedules) == 1  # processed once, replayed twice


def test_response_not_matching_the_contract_is_permanent(erp, client):
    erp.fault("/billing-schedules", reject={"unexpected": True}, reject_status=200)

    with pytest.raises(IntegrationPermanent, match="lacks 'scheduleId'"):
        RestBilling(client).create_schedule("P", CUSTOMER, SCHEDULE, idempotency_key="k")


# Retry-After parsing ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), (" 0 ", 0.0), (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
     (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0), ("soon", None), (None, None)],
)
def test_retry_after_seconds(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


# Credentials from Secrets Manager ---------------------------------------------------------------
@pytest.fixture
def secretsmanager(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.reads = 0

        def count(**_):
            client.reads += 1

        client.meta.events.register("before-call.secrets-manager.GetSecretValue", count)
        yield client


def rest_system(erp: FakeErp, auth: dict, **extra) -> dict:
    return {"adapter": "rest", "name": "Fake PSA", "base_url": erp.base_url, "timeout_seconds": 2.0,
            "auth": auth, **extra}


def test_api_key_header_from_secrets_manager_and_cached(secretsmanager, sleeps):
    secretsmanager.create_secret(Name="erp/api", SecretString=json.dumps({"api_key": "k-123"}))
    with FakeErp(api_key="k-123", api_key_header="X-Erp-Key") as erp:
        auth = {"type": "api_key", "header": "X-Erp-Key", "secret_id": "erp/api"}
        ports = build_ports(
            {"projects": rest_system(erp, auth), "crm": rest_system(erp, auth)},
            table_name="unused",
            secretsmanager=secretsmanager,
            dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"),
            sleep=sleeps.append,
        )

        ports.projects.create_project(SHELL, CUSTOMER, idempotency_key="h1:project")
        ports.crm.project_created("OPP-1", SHELL.code, idempotency_key="h1:crm")

        assert [r.header("X-Erp-Key") for r in erp.requests] == ["k-123", "k-123"]
    assert secretsmanager.reads == 1  # one read serves both ports until the TTL runs out


def test_one_shared_secret_can_hold_every_system(secretsmanager, sleeps):
    shared = {"erp": {"api_key": "k-erp"}, "psa": {"client_id": "handoff", "client_secret": "s3cr3t"}}
    secretsmanager.create_secret(Name="systems", SecretString=json.dumps(shared))
    with FakeErp(api_key="k-erp") as erp, FakeErp(client_id="handoff", client_secret="s3cr3t") as psa:
        ports = build_ports(
            {
                "customer_master": rest_system(erp, {"type": "api_key", "secret_id": "systems", "secret_key": "erp"}),
                "projects": rest_system(psa, {**oauth_config(psa), "secret_id": "systems", "secret_key": "psa"}),
            },
            table_name="unused",
            secretsmanager=secretsmanager,
            dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"),
            sleep=sleeps.append,
        )
        customer = ports.customer_master.match_or_create(ACCOUNT, idempotency_key="h1:customer")
        ports.projects.create_project(SHELL, customer, idempotency_key="h1:project")

        assert erp.requests[0].header("X-Api-Key") == "k-erp"
        assert psa.requests_to("/projects")[0].header("Authorization") == "Bearer tok-1"
    assert secretsmanager.reads == 1


def test_auth_without_secret_id_reads_the_stacks_systems_secret(secretsmanager, sleeps):
    arn = secretsmanager.create_secret(Name="SystemsCredentials",
                                       SecretString=json.dumps({"erp": {"api_key": "k-1"}}))["ARN"]
    with FakeErp(api_key="k-1") as erp:
        ports = build_ports(
            {"crm": rest_system(erp, {"type": "api_key", "secret_key": "erp"})},
            table_name="unused",
            secretsmanager=secretsmanager,
            dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"),
            sleep=sleeps.append,
            default_secret_id=arn,
        )
        ports.crm.project_created("OPP-1", "P", idempotency_key="k")

        assert erp.state.crm == {"OPP-1": "P"} and erp.requests[0].header("X-Api-Key") == "k-1"
        with pytest.raises(ValueError, match=r"SYSTEMS_CONFIG.crm.auth: no secret_id, and no default secret"):
            build_ports({"crm": rest_system(erp, {"type": "api_key"})}, table_name="unused", dynamodb=MagicMock())


def test_secret_cache_ttl_expires(secretsmanager):
    secretsmanager.create_secret(Name="erp/api", SecretString=json.dumps({"api_key": "old"}))
    now = [0.0]
    cache = SecretCache(secretsmanager, ttl_seconds=300, clock=lambda: now[0])

    assert cache.get("erp/api") == {"api_key": "old"}
    secretsmanager.put_secret_value(SecretId="erp/api", SecretString=json.dumps({"api_key": "new"}))
    now[0] = 299.0
    assert cache.get("erp/api") == {"api_key": "old"}
    now[0] = 301.0
    assert cache.get("erp/api") == {"api_key": "new"}
    assert secretsmanager.reads == 2


def test_missing_or_non_json_secret_is_permanent(secretsmanager):
    secretsmanager.create_secret(Name="plain", SecretString="not json")
    cache = SecretCache(secretsmanager)

    with pytest.raises(IntegrationPermanent, match="ResourceNotFoundException"):
        cache.get("nope")
    with pytest.raises(IntegrationPermanent, match="not a JSON object"):
        cache.get("plain")
    secretsmanager.create_secret(Name="shared", SecretString=json.dumps({"erp": {"api_key": "k"}}))
    with pytest.raises(IntegrationPermanent, match="no JSON object under 'psa'"):
        cache.get("shared", "psa")


def test_rotated_api_key_is_reread_once_after_401(secretsmanager, sleeps):
    secretsmanager.create_secret(Name="erp/api", SecretString=json.dumps({"api_key": "old"}))
    with FakeErp(api_key="new") as erp:
        ports = build_ports(
            {"crm": rest_system(erp, {"type": "api_key", "secret_id": "erp/api"})},
            table_name="unused",
            secretsmanager=secretsmanager,
            dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"),
        )
        with pytest.raises(IntegrationPermanent) as caught:
            ports.crm.project_created("OPP-1", "P", idempotency_key="k")
        assert caught.value.status == 401 and len(erp.requests) == 2  # one re-read, then final

        secretsmanager.put_secret_value(SecretId="erp/api", SecretString=json.dumps({"api_key": "new"}))
        ports.crm.project_created("OPP-1", "P", idempotency_key="k")  # the failed key re-read again
        assert erp.state.crm == {"OPP-1": "P"}


def oauth_config(erp: FakeErp) -> dict:
    return {"type": "oauth2_client_credentials", "token_url": erp.token_url, "secret_id": "erp/oauth",
            "scope": "projects.write"}


def test_oauth2_token_fetched_with_client_credentials_and_cached(secretsmanager, sleeps):
    secretsmanager.create_secret(
        Name="erp/oauth", SecretString=json.dumps({"client_id": "handoff", "client_secret": "s3cr3t"})
    )
    with FakeErp(client_id="handoff", client_secret="s3cr3t") as erp:
        system = rest_system(erp, oauth_config(erp))
        ports = build_ports(
            {"customer_master": system, "projects": system, "billing": system},
            table_name="unused",
            secretsmanager=secretsmanager,
            dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"),
            sleep=sleeps.append,
        )

        customer = ports.customer_master.match_or_create(ACCOUNT, idempotency_key="h1:customer")
        ports.projects.create_project(SHELL, customer, idempotency_key="h1:project")
        ports.billing.create_schedule(SHELL.code, customer, SCHEDULE, idempotency_key="h1:billing")

        assert erp.tokens_issued == 1
        api = [r for r in erp.requests if r.path != "/oauth/token"]
        assert {r.header("Authorization") for r in api} == {"Bearer tok-1"}
        [token_request] = erp.requests_to("/oauth/token")
        assert token_request.body == b"grant_type=client_credentials&scope=projects.write"
        assert token_request.header("Authorization").startswith("Basic ")
    assert secretsmanager.reads == 1


def test_oauth2_token_refreshed_before_expiry_and_after_401(secretsmanager, sleeps):
    secretsmanager.create_secret(
        Name="erp/oauth", SecretString=json.dumps({"client_id": "handoff", "client_secret": "s3cr3t"})
    )
    now = [0.0]
    with FakeErp(client_id="handoff", client_secret="s3cr3t", token_ttl=600) as erp:
        tokens = OAuth2ClientCredentials(
            SecretCache(secretsmanager), token_url=erp.token_url, secret_id="erp/oauth", clock=lambda: now[0]
        )
        client = RestClient(
            RestSystemConfig(name="Fake ERP", base_url=erp.base_url, timeout_seconds=2.0),
            auth=tokens,
            sleep=sleeps.append,
        )
        crm = RestCrmWriteback(client)

        crm.project_created("OPP-1", "P", idempotency_key="k1")
        now[0] = 539.0  # 600 s token, refreshed 60 s early
        crm.project_created("OPP-1", "P", idempotency_key="k2")
        assert erp.tokens_issued == 1
        now[0] = 541.0
        crm.project_created("OPP-1", "P", idempotency_key="k3")
        assert erp.tokens_issued == 2

        erp.revoke_tokens()  # the ERP forgot its tokens: one 401, a fresh token, success
        crm.project_created("OPP-1", "P", idempotency_key="k4")
        assert erp.tokens_issued == 3
        assert sleeps == []


def test_oauth2_wrong_client_secret_is_permanent(secretsmanager, sleeps):
    secretsmanager.create_secret(
        Name="erp/oauth", SecretString=json.dumps({"client_id": "handoff", "client_secret": "wrong"})
    )
    with FakeErp(client_id="handoff", client_secret="s3cr3t") as erp:
        ports = build_ports(
            {"crm": rest_system(erp, oauth_config(erp))},
            table_name="unused",
            secretsmanager=secretsmanager,
            dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"),
            sleep=sleeps.append,
        )
        with pytest.raises(IntegrationPermanent, match="token endpoint refused the client") as caught:
            ports.crm.project_created("OPP-1", "P", idempotency_key="k")
        assert caught.value.status == 401
        assert "wrong" not in str(caught.value)
        assert erp.requests_to("/crm/opportunities/OPP-1/project") == []


def test_token_endpoint_outage_is_retried_like_the_api(secretsmanager, sleeps):
    secretsmanager.create_secret(
        Name="erp/oauth", SecretString=json.dumps({"client_id": "handoff", "client_secret": "s3cr3t"})
    )
    with FakeErp(client_id="handoff", client_secret="s3cr3t") as erp:
        erp.fault("/oauth/token", errors=1)
        ports = build_ports(
            {"crm": rest_system(erp, oauth_config(erp), max_attempts=2)},
            table_name="unused",
            secretsmanager=secretsmanager,
            dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"),
            sleep=sleeps.append,
        )
        ports.crm.project_created("OPP-1", "P", idempotency_key="k")

        assert [r.path for r in erp.requests] == ["/oauth/token", "/oauth/token", "/crm/opportunities/OPP-1/project"]
        assert len(sleeps) == 1
        erp.stop()  # the cached token is used; the API itself is now unreachable
        with pytest.raises(IntegrationTransient, match="failed after 2 attempts"):
            ports.crm.project_created("OPP-1", "P", idempotency_key="k2")


# Registry -----------------------------------------------------------------------------------------
def test_systems_config_from_the_environment_mixes_adapters(monkeypatch, erp):
    monkeypatch.setenv(ENV_VAR, json.dumps({"projects": {"adapter": "rest", "base_url": erp.base_url}}))

    ports = build_ports(table_name="ledger", dynamodb=boto3.resource("dynamodb", region_name="eu-west-1"))

    assert isinstance(ports.projects, RestProjects)
    assert isinstance(ports.crm, LedgerCrmWriteback)
    assert ports.projects._client.system == "projects"  # the port name unless the config names it


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"billing": {"adapter": "sap-rfc"}}, "SYSTEMS_CONFIG.billing: unknown adapter 'sap-rfc'"),
        ({"invoicing": {"adapter": "ledger"}}, "unknown systems ['invoicing']"),
        ({"crm": {"adapter": "rest"}}, "SYSTEMS_CONFIG.crm: base_url: Field required"),
        ({"crm": {"adapter": "rest", "base_url": "http://x", "paths": {"delete_all": "/x"}}}, "unknown operations"),
        ({"crm": {"adapter": "rest", "base_url": "http://x", "auth": {"type": "kerberos"}}}, "SYSTEMS_CONFIG.crm"),
        ({"crm": {"adapter": "ledger", "base_url": "http://x"}}, "ledger adapter takes no settings"),
        ({"crm": "ledger"}, "must be an object"),
        ("[1]", "must be a JSON object"),
        ("{nope", "not valid JSON"),
    ],
)
def test_bad_systems_config_is_a_value_error_naming_the_problem(config, words):
    with pytest.raises(ValueError) as caught:
        build_ports(config, table_name="ledger", dynamodb=MagicMock())
    assert words in str(caught.value)


def test_ledger_port_without_a_table_name_is_refused():
    with pytest.raises(ValueError, match="no ledger table name"):
        build_ports({})


def test_empty_config_means_all_ledger():
    assert load_config("") == {} and load_config("  ") == {}


def test_paths_are_configurable(erp, sleeps):
    erp_paths = {"crm_project_created": "/crm/opportunities/{opportunity_id}/project"}
    client = make_client(erp, sleeps, paths={**erp_paths, "create_project": "/projects"})

    assert client.url("create_project") == f"{erp.base_url}/projects"
    custom = make_client(erp, sleeps, paths={"create_project": "/psa/v2/engagements"})
    assert custom.url("create_project") == f"{erp.base_url}/psa/v2/engagements"
    assert custom.url("raise_requisitions") == f"{erp.base_url}/requisitions"
