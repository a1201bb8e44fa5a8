"""Deploy-time configuration in SSM Parameter Store: the approver directory, the delivery leads'
address, the playbooks and the systems configuration. The stack creates the parameters (defaults
from the repo's files, or from context) and names them in the functions' environment; operators
change policy by changing a parameter, with no code release.

Read through Powertools Parameters: one SSM client and one cache per process, a value re-read
after CONFIG_MAX_AGE_SECONDS (default 300) so an edit is picked up within minutes. Each text is
parsed and validated once per distinct value; a bad value fails with the parameter and key named."""

from functools import lru_cache
from pathlib import Path

from aws_lambda_powertools.utilities.parameters import SSMProvider
from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError

from handoff.adapters import aws
from handoff.adapters.built_once import BuiltOnce
from handoff.adapters.playbook_files import load_playbook
from handoff.config import ConfigurationError
from handoff.contracts import ClosedWonEvent
from handoff.domain.approvals import ApproverDirectory
from handoff.domain.playbooks import Playbook
from handoff.settings import Settings, Variable, settings

# The variables naming the parameters (infra/configuration.py sets them).
APPROVERS = Settings.approvers_parameter.name
DELIVERY_LEADS = Settings.delivery_leads_parameter.name
PLAYBOOKS = Settings.playbooks_parameter_path.name
SYSTEMS = Settings.systems_config_parameter.name
DEFAULT_MAX_AGE_SECONDS = 300
# The repo's approver directory: the parameter's default at deploy time, and what runs without one.
DEFAULT_APPROVERS_FILE = Path(__file__).resolve().parent.parent / "config" / "approvers.yaml"

_ssm = BuiltOnce(lambda: SSMProvider(boto3_client=aws.client("ssm")))


def forget() -> None:
    """Drop the cached values (tests, and the embedded runtime when it starts afresh)."""
    _ssm.forget()


def _max_age() -> int:
    return int(settings().config_max_age_seconds or DEFAULT_MAX_AGE_SECONDS)


def _value(variable: Variable) -> tuple[str, str] | None:
    """(parameter name, its text), or None when the function is not configured with one."""
    name = variable.__get__(settings(), Settings)
    if not name:
        return None
    try:
        return name, str(_ssm().get(name, max_age=_max_age()))
    except Exception as exc:
        raise ConfigurationError(f"SSM parameter {name} ({variable.name}) cannot be read: {exc}") from exc


def key_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(root)"


# --- the approver directory -------------------------------------------------------------------------
@lru_cache(maxsize=8)
def parse_approvers(text: str, origin: str) -> ApproverDirectory:
    import yaml

    try:
        return ApproverDirectory.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{origin}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigurationError(f"{origin}: {key_path(error['loc'])}: {message}") from None


def load_approver_directory(path: Path = DEFAULT_APPROVERS_FILE) -> ApproverDirectory:
    """The approver directory in a YAML file (the repo's by default), validated."""
    return parse_approvers(path.read_text(encoding="utf-8"), str(path))


def approver_directory() -> ApproverDirectory:
    found = _value(Settings.approvers_parameter)
    if found is None:  # unit tests without a deployment: the repo's file
        return load_approver_directory()
    name, text = found
    return parse_approvers(text, f"SSM parameter {name}")


# --- the delivery leads' address ---------------------------------------------------------------------
@lru_cache(maxsize=8)
def parse_address(text: str, origin: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ConfigurationError(f"{origin}: not an email address: {exc}") from None


def delivery_leads_email() -> str:
    found = _value(Settings.delivery_leads_parameter)
    if found is None:
        legacy = settings().delivery_leads_email
        if not legacy:
            raise ConfigurationError(f"environment variable {DELIVERY_LEADS} is not set")
        return parse_address(legacy, "DELIVERY_LEADS_EMAIL")
    name, text = found
    return parse_address(text, f"SSM parameter {name}")


# --- playbooks -----------------------------------------------------------------------------------------
def playbook_sources() -> tuple[str, dict[str, str]] | None:
    """(path, {file stem: YAML text}) of the playbook parameters, None when not configured."""
    path = settings().playbooks_parameter_path
    if not path:
        return None
    try:
        found = _ssm().get_multiple(path, max_age=_max_age(), recursive=False)
    except Exception as exc:
        raise ConfigurationError(f"SSM parameters under {path} ({PLAYBOOKS}) cannot be read: {exc}") from exc
    return path.rstrip("/") + "/", {str(k): str(v) for k, v in found.items()}


def playbook(service_line: str, *, region: str, country: str, contract_type: str) -> Playbook:
    """The playbook of a service line, from Parameter Store when the function is configured so."""
    sources = playbook_sources()
    if sources is None:
        return load_playbook(service_line, region=region, country=country, contract_type=contract_type)
    origin, texts = sources
    return load_playbook(service_line, region=region, country=country, contract_type=contract_type,
                         sources=texts, origin=f"SSM parameter {origin}")


def playbook_for(deal: ClosedWonEvent) -> Playbook:
    """The playbook of a closed-won deal (its service line, region, country and contract type)."""
    detail = deal.detail
    return playbook(detail.opportunity.service_line, region=detail.opportunity.region,
                    country=detail.account.country, contract_type=detail.contract.type)


# --- systems of record -----------------------------------------------------------------------------------
def systems_config_text() -> str:
    """The SYSTEMS_CONFIG JSON: the parameter's value; the variable, when set, overrides it (the
    embedded runtime's tests point the ports at a fake ERP this way)."""
    override = settings().systems_config
    if override:
        return override
    found = _value(Settings.systems_config_parameter)
    return found[1] if found else "{}"

