"""Playbooks: one backbone, controlled variants per service line, geography and contract type.

Each service line is a YAML file in handoff/playbooks/ (`<service-line>.yaml`). `_common.yaml`, when
present, holds what every line shares (tax rules, exception policy ...); the line file overrides it
key by key. A file may declare `variants:`, each `{name, when: {region, country, contractType},
overrides}`; every variant whose conditions all match (country is the customer's) is applied in
file order. Overrides merge into mappings and replace lists and scalars, and may only touch keys the
base declares: a variant tunes the standard, it cannot invent policy. Everything is validated at
load; an unknown key anywhere raises PlaybookError naming the file and the key path."""

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, cast

import pycountry
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from handoff.contracts.event import ContractType
from handoff.contracts.money import is_currency
from handoff.contracts.record import ExceptionCode, Severity
from handoff.domain.policy import ApprovalRules, BillingRules, TaxRule
from handoff.domain.project import WbsTemplatePhase, project_code

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "playbooks"
COMMON_FILE = "_common.yaml"
Region = Literal["AMER", "EMEA", "APAC"]
_SERVICE_LINE = re.compile(r"[a-z0-9][a-z0-9-]*")
_FIELD_PATH = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*")
_NOT_OVERRIDABLE = {"service_line", "variants"}


Loc = tuple[int | str, ...]  # a pydantic error location or a key path


class PlaybookError(ValueError):
    """A playbook that cannot be used; `file` and `key` (dotted path, or None) say where."""

    def __init__(self, message: str, *, file: str, key: str | None = None):
        self.file = file
        self.key = key
        self.reason = message
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")


class UnknownServiceLine(PlaybookError):
    """The deal names a service line no playbook covers: the deal is wrong, not the playbooks."""


