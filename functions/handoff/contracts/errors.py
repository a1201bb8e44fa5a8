from pydantic import ValidationError


class ContractError(ValueError):
    """Input that does not meet the canonical contract; `problems` name each field."""

    def __init__(self, problems: list[dict[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(event)"


def describe_validation_error(error: ValidationError) -> ContractError:
    problems = []
    for item in error.errors(include_url=False):
        # Drop pydantic's internal function-validator segments from the path.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = item["msg"].removeprefix("Value error, ")
        problems.append({"field": field_path(loc), "message": message})
    return ContractError(problems)
