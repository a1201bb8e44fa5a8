"""A playbook from its YAML texts: the common file and the service line's file merged, every variant
checked, the variants matching a deal applied, and any error blamed on the file and key path it comes
from. Pure: the texts are given (handoff.adapters.playbook_files reads them from files, and
adapters.configuration from Parameter Store); parsed once per distinct text."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from handoff.domain.playbooks import SERVICE_LINE, Playbook, PlaybookError, UnknownServiceLine, Variant

COMMON_STEM = "_common"
_NOT_OVERRIDABLE = {"service_line", "variants"}
Loc = tuple[int | str, ...]  # a pydantic error location or a key path


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


class PlaybookTexts(NamedTuple):
    """What a playbook is read from (the cache key: an edit to either text is a new playbook)."""

    stem: str
    file: str
    text: str
    common_file: str
    common_text: str | None


def resolve_playbook(texts: PlaybookTexts, *, region: str, country: str, contract_type: str) -> Playbook:
    """The playbook these texts hold, with the variants matching this deal applied."""
    return _resolved(texts, region, country, contract_type)


def base_playbook(texts: PlaybookTexts) -> Playbook:
    """The playbook in its base form, each variant fully validated."""
    return _parsed(texts).base


def texts_from(service_line: str, sources: Mapping[str, str], origin: str) -> PlaybookTexts:
    if not SERVICE_LINE.fullmatch(service_line) or service_line not in sources:
        known = ", ".join(sorted(s for s in sources if not s.startswith("_"))) or "none"
        raise UnknownServiceLine(f"no playbook for service line {service_line!r} (known: {known})",
                                 file=f"{origin}{service_line}", key="service_line")
    return PlaybookTexts(service_line, f"{origin}{service_line}", sources[service_line], f"{origin}{COMMON_STEM}",
                  sources.get(COMMON_STEM))


def clear_cache() -> None:
    _parsed.cache_clear()
    _resolved.cache_clear()


@lru_cache(maxsize=256)
def _resolved(texts: PlaybookTexts, region: str, country: str, contract_type: str) -> Playbook:
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
def _parsed(texts: PlaybookTexts) -> _Parsed:
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
