"""The playbooks shipped with the functions: the YAML files of handoff/playbooks/, one per service
line and `_common.yaml`, read and parsed (handoff.domain.playbook_parsing) once per distinct text.
A deployment may serve them from Parameter Store instead (adapters.configuration)."""

from collections.abc import Mapping
from pathlib import Path

from handoff.domain.playbook_parsing import (
    COMMON_STEM,
    PlaybookTexts,
    base_playbook,
    clear_cache,
    resolve_playbook,
    texts_from,
)
from handoff.domain.playbooks import SERVICE_LINE, Playbook, UnknownServiceLine

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "playbooks"
COMMON_FILE = f"{COMMON_STEM}.yaml"

__all__ = ["COMMON_FILE", "DEFAULT_DIRECTORY", "all_playbooks", "clear_cache", "load_playbook", "service_lines"]


def load_playbook(
    service_line: str, *, region: str, country: str, contract_type: str, directory: Path | None = None,
    sources: Mapping[str, str] | None = None, origin: str = "",
) -> Playbook:
    """The playbook of a service line with the variants matching this deal applied. From the
    files of `directory`, or from `sources` ({file stem: YAML text}, e.g. Parameter Store values,
    named `origin` + stem in errors)."""
    if sources is not None:
        return resolve_playbook(texts_from(service_line, sources, origin), region=region, country=country,
                                contract_type=contract_type)
    path = _path_for(service_line, Path(directory) if directory else DEFAULT_DIRECTORY)
    return resolve_playbook(_texts(path), region=region, country=country, contract_type=contract_type)


def all_playbooks(directory: Path | None = None, *, sources: Mapping[str, str] | None = None,
                  origin: str = "") -> dict[str, Playbook]:
    """Every playbook (base form), each file and each variant fully validated."""
    if sources is not None:
        return {stem: base_playbook(texts_from(stem, sources, origin))
                for stem in sorted(sources) if not stem.startswith("_")}
    directory = Path(directory) if directory else DEFAULT_DIRECTORY
    return {
        path.stem: base_playbook(_texts(path))
        for path in sorted(directory.glob("*.yaml"))
        if not path.name.startswith("_")
    }


def service_lines(directory: Path | None = None) -> list[str]:
    directory = Path(directory) if directory else DEFAULT_DIRECTORY
    return sorted(p.stem for p in directory.glob("*.yaml") if not p.name.startswith("_"))


def _path_for(service_line: str, directory: Path) -> Path:
    path = directory / f"{service_line}.yaml"
    # The name comes from the CRM: only a plain file name, never a path.
    if not SERVICE_LINE.fullmatch(service_line) or not path.is_file():
        known = ", ".join(service_lines(directory)) or "none"
        raise UnknownServiceLine(
            f"no playbook for service line {service_line!r} (known: {known})", file=str(path), key="service_line"
        )
    return path


def _texts(path: Path) -> PlaybookTexts:
    common = path.parent / COMMON_FILE
    return PlaybookTexts(path.stem, str(path), path.read_text(encoding="utf-8"), str(common),
                  common.read_text(encoding="utf-8") if common.is_file() else None)