def _country(code: str) -> str:
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CountryCode = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
PositiveDecimal = Annotated[Decimal, Field(gt=0)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class PlaybookModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CostCenters(PlaybookModel):
    default: str = Field(min_length=1)
    by_region: dict[Region, str] = Field(default_factory=dict)
    by_country: dict[CountryCode, str] = Field(default_factory=dict)


class Compliance(PlaybookModel):
    # Where customer data must stay, by customer country or region (country wins): EEA, US, AU ...
    data_residency: dict[str, str] = Field(default_factory=dict)
    # Countries where processing personal data needs a data processing agreement.
    dpa_required_countries: list[CountryCode] = Field(default_factory=list)
    # Sanctioned or export-controlled: no delivery, staffing or subcontracting without clearance.
    restricted_countries: list[CountryCode] = Field(default_factory=list)
    record_retention_years: int = Field(default=10, ge=1)

    def residency(self, region: str, country: str) -> str | None:
        return self.data_residency.get(country, self.data_residency.get(region))


DEFAULT_SEVERITIES: dict[str, Severity] = {
    **dict.fromkeys(
        ["MISSING_FIELD", "CONTRACT_NOT_SIGNED", "MILESTONES_MISMATCH", "AMOUNT_MISMATCH", "CURRENCY_MISMATCH",
         "INVALID_TAX_ID", "DATES_INCOHERENT", "RATE_CARD_GAP", "INTEGRATION_FAILURE", "APPROVAL_TIMEOUT",
         "MASTER_DATA_CONFLICT", "UNKNOWN_PLAYBOOK", "PROCESSING_FAILURE", "APPROVAL_EMAIL_BOUNCED",
         "FIX_REQUEST_EMAIL_BOUNCED"],
        "BLOCKING",
    ),
    **dict.fromkeys(["NON_STANDARD_CLAUSE", "SCOPE_MISMATCH", "UNKNOWN_VENDOR"], "WARNING"),
}
DEFAULT_OWNER_GROUPS: dict[str, str] = {
    **dict.fromkeys(
        ["MISSING_FIELD", "AMOUNT_MISMATCH", "DATES_INCOHERENT", "SCOPE_MISMATCH", "UNKNOWN_PLAYBOOK",
         "APPROVAL_TIMEOUT", "APPROVAL_EMAIL_BOUNCED", "FIX_REQUEST_EMAIL_BOUNCED"],
        "deal-desk",
    ),
    **dict.fromkeys(["CONTRACT_NOT_SIGNED", "NON_STANDARD_CLAUSE"], "legal"),
    **dict.fromkeys(["MILESTONES_MISMATCH", "CURRENCY_MISMATCH", "RATE_CARD_GAP"], "finance"),
    "INVALID_TAX_ID": "tax",
    "UNKNOWN_VENDOR": "procurement",
    **dict.fromkeys(["INTEGRATION_FAILURE", "PROCESSING_FAILURE"], "integration-ops"),
    "MASTER_DATA_CONFLICT": "data-steward",  # the customer master is theirs; resolving the item retries the handoff
}
DEFAULT_SLA_HOURS: dict[str, int] = {"BLOCKING": 24, "WARNING": 72}


class ExceptionPolicy(PlaybookModel):
    """How exceptions are graded and routed. Maps given here are merged over the defaults."""

    severities: dict[ExceptionCode, Severity] = Field(default_factory=dict, validate_default=True)
    owner_groups: dict[ExceptionCode, str] = Field(default_factory=dict, validate_default=True)
    sla_hours: dict[Severity, Annotated[int, Field(gt=0)]] = Field(default_factory=dict, validate_default=True)
    # Prioritisation: revenue at risk is converted (roughly, for ranking only) to the reference
    # currency; the revenue part of the score is full at this amount. Unlisted currencies count 1:1.
    reference_currency: CurrencyCode = "USD"
    revenue_full_score_at: PositiveDecimal = Decimal(10_000_000)
    fx_to_reference: dict[CurrencyCode, PositiveDecimal] = Field(default_factory=dict)
    # Customer risk (handoff.domain.customer_risk): points 0..30 for deals in these countries.
    country_risk: dict[CountryCode, Annotated[int, Field(ge=0, le=30)]] = Field(default_factory=dict)

    @field_validator("severities")
    @classmethod
    def _severity_defaults(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        return {**DEFAULT_SEVERITIES, **value}

    @field_validator("owner_groups")
    @classmethod
    def _owner_defaults(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_OWNER_GROUPS, **value}

    @field_validator("sla_hours")
    @classmethod
    def _sla_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        return {**DEFAULT_SLA_HOURS, **value}


class StaffingRules(PlaybookModel):
    # Open deals at or above this probability may get soft (tentative) staffing requests before
    # closing; closed-won deals get firm requests.
    soft_request_min_probability: int = Field(default=70, ge=0, le=100)


class ContractingEntity(PlaybookModel):
    name: str = Field(min_length=1)
    country: CountryCode


class ContractingEntities(PlaybookModel):
    """Our legal entity that contracts with a customer, by customer country: decides whether EU
    VAT is cross-border (reverse charge) or domestic."""

    default: ContractingEntity
    by_country: dict[CountryCode, ContractingEntity] = Field(default_factory=dict)


class Playbook(PlaybookModel):
    service_line: str = Field(pattern=_SERVICE_LINE.pattern)
    name: str = Field(min_length=1)
    description: str = ""
    # Dotted camelCase paths into the event detail that must be present and non-empty.
    required_fields: list[str] = Field(default_factory=list)
    wbs_template: list[WbsTemplatePhase] = Field(min_length=1)
    cost_centers: CostCenters
    # str.format over the placeholders of handoff.domain.project.project_code: {line}, {service_line},
    # {country}, {region}, {year}, {seq}, {opportunity_id}, {hash}; e.g. "{line}-{country}-{year}-{seq:04d}".
    project_code_scheme: str
    approvals: ApprovalRules = ApprovalRules()
    billing: BillingRules = BillingRules()
    tax_rules: dict[CountryCode, TaxRule]  # by customer country; `country` defaults to the key
    contracting_entities: ContractingEntities
    # Standard cost per hour by role (case-insensitive), for margin; roles not listed cost the default.
    cost_rate_currency: CurrencyCode
    default_cost_rate: PositiveDecimal
    cost_rates: dict[str, PositiveDecimal] = Field(default_factory=dict)
    compliance: Compliance = Compliance()
    exceptions: ExceptionPolicy = ExceptionPolicy()
    staffing: StaffingRules = StaffingRules()
    variants_applied: tuple[str, ...] = ()  # set by the loader, never in YAML

    @field_validator("required_fields")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not _FIELD_PATH.fullmatch(path):
                raise ValueError(f"{path!r} is not a dotted camelCase path such as 'account.taxId'")
        return value

    @field_validator("project_code_scheme")
    @classmethod
    def _renders(cls, value: str) -> str:
        try:
            sample = project_code(value, service_line="erp-implementation", country="DE", region="EMEA",
                                  year=2027, seq=1, opportunity_id="006SAMPLE")
        except (ValueError, KeyError, IndexError) as exc:
            raise ValueError(f"cannot be rendered: {exc}") from None
        if "{seq" not in value and "{hash" not in value and "{opportunity_id" not in value:
            raise ValueError("must contain {seq}, {hash} or {opportunity_id} so that codes are unique")
        if not sample.strip():
            raise ValueError("renders an empty code")
        return value

    @field_validator("tax_rules", mode="before")
    @classmethod
    def _country_from_key(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: {"country": k, **v} if isinstance(v, Mapping) else v for k, v in value.items()}
        return value

    @field_validator("tax_rules")
    @classmethod
    def _keys_match_rules(cls, value: dict[str, TaxRule]) -> dict[str, TaxRule]:
        for key, rule in value.items():
            if rule.country != key:
                raise ValueError(f"the rule under {key} declares country {rule.country}")
        return value

    def tax_rule(self, country: str) -> TaxRule:
        """The customer country's rule; readiness blocks deals whose country has none."""
        rule = self.tax_rules.get(country)
        if rule is None:
            file = f"{self.service_line}.yaml"
            raise PlaybookError(f"no tax rule for {country}", file=file, key=f"tax_rules.{country}")
        return rule

    def has_tax_rule(self, country: str) -> bool:
        return country in self.tax_rules

    def supplier_country(self, customer_country: str) -> str:
        return self.contracting_entity(customer_country).country

    def contracting_entity(self, customer_country: str) -> ContractingEntity:
        entities = self.contracting_entities
        return entities.by_country.get(customer_country, entities.default)

    def cost_center_for(self, region: str, country: str) -> str:
        centers = self.cost_centers
        return centers.by_country.get(country) or centers.by_region.get(cast(Region, region)) or centers.default

    def cost_rate(self, role: str) -> Decimal:
        wanted = role.strip().casefold()
        rates = (rate for name, rate in self.cost_rates.items() if name.casefold() == wanted)
        return next(rates, self.default_cost_rate)

    def severity(self, code: str) -> Severity:
        return self.exceptions.severities.get(cast(ExceptionCode, code), "BLOCKING")

    def owner_group(self, code: str) -> str:
        return self.exceptions.owner_groups.get(cast(ExceptionCode, code), "deal-desk")


class VariantWhen(PlaybookModel):
    model_config = ConfigDict(populate_by_name=True)

    region: Annotated[list[Region], BeforeValidator(_as_list)] | None = None
    country: Annotated[list[CountryCode], BeforeValidator(_as_list)] | None = None
    contract_type: Annotated[list[ContractType], BeforeValidator(_as_list)] | None = Field(
        default=None, alias="contractType"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> "VariantWhen":
        if self.region is None and self.country is None and self.contract_type is None:
            raise ValueError("needs at least one of region, country, contractType")
        return self

    def matches(self, region: str, country: str, contract_type: str) -> bool:
        return all(
            wanted is None or actual in wanted
            for wanted, actual in ((self.region, region), (self.country, country), (self.contract_type, contract_type))
        )


class Variant(PlaybookModel):
    name: str | None = None
    when: VariantWhen
    overrides: dict[str, Any] = Field(min_length=1)


# ---- loading -------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML with floats read as Decimal (money and rates never pass through float) and
    duplicate keys rejected (the second would silently win)."""


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise yaml.constructor.ConstructorError(None, None, f"{text!r} is not a decimal", node.start_mark) from None


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class _Sources(NamedTuple):
    """The files a playbook is read from, to blame the right one for an error."""

    file: str
    common_file: str
    common_raw: dict[str, Any]
    line_raw: dict[str, Any]


class _Parsed(NamedTuple):
    sources: _Sources
    base_raw: dict[str, Any]  # common merged with the line file
    base: Playbook
    variants: tuple[Variant, ...]


def load_playbook(
    service_line: str, *, region: str, country: str, contract_type: str, directory: Path | None = None,
    sources: Mapping[str, str] | None = None, origin: str = "",
) -> Playbook:
    """The playbook of a service line with the variants matching this deal applied. From the
    files of `directory`, or from `sources` ({file stem: YAML text}, e.g. Parameter Store values,
    named `origin` + stem in errors)."""
    if sources is not None:
        return _resolved(_texts_from(service_line, sources, origin), region, country, contract_type)
    path = _path_for(service_line, Path(directory) if directory else DEFAULT_DIRECTORY)
    return _resolved(_texts(path), region, country, contract_type)


def all_playbooks(directory: Path | None = None, *, sources: Mapping[str, str] | None = None,
                  origin: str = "") -> dict[str, Playbook]:
    """Every playbook (base form), each file and each variant fully validated."""
    if sources is not None:
        return {stem: _parsed(_texts_from(stem, sources, origin)).base
                for stem in sorted(sources) if not stem.startswith("_")}
    directory = Path(directory) if directory else DEFAULT_DIRECTORY
    return {
        path.stem: _parsed(_texts(path)).base
        for path in sorted(directory.glob("*.yaml"))
        if not path.name.startswith("_")
    }


def service_lines(directory: Path | None = None) -> list[str]:
    directory = Path(directory) if directory else DEFAULT_DIRECTORY
    return sorted(p.stem for p in directory.glob("*.yaml") if not p.name.startswith("_"))


def clear_cache() -> None:
    _parsed.cache_clear()
    _resolved.cache_clear()


def _path_for(service_line: str, directory: Path) -> Path:
    path = directory / f"{service_line}.yaml"
    # The name comes from the CRM: only a plain file name, never a path.
    if not _SERVICE_LINE.fullmatch(service_line) or not path.is_file():
        known = ", ".join(service_lines(directory)) or "none"
        raise UnknownServiceLine(
            f"no playbook for service line {service_line!r} (known: {known})", file=str(path), key="service_line"
        )
    return path


class _Texts(NamedTuple):
    """What a playbook is read from (the cache key: an edit to either text is a new playbook)."""

    stem: str
    file: str
    text: str
    common_file: str
    common_text: str | None


def _texts(path: Path) -> _Texts:
    common = path.parent / COMMON_FILE
    return _Texts(path.stem, str(path), path.read_text(encoding="utf-8"), str(common),
                  common.read_text(encoding="utf-8") if common.is_file() else None)


def _texts_from(service_line: str, sources: Mapping[str, str], origin: str) -> _Texts:
    common_stem = COMMON_FILE.removesuffix(".yaml")
    if not _SERVICE_LINE.fullmatch(service_line) or service_line not in sources:
        known = ", ".join(sorted(s for s in sources if not s.startswith("_"))) or "none"
        raise UnknownServiceLine(f"no playbook for service line {service_line!r} (known: {known})",
                                 file=f"{origin}{service_line}", key="service_line")
    return _Texts(service_line, f"{origin}{service_line}", sources[service_line], f"{origin}{common_stem}",
                  sources.get(common_stem))


@lru_cache(maxsize=256)
def _resolved(texts: _Texts, region: str, country: str, contract_type: str) -> Playbook:
    parsed = _parsed(texts)
    matching = [(i, v) for i, v in enumerate(parsed.variants) if v.when.matches(region, country, contract_type)]
    if not matching:
        return parsed.base
    raw = parsed.base_raw
    for _, variant in matching:
        raw = _merge(raw, variant.overrides)
    names = tuple(v.name or f"variants[{i}]" for i, v in matching)
    return _validate(raw, parsed.sources, names=names)


@lru_cache(maxsize=64)
def _parsed(texts: _Texts) -> _Parsed:
    file = texts.file
    common = _read(texts.common_text, texts.common_file) if texts.common_text is not None else {}
    line = _read(texts.text, file)
    variants_raw = line.pop("variants", None) or []
    sources = _Sources(file, texts.common_file, common, line)
    for source, raw in ((sources.common_file, common), (file, line)):
        if "variants_applied" in raw:  # the loader's to set
            raise PlaybookError("unknown key", file=source, key="variants_applied")
    if "variants" in common:
        raise PlaybookError("variants belong in a service-line file", file=sources.common_file, key="variants")
    if line.get("service_line") != texts.stem:
        raise PlaybookError(
            f"must be {texts.stem!r}, the file name (found {line.get('service_line')!r})", file=file, key="service_line"
        )
    base_raw = _merge(common, line)
    base = _validate(base_raw, sources)
    variants = tuple(_variant(i, raw, sources, base_raw) for i, raw in enumerate(_list(variants_raw, file)))
    return _Parsed(sources, base_raw, base, variants)


def _read(text: str, file: str) -> dict[str, Any]:
    try:
        raw = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise PlaybookError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(raw, dict):
        raise PlaybookError("a playbook must be a YAML mapping", file=file)
    return raw


def _list(value: Any, file: str) -> list[Any]:
    if not isinstance(value, list):
        raise PlaybookError("must be a list of variants", file=file, key="variants")
    return value


def _variant(index: int, raw: Any, sources: _Sources, base_raw: dict[str, Any]) -> Variant:
    prefix = f"variants[{index}]"
    try:
        variant = Variant.model_validate(raw)
    except ValidationError as exc:
        loc, message = _first_error(exc)
        raise PlaybookError(message, file=sources.file, key=_key_path((prefix, *loc))) from None
    _check_declared(variant.overrides, base_raw, f"{prefix}.overrides", (), sources.file)
    # Validated alone here, whether or not any deal matches it yet.
    merged = _merge(base_raw, variant.overrides)
    _validate(merged, sources, names=(variant.name or prefix,), overrides=(prefix, variant.overrides))
    return variant


def _check_declared(overrides: dict[str, Any], base: Any, prefix: str, path: tuple[Any, ...], file: str) -> None:
    for key, value in overrides.items():
        here = (*path, key)
        if not path and key in _NOT_OVERRIDABLE:
            raise PlaybookError("cannot be overridden by a variant", file=file, key=_key_path((prefix, *here)))
        if not isinstance(base, dict) or key not in base:
            raise PlaybookError(
                "unknown key: a variant may only override keys the base playbook declares",
                file=file,
                key=_key_path((prefix, *here)),
            )
        if isinstance(value, dict) and isinstance(base[key], dict):
            _check_declared(value, base[key], prefix, here, file)


def _validate(
    raw: dict[str, Any], sources: _Sources, *, names: tuple[str, ...] = (),
    overrides: tuple[str, dict[str, Any]] | None = None
) -> Playbook:
    try:
        return Playbook.model_validate({**raw, "variants_applied": names})
    except ValidationError as exc:
        loc, message = _first_error(exc)
        file, key = _blame(loc, sources, overrides)
        raise PlaybookError(message, file=file, key=key) from None


def _blame(loc: Loc, sources: _Sources, overrides: tuple[str, dict[str, Any]] | None) -> tuple[str, str | None]:
    """Which file and key an error path comes from: a variant's overrides, the line file or common.
    A key missing everywhere is blamed on the file holding its nearest parent (the line file by default)."""
    if overrides and _has_path(overrides[1], loc):
        return sources.file, _key_path((f"{overrides[0]}.overrides", *loc))
    in_line, in_common = _depth(sources.line_raw, loc), _depth(sources.common_raw, loc)
    return (sources.common_file if in_common > in_line else sources.file), _key_path(loc)


def _depth(raw: Any, loc: Loc) -> int:
    """How many leading parts of loc exist in raw."""
    for depth in range(len(loc), 0, -1):
        if _has_path(raw, loc[:depth]):
            return depth
    return 0


def _has_path(raw: Any, loc: Loc) -> bool:
    for part in loc:
        if isinstance(raw, dict) and part in raw:
            raw = raw[part]
        elif isinstance(raw, list) and isinstance(part, int) and part < len(raw):
            raw = raw[part]
        else:
            return False
    return True


def _first_error(exc: ValidationError) -> tuple[Loc, str]:
    error = exc.errors(include_url=False)[0]
    loc = tuple(p for p in error["loc"] if p != "[key]" and not (isinstance(p, str) and p.startswith("function-")))
    message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required key is missing"
    return loc, message


def _key_path(loc: Loc) -> str | None:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


def _merge(base: Any, overrides: Any) -> Any:
    """Deep merge: mappings merge key by key; lists and scalars are replaced."""
    if not isinstance(base, dict) or not isinstance(overrides, dict):
        return overrides
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merge(base[key], value) if key in base else value
    return merged
