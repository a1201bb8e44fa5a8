"""Project shell: project code, work breakdown structure and tax treatment. Pure, no I/O."""

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from string import Formatter

from pydantic import Field

from handoff.contracts import ClosedWonEvent, Milestone, ProjectShell, WbsNode
from handoff.domain.billing import is_reverse_charge, percent
from handoff.domain.policy import PolicyModel, TaxRule

SERVICE_LINE_CODES = {
    "erp-implementation": "ERP",
    "advisory": "ADV",
    "managed-services": "MSV",
    "data-analytics": "DAT",
}
PLACEHOLDERS = frozenset({"service_line", "country", "region", "year", "seq", "opportunity_id", "line", "hash"})


class WbsTemplatePhase(PolicyModel):
    """A playbook's template phase; it matches contract phases by name or keyword, case-insensitive."""

    name: str = Field(min_length=1)
    tasks: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)  # extra match words, e.g. ["go-live"] for "Deploy"


def service_line_code(service_line: str) -> str:
    """Short uppercase code: the known ones, else the first three letters or digits."""
    known = SERVICE_LINE_CODES.get(service_line.strip().lower())
    return known or re.sub(r"[^A-Za-z0-9]", "", service_line).upper()[:3] or "GEN"


def opportunity_hash(opportunity_id: str) -> str:
    return hashlib.sha256(opportunity_id.encode()).hexdigest()[:6].upper()


def _placeholders(template: str) -> Iterator[str]:
    for _, field, spec, _ in Formatter().parse(template):
        if field is not None:
            yield re.split(r"[.\[]", field, maxsplit=1)[0]
            if spec:  # nested fields such as "{seq:0{width}d}"
                yield from _placeholders(spec)


def project_code(
    scheme: str, *, service_line: str, country: str, region: str, year: int, seq: int, opportunity_id: str
) -> str:
    """Format a project code from a playbook scheme (str.format syntax, format specs allowed).

    Placeholders:
      {service_line}   e.g. "erp-implementation"
      {line}           short uppercase code of the service line: ERP, ADV, MSV, DAT, ...
      {country}        customer country, ISO alpha-2
      {region}         AMER / EMEA / APAC
      {year}           int, e.g. 2027 ({year:%y}-style date specs do not apply: it is an int)
      {seq}            int counter from the caller, e.g. {seq:04d} -> 0042
      {opportunity_id} the CRM opportunity id
      {hash}           6 uppercase hex chars of sha256(opportunity_id): unique without a counter

    Example: "{line}-{country}-{year}-{hash}" -> "ERP-DE-2027-1A2B3C".
    Raises ValueError naming any other placeholder (positional ones included).
    """
    for name in _placeholders(scheme):
        if name not in PLACEHOLDERS:
            shown = f"{{{name}}}" if name else "{} (positional)"
            raise ValueError(
                f"unknown placeholder {shown} in project code scheme {scheme!r}; known: {', '.join(sorted(PLACEHOLDERS))}"
            )
    return scheme.format(
        service_line=service_line,
        line=service_line_code(service_line),
        country=country,
        region=region,
        year=year,
        seq=seq,
        opportunity_id=opportunity_id,
        hash=opportunity_hash(opportunity_id),
    )


def describe_tax_treatment(tax: TaxRule, customer_country: str, supplier_country: str | None) -> str:
    """"reverse charge", "exempt/none", "standard VAT 19%", "GST 10%", "sales tax 8.25%"."""
    if is_reverse_charge(tax, customer_country, supplier_country):
        return "reverse charge"
    if not tax.rate:
        return "exempt/none"
    prefix = "standard " if tax.name.upper() == "VAT" else ""
    return f"{prefix}{tax.name} {percent(tax.rate)}%"


def _matches(template: WbsTemplatePhase, phase_name: str) -> bool:
    """Whole-word, case-insensitive: "Deploy" matches "Deploy wave 1 (DE)"; "Discovery" the template
    "Discovery and assessment"."""
    phase = phase_name.casefold()
    words = [template.name, *template.keywords]
    return any(_contains(phase, w.casefold()) for w in words if w.strip()) or _contains(template.name.casefold(), phase)


def _contains(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word.strip())}(?!\w)", text) is not None


def _clamp(day: date, start: date, end: date) -> date:
    return min(max(day, start), end)


def _distance(day: date, start: date, end: date) -> int:
    return 0 if start <= day <= end else min(abs((start - day).days), abs((day - end).days))


def _milestone_node(m: Milestone, start: date, end: date) -> tuple[str, date, date]:
    due = _clamp(m.due_date, start, end)
    name = f"Milestone {m.id}: {m.name}" + ("" if due == m.due_date else f" (due {m.due_date})")
    return name, due, due


def _numbered(parent: str, items: list[tuple[str, date, date, list[str]]]) -> list[WbsNode]:
    nodes = []
    for k, (name, start, end, tasks) in enumerate(items, 1):
        code = f"{parent}.{k}"
        subtasks = [WbsNode(code=f"{code}.{j}", name=t, start=start, end=end) for j, t in enumerate(tasks, 1)]
        nodes.append(WbsNode(code=code, name=name, start=start, end=end, children=subtasks))
    return nodes


def build_project_shell(
    event: ClosedWonEvent, *, code: str, cost_center: str, tax_treatment: str, template: list[WbsTemplatePhase]
) -> ProjectShell:
    """Project shell whose WBS merges the contract's phases and milestones with the playbook template.

    One top-level node per contract phase ("{code}.1", ...), with the phase dates. Children: the tasks
    of template phases that match it, then (first phase only) one node per template phase that matched
    no contract phase, holding its tasks, then the milestones due within the phase (a milestone in a
    gap between phases goes to the nearest phase, its date clamped, the real date in its name).
    Children never extend beyond their parent.
    """
    detail = event.detail
    contract = detail.contract
    phases = [(p.name, p.start, p.end) for p in detail.scope.phases]
    if not phases:  # no phases declared: one phase over the whole contract keeps tasks and milestones placed
        phases = [("Delivery", contract.start_date, contract.end_date)]

    matched = {i: [t for t in template if _matches(t, name)] for i, (name, _, _) in enumerate(phases)}
    used = {id(t) for ts in matched.values() for t in ts}
    unmatched = [t for t in template if id(t) not in used]
    milestones: dict[int, list[Milestone]] = {i: [] for i in range(len(phases))}
    for m in sorted(contract.milestones, key=lambda m: m.due_date):
        best = min(range(len(phases)), key=lambda i: _distance(m.due_date, phases[i][1], phases[i][2]))
        milestones[best].append(m)

    wbs = []
    for i, (name, start, end) in enumerate(phases):
        # (name, start, end, sub-tasks) in WBS order: template tasks, unplaced template phases, milestones.
        items: list[tuple[str, date, date, list[str]]] = [(task, start, end, []) for t in matched[i] for task in t.tasks]
        if i == 0:
            items += [(t.name, start, end, t.tasks) for t in unmatched]
        items += [(*_milestone_node(m, start, end), []) for m in milestones[i]]
        wbs.append(WbsNode(code=f"{code}.{i + 1}", name=name, start=start, end=end,
                           children=_numbered(f"{code}.{i + 1}", items)))

    return ProjectShell(
        code=code,
        name=detail.opportunity.name,
        cost_center=cost_center,
        tax_treatment=tax_treatment,
        # The shell spans the contract and every phase, so the WBS always sits within the project.
        start_date=min([contract.start_date, *(p[1] for p in phases)]),
        end_date=max([contract.end_date, *(p[2] for p in phases)]),
        wbs=wbs,
    )
