"""The report as one self-contained HTML page: inline CSS and SVG charts (handoff/adapters/charts.py),
no script, nothing loaded from elsewhere."""

from html import escape
from pathlib import Path
from typing import Any

from handoff.adapters import charts

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem;color:#1b1b1b;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem;margin:.4rem 0}
.synthetic{background:#fff3cd;border:2px solid #b58100;padding:.6rem 1rem;font-weight:600}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;padding:0;list-style:none}
.kpis li{border:1px solid #ccc;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.kpis b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #e3e3e3;padding:.3rem;
text-align:left}td.n{text-align:right}figure{margin:1rem 0}figcaption{font-size:.9rem;color:#444}
"""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _figure(svg: str, caption: str) -> str:
    title = svg.split("<title>", 1)[1].split("</title>", 1)[0]  # already escaped
    return f"<figure><h3>{title}</h3>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def render(report: dict[str, Any]) -> str:
    cycle = report["cycleTimeSeconds"]
    kpis = [
        ("Handoffs", str(report["handoffs"])),
        ("First-time-right", _pct(report["firstTimeRight"])),
        ("Exception rate", _pct(report["exceptionRate"])),
        ("Rework rate", _pct(report["reworkRate"])),
        ("Closed-won to activated p50", charts.duration_text(cycle["closedWonToActivated"]["p50"])),
        ("Closed-won to activated p90", charts.duration_text(cycle["closedWonToActivated"]["p90"])),
        ("Received to activated p50", charts.duration_text(cycle["receivedToActivated"]["p50"])),
        ("Approvals timed out", str(report["approvalsTimedOut"])),
    ]
    lines = report["byServiceLine"]
    sections = [
        _figure(charts.bar_chart("Cycle time distribution: closed-won to activated",
                                 [(b["band"], b["handoffs"]) for b in report["cycleTimeDistribution"]["closedWonToActivated"]]),
                "Handoffs per duration band, from the opportunity's close to ACTIVATED."),
        _figure(charts.pareto_chart("Exceptions by code (Pareto)", list(report["exceptionsByCode"].items())),
                "Exceptions raised, every fix round counted; the line is the cumulative share."),
        _figure(charts.paired_bars("Exception rate and first-time-right by service line",
                                   [(name, v["exceptionRate"], v["firstTimeRight"]) for name, v in lines.items()],
                                   ("exception rate", "first-time-right")),
                "Exception rate: share of handoffs with a blocking exception. First-time-right: activated "
                "with no blocking exception and no rework."),
        _figure(charts.range_chart("Approval duration by kind",
                                   [(kind, v["p50"], v["p90"], v["count"]) for kind, v in
                                    report["approvalSeconds"].items()]),
                "From the request to the approver's decision (approved or rejected); timed-out approvals are "
                "counted apart."),
    ]
    notice = (f'<p class="synthetic" role="note">{escape(report["notice"])}</p>' if report.get("notice") else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Handoff process report</title><style>{STYLE}</style></head>
<body><main>
<h1>Handoff process report{" (synthetic data)" if report.get("synthetic") else ""}</h1>
{notice}
<ul class="kpis">{"".join(f"<li>{escape(k)}<b>{escape(v)}</b></li>" for k, v in kpis)}</ul>
<h2>Charts</h2>
{"".join(sections)}
<h2>By service line</h2>
{_service_lines(lines)}
<h2>Contract patterns that go with exceptions and margin erosion</h2>
{_patterns(report["contractPatterns"])}
<h2>Integration failures by system of record</h2>
{_table(["System", "Calls", "Failures", "Failure rate"],
        [[s, v["calls"], v["failures"], _pct(v["failureRate"])] for s, v in report["integrationFailures"].items()])}
<p>Percentiles: {escape(report["percentileMethod"])}. Definitions: docs/metrics.md.</p>
</main></body></html>
"""


def _table(head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>No data yet.</p>"
    cells = "".join("<tr>" + "".join(
        f'<td class="n">{escape(str(c))}</td>' if isinstance(c, int | float) else f"<td>{escape(str(c))}</td>"
        for c in row) + "</tr>" for row in rows)
    return (f'<table><thead><tr>{"".join(f"<th scope=col>{escape(h)}</th>" for h in head)}</tr></thead>'
            f"<tbody>{cells}</tbody></table>")


def _service_lines(lines: dict[str, Any]) -> str:
    return _table(["Service line", "Handoffs", "Activated", "Blocked", "First-time-right", "Exception rate",
                   "Rework rate", "Cycle p50", "Cycle p90"],
                  [[name, v["handoffs"], v["activated"], v["blocked"], _pct(v["firstTimeRight"]),
                    _pct(v["exceptionRate"]), _pct(v["reworkRate"]),
                    charts.duration_text(v["cycleTimeSeconds"]["p50"]),
                    charts.duration_text(v["cycleTimeSeconds"]["p90"])] for name, v in lines.items()])


def _patterns(patterns: list[dict[str, Any]]) -> str:
    return _table(["Rank", "Dimension", "Pattern", "Handoffs", "Exception rate", "Margin at risk", "Avg margin",
                   "Lift"],
                  [[p["rank"], p["dimension"], p["pattern"], p["handoffs"], _pct(p["exceptionRate"]),
                    _pct(p["marginRiskRate"]), _pct(p["avgMargin"]),
                    "n/a" if p["exceptionLift"] is None else f'{p["exceptionLift"]:.2f}x'] for p in patterns[:15]])


def write_html(report: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "index.html"
    path.write_text(render(report))
    return path
