"""The console's metrics page: the process metrics (the report's JSON object, docs/metrics.md) as
inline SVG charts (handoff/adapters/charts.py, the report's own) and tables, in the console's
layout. Server-rendered, nothing loaded from elsewhere; a service-line filter narrows the per-line
figures. Every chart states its values in text too (its <desc> and the tables)."""

from datetime import datetime
from typing import Any

from handoff.adapters import charts
from handoff.adapters.console_pages import Page, e, layout, when

PATH = "/metrics"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _figure(svg: str, caption: str) -> str:
    title = svg.split("<title>", 1)[1].split("</title>", 1)[0]  # already escaped
    return f"<section><figure><h2>{title}</h2>{svg}<figcaption class=\"note\">{e(caption)}</figcaption></figure></section>"


def _table(caption: str, head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return f"<section><h2>{e(caption)}</h2><p>No data yet.</p></section>"
    body = "".join("<tr>" + "".join(
        (f"<th scope=\"row\">{e(c)}</th>" if i == 0 else
         f'<td class="num">{e(c)}</td>' if isinstance(c, int | float) else f"<td>{e(c)}</td>")
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    cols = "".join(f'<th scope="col">{e(h)}</th>' for h in head)
    # Focusable: on a phone the table scrolls sideways, and a keyboard must reach it too.
    return (f'<section><h2>{e(caption)}</h2><div class="scroll" tabindex="0" role="region" aria-label="{e(caption)}">'
            f"<table><thead><tr>{cols}</tr></thead><tbody>{body}</tbody></table></div></section>")


def _kpis(items: list[tuple[str, str]]) -> str:
    return ('<section aria-label="Key figures"><dl class="kpis">'
            + "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in items) + "</dl></section>")


def _filter(page: Page, lines: list[str], chosen: str) -> str:
    options = "".join(f'<option value="{e(v)}"{" selected" if v == chosen else ""}>{e(v or "All service lines")}'
                      "</option>" for v in ["", *lines])
    return (f'<section><form class="filters" method="get" action="{e(page.url(PATH))}" '
            'aria-label="Filter the metrics"><div><label for="f-line">Service line</label>'
            f'<select id="f-line" name="serviceLine">{options}</select></div>'
            '<div><button type="submit">Show</button></div></form></section>')


def metrics_page(page: Page, report: dict[str, Any], source: str, now: datetime, service_line: str = "") -> str:
    lines = report["byServiceLine"]
    shown = {service_line: lines[service_line]} if service_line in lines else lines
    cycle = report["cycleTimeSeconds"]
    line = lines.get(service_line)
    if line:
        kpis = [("Service line", service_line), ("Handoffs", str(line["handoffs"])),
                ("Activated", str(line["activated"])), ("Blocked", str(line["blocked"])),
                ("First-time-right", _pct(line["firstTimeRight"])), ("Exception rate", _pct(line["exceptionRate"])),
                ("Rework rate", _pct(line["reworkRate"])),
                ("Closed-won to activated p50", charts.duration_text(line["cycleTimeSeconds"]["p50"])),
                ("Closed-won to activated p90", charts.duration_text(line["cycleTimeSeconds"]["p90"]))]
    else:
        billing = report["billingAccuracy"]
        kpis = [("Handoffs", str(report["handoffs"])), ("First-time-right", _pct(report["firstTimeRight"])),
                ("Exception rate", _pct(report["exceptionRate"])), ("Rework rate", _pct(report["reworkRate"])),
                ("Closed-won to activated p50", charts.duration_text(cycle["closedWonToActivated"]["p50"])),
                ("Closed-won to activated p90", charts.duration_text(cycle["closedWonToActivated"]["p90"])),
                ("Received to activated p50", charts.duration_text(cycle["receivedToActivated"]["p50"])),
                ("Received to activated p90", charts.duration_text(cycle["receivedToActivated"]["p90"])),
                ("Approvals timed out", str(report["approvalsTimedOut"])),
                ("Billing setup accuracy", _pct(billing["rate"]))]
    notice = (f'<p class="error" role="note"><strong>{e(report["notice"])}</strong></p>'
              if report.get("notice") else "")
    exception_cycles = report["exceptionCycleSeconds"]["byCode"]
    margin = report["marginByServiceLine"]
    body = [
        notice,
        f'<p class="note">{report["handoffs"]} handoff(s); computed by {e(source)}, {e(when(now))}. '
        "Definitions: docs/metrics.md.</p>",
        _filter(page, sorted(lines), service_line if line else ""),
        _kpis(kpis),
        _figure(charts.paired_bars("Exception rate and first-time-right by service line",
                                   [(name, v["exceptionRate"], v["firstTimeRight"]) for name, v in shown.items()],
                                   ("exception rate", "first-time-right")),
                "Exception rate: share of handoffs with a blocking exception. First-time-right: activated with no "
                "blocking exception and no rework."),
        _table("By service line", ["Service line", "Handoffs", "Activated", "Blocked", "First-time-right",
                                   "Exception rate", "Rework rate", "Cycle p50", "Cycle p90"],
               [[name, v["handoffs"], v["activated"], v["blocked"], _pct(v["firstTimeRight"]),
                 _pct(v["exceptionRate"]), _pct(v["reworkRate"]), charts.duration_text(v["cycleTimeSeconds"]["p50"]),
                 charts.duration_text(v["cycleTimeSeconds"]["p90"])] for name, v in shown.items()]),
        _figure(charts.bar_chart("Cycle time distribution: closed-won to activated",
                                 [(b["band"], b["handoffs"]) for b in
                                  report["cycleTimeDistribution"]["closedWonToActivated"]]),
                "Handoffs per duration band, from the opportunity's close to ACTIVATED (all service lines)."),
        _figure(charts.pareto_chart("Exceptions by code (Pareto)", list(report["exceptionsByCode"].items())),
                "Exceptions raised, every fix round counted; the line is the cumulative share."),
        _figure(charts.range_chart("Approval duration by kind",
                                   [(kind, v["p50"], v["p90"], v["count"]) for kind, v in
                                    report["approvalSeconds"].items()]),
                f"From the request to the decision (approved or rejected); {report['approvalsTimedOut']} timed out."),
        _figure(charts.range_chart("Exception cycle time by code (raised to resolved)",
                                   [(code, v["p50"], v["p90"], v["count"]) for code, v in exception_cycles.items()]),
                "Only resolved exceptions are measured."),
        _figure(charts.bar_chart("Integration failure rate by system of record",
                                 [(f"{system} ({v['failures']}/{v['calls']})", v["failureRate"])
                                  for system, v in report["integrationFailures"].items()], unit="%", maximum=1),
                "Failed calls over all calls, retries included."),
        _figure(charts.bar_chart("Margin at risk by service line",
                                 [(name, v["atRiskRate"]) for name, v in margin.items()
                                  if name in shown], unit="%", maximum=1),
                "Share of handoffs with a margin estimate below their playbook's finance floor."),
        _table("Contract patterns that go with exceptions and margin erosion",
               ["Pattern", "Dimension", "Handoffs", "Exception rate", "Margin at risk", "Lift"],
               [[p["pattern"], p["dimension"], p["handoffs"], _pct(p["exceptionRate"]), _pct(p["marginRiskRate"]),
                 "n/a" if p["exceptionLift"] is None else f"{p['exceptionLift']:.2f}x"]
                for p in report["contractPatterns"][:10]]),
    ]
    return layout(page, "Process metrics", "".join(body), PATH)
