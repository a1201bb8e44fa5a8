"""The mapping configuration of each CRM (config/crm/<crm>.yaml), loaded and validated once per process."""

from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from handoff.domain.crm_mapping import CrmMapping, MappingError

FOLDER = Path(__file__).resolve().parent.parent.parent / "config" / "crm"


@cache
def load_mapping(crm: str, folder: Path = FOLDER) -> CrmMapping:
    path = folder / f"{crm}.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise MappingError(f"no mapping for CRM {crm!r} ({path.name}: {exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{path.name} is not valid YAML: {exc}") from None
    try:
        return CrmMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise MappingError(f"{path.name}: {problems}") from None
