"""Deploy-time configuration read from SSM Parameter Store through Powertools Parameters: cached
per process, parsed once per value, and a bad value names the parameter and the key."""

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from handoff.adapters import aws, configuration
from handoff.config import ConfigurationError
from handoff.domain.playbooks import UnknownServiceLine
from tests.support.aws import forget_aws_clients

REGION = "eu-west-1"
ROOT = Path(__file__).resolve().parents[2]
APPROVERS = (ROOT / "functions/handoff/config/approvers.yaml").read_text()


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        forget_aws_clients()
        configuration.forget()
        client = boto3.client("ssm", region_name=REGION)
        client.put_parameter(Name="/stack/approvers", Value=APPROVERS, Type="String")
        client.put_parameter(Name="/stack/delivery-leads-email", Value="leads@example-consulting.com", Type="String")
        for source in (ROOT / "functions/handoff/playbooks").glob("*.yaml"):
            client.put_parameter(Name=f"/stack/playbooks/{source.stem}", Value=source.read_text(), Type="String",
                                 Tier="Advanced")
        monkeypatch.setenv("APPROVERS_PARAMETER", "/stack/approvers")
        monkeypatch.setenv("DELIVERY_LEADS_PARAMETER", "/stack/delivery-leads-email")
        monkeypatch.setenv("PLAYBOOKS_PARAMETER_PATH", "/stack/playbooks")
        yield client
        configuration.forget()
        forget_aws_clients()


def count_calls(operation: str) -> list[str]:
    calls: list[str] = []
    aws.client("ssm").meta.events.register(f"before-call.ssm.{operation}", lambda **_: calls.append(operation))
    return calls


def test_the_approver_directory_comes_from_its_parameter_read_once_per_max_age(ssm: object) -> None:
    calls = count_calls("GetParameter")
    first = configuration.approver_directory()
    assert configuration.approver_directory() is first  # parsed once per value
    assert first.route("legal", "EMEA", "erp-implementation").approver.email == "legal-emea@example-consulting.com"
    assert calls == ["GetParameter"]
    ssm.put_parameter(Name="/stack/approvers", Value=APPROVERS.replace("legal-emea@", "emea-legal@"),
                      Type="String", Overwrite=True)
    configuration.forget()  # what the cache's max age does on Lambda after CONFIG_MAX_AGE_SECONDS
    changed = configuration.approver_directory()
    assert changed.route("legal", "EMEA", "erp-implementation").approver.email == "emea-legal@example-consulting.com"


def test_a_bad_approver_directory_names_the_parameter_and_the_key(ssm: object) -> None:
    broken = APPROVERS.replace("email: legal-emea@example-consulting.com", "email: legal-emea")
    ssm.put_parameter(Name="/stack/approvers", Value=broken, Type="String", Overwrite=True)
    with pytest.raises(ConfigurationError) as raised:
        configuration.approver_directory()
    message = str(raised.value)
    assert message.startswith("SSM parameter /stack/approvers: approvers.legal.1.approver.email: ")
    ssm.put_parameter(Name="/stack/approvers", Value="approvers: [unclosed", Type="String", Overwrite=True)
    configuration.forget()
    with pytest.raises(ConfigurationError, match=r"^SSM parameter /stack/approvers: not valid YAML"):
        configuration.approver_directory()


def test_a_missing_parameter_is_a_clear_error(ssm: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVERS_PARAMETER", "/stack/nobody")
    with pytest.raises(ConfigurationError, match=r"SSM parameter /stack/nobody \(APPROVERS_PARAMETER\) cannot be read"):
        configuration.approver_directory()


def test_the_delivery_leads_address_is_validated(ssm: object) -> None:
    assert configuration.delivery_leads_email() == "leads@example-consulting.com"
    ssm.put_parameter(Name="/stack/delivery-leads-email", Value="leads at example", Type="String", Overwrite=True)
    configuration.forget()
    with pytest.raises(ConfigurationError, match=r"^SSM parameter /stack/delivery-leads-email: not an email address"):
        configuration.delivery_leads_email()


def test_playbooks_come_from_the_parameters_under_their_path(ssm: object) -> None:
    calls = count_calls("GetParametersByPath")
    playbook = configuration.playbook("advisory", region="AMER", country="US", contract_type="fixed_fee")
    assert playbook.service_line == "advisory"
    configuration.playbook("erp-implementation", region="EMEA", country="DE", contract_type="milestone")
    assert calls == ["GetParametersByPath"]
    ssm.put_parameter(Name="/stack/playbooks/advisory", Value=(ROOT / "functions/handoff/playbooks/advisory.yaml")
                      .read_text().replace("service_line: advisory", "service_line: advice"), Type="String",
                      Overwrite=True)
    configuration.forget()
    with pytest.raises(Exception, match=r"SSM parameter /stack/playbooks/advisory: service_line: must be 'advisory'"):
        configuration.playbook("advisory", region="AMER", country="US", contract_type="fixed_fee")
    with pytest.raises(UnknownServiceLine, match=r"known: advisory, data-analytics, erp-implementation, managed-services"):
        configuration.playbook("cloud-migration", region="AMER", country="US", contract_type="fixed_fee")


def test_the_systems_configuration_comes_from_its_parameter(ssm: object, monkeypatch: pytest.MonkeyPatch) -> None:
    assert configuration.systems_config_text() == "{}"  # no parameter configured: every port on the ledger
    ssm.put_parameter(Name="/stack/systems-config", Value='{"crm":{"adapter":"ledger"}}', Type="String")
    monkeypatch.setenv("SYSTEMS_CONFIG_PARAMETER", "/stack/systems-config")
    assert configuration.systems_config_text() == '{"crm":{"adapter":"ledger"}}'
