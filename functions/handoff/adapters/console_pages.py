"""The console's page frame, which every page of it shares: server-rendered HTML, every value
escaped (html.escape), nothing loaded from elsewhere (the style sheet is inline, charts are inline
SVG), one column on a phone, landmarks, labels and table headers for assistive technology. The
pages themselves: console_handoff_pages, console_queue_page, console_approvals_page,
console_metrics_page and console_recovery_page."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from urllib.parse import urlencode

from handoff.adapters.console_auth import Operator
from handoff.domain.work_items import GROUP_LABELS

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1b1b;background:#f6f7f9}
a{color:#0645ad}
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #ffbf47;outline-offset:2px}
.skip{position:absolute;left:-999px}
.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:2}
header{background:#14213d;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center}
header a{color:#fff}
header nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px}
header nav a{display:inline-block;padding:10px 4px}
header nav a[aria-current=page]{font-weight:700;text-decoration:underline}
.who{margin-left:auto;font-size:14px}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
section{background:#fff;border:1px solid #d0d4dc;border-radius:6px;padding:12px 16px;margin:0 0 16px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:8px;border-bottom:1px solid #d0d4dc;vertical-align:top}
th{background:#eef0f4}
.scroll{overflow-x:auto}
td.num,th.num{text-align:right}
td.num,td.nowrap{white-space:nowrap}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:.85rem;font-weight:600;background:#e1e5ec;color:#1b1b1b}
.ACTIVATED,.resolved{background:#d7f0db;color:#0d4a17}
.BLOCKED,.FAILED,.REJECTED,.overdue{background:#fbdcd9;color:#7a1510}
.AWAITING_APPROVAL,.claimed{background:#fff1c2;color:#5c4300}
.open{background:#dbe7ff;color:#0a2f73}
form.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end}
label{display:block;font-weight:600;font-size:.95rem}
input,select,textarea{font:inherit;padding:8px;border:1px solid #6b7280;border-radius:4px;max-width:100%}
textarea{width:100%;min-height:6rem}
button{font:inherit;font-weight:600;min-height:44px;padding:8px 16px}
button{border-radius:6px;border:1px solid #0b3fa8;background:#0b5fff;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b3fa8}
button.danger{background:#a4161a;border-color:#7a1510}
.actions{display:flex;flex-wrap:wrap;gap:12px}
.actions form{margin:0}
.error{background:#fbdcd9;color:#7a1510;padding:8px 12px;border-radius:4px}
.note{color:#4a4f57;font-size:.95rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dt{font-weight:600}
dd{margin:0}
ol.history{padding-left:1.2rem}
svg{max-width:100%;height:auto}
dl.kpis{grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:8px}
.kpis div{border:1px solid #d0d4dc;border-radius:6px;padding:8px}.kpis dd{font-size:1.3rem;font-weight:700}
figure{margin:0}
@media (max-width:640px){dl{grid-template-columns:1fr}
.who{margin-left:0}
}
"""


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def when(at: datetime | None) -> str:
    return at.strftime("%d %b %Y %H:%M UTC") if at else ""


def money(value: Decimal | None, currency: str | None) -> str:
    return f"{value:,.2f} {currency}" if value is not None else ""


def seconds(duration: float) -> str:
    if duration < 1:
        return f"{duration * 1000:.0f} ms"
    if duration < 120:
        return f"{duration:.1f} s"
    if duration < 7200:
        return f"{duration / 60:.0f} min"
    return f"{duration / 3600:.1f} h"


def badge(text: str, kind: str | None = None) -> str:
    return f'<span class="badge {e(kind or text)}">{e(text.replace("_", " ").lower())}</span>'


@dataclass(frozen=True)
class Page:
    base: str  # the console's root path ("" locally, "/console" behind API Gateway's stage)
    operator: Operator
    csrf: str

    def url(self, path: str, **query: object) -> str:
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{self.base}{path}" + (f"?{urlencode(params)}" if params else "")

    def post_form(self, path: str, body: str, *, label: str = "") -> str:
        """A POST form to `path` carrying this page's CSRF token; `body`: its fields and buttons."""
        aria = f' aria-label="{e(label)}"' if label else ""
        return (f'<form method="post" action="{e(self.url(path))}"{aria}>'
                f'<input type="hidden" name="csrf" value="{e(self.csrf)}">{body}</form>')

    def form(self, path: str, fields: str, button: str, *, style: str = "", label: str = "") -> str:
        """A POST form with one submit button."""
        klass = f' class="{style}"' if style else ""
        return self.post_form(path, f'{fields}<button type="submit"{klass}>{e(button)}</button>', label=label)


NAV = (("/handoffs", "Handoffs"), ("/queue", "Work queue"), ("/approvals", "My approvals"), ("/metrics", "Metrics"),
       ("/recovery", "Recovery"))


def layout(page: Page, title: str, body: str, active: str = "") -> str:
    links = "".join(
        f'<li><a href="{e(page.url(path))}"{" aria-current=page" if path == active else ""}>{e(label)}</a></li>'
        for path, label in NAV)
    groups = ", ".join(GROUP_LABELS.get(g, g) for g in page.operator.groups) or "no group"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{e(title)} · Handoff console</title><style>{_CSS}</style></head><body>"
        '<a class="skip" href="#main">Skip to content</a>'
        f'<header><strong>Handoff console</strong><nav aria-label="Main"><ul>{links}</ul></nav>'
        f'<p class="who">{e(page.operator.name)} ({e(groups)})'
        + (f' · <a href="{e(page.url("/logout"))}">Sign out</a>' if page.operator.verified_by == "cognito" else "")
        + f'</p></header><main id="main"><h1>{e(title)}</h1>{body}</main></body></html>')


def message_page(page: Page, title: str, text: str) -> str:
    return layout(page, title, f"<section><p>{e(text)}</p></section>")


def bare_page(title: str, text: str) -> str:
    """For who is not signed in (no navigation)."""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main id=\"main\"><h1>{e(title)}</h1>"
            f"<section><p>{e(text)}</p></section></main></body></html>")


def select(name: str, label: str, options: list[str], chosen: str) -> str:
    """A labelled filter drop-down ("Any" first), the chosen option selected."""
    opts = "".join(f'<option value="{e(o)}"{" selected" if o == chosen else ""}>{e(o or "Any")}</option>'
                   for o in ["", *options])
    return f'<div><label for="f-{e(name)}">{e(label)}</label><select id="f-{e(name)}" name="{e(name)}">{opts}</select></div>'
