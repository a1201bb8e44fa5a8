"""The console's handoff pages: the list with its filters and one handoff in full."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router

from handoff.adapters import console_handoff_pages as handoff_pages
from handoff.adapters import console_pages as pages
from handoff.adapters import from_settings
from handoff.adapters.handoff_store import is_handoff_id
from handoff.domain.errors import HandoffNotFound
from handoff.handlers import _console_request as req
from handoff.handlers._work_queue import items
from handoff.logic import console_handoffs
from handoff.logic.search_handoffs import SearchRefused

router = Router()


@router.get("/")
def root() -> Response:
    req.operator()
    return req.redirect(f"{req.base()}/handoffs")


@router.get("/handoffs")
def handoffs() -> Response:
    page = req.page()
    event = router.current_event
    filters = {k: (event.get_query_string_value(k) or "").strip()[:100] for k in ("status", "serviceLine", "region", "q")}
    try:
        listing = console_handoffs.search(from_settings.handoff_index(), filters, req.now(),
                                          cursor=event.get_query_string_value("cursor"))
    except SearchRefused as refused:
        return req.html(400, pages.message_page(page, "Handoffs", f"These filters cannot be used: {refused}"))
    return req.html(200, handoff_pages.handoffs_page(page, listing.rows, {k: v for k, v in filters.items() if v},
                                                     listing.options, req.now(), listing.next_cursor))


@router.get("/handoffs/<handoff_id>")
def handoff(handoff_id: str) -> Response:
    page = req.page()
    if not is_handoff_id(handoff_id):
        raise HandoffNotFound(handoff_id)
    records = from_settings.store()
    record = records.record(handoff_id)
    approvals = from_settings.approvals().list_for_handoff(handoff_id)
    return req.html(200, handoff_pages.handoff_page(page, record, records.deal(handoff_id), approvals,
                                                    items().for_handoff(handoff_id), req.now()))
