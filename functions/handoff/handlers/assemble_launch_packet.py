"""Assemble launch packet and notify delivery: JSON and Markdown in S3, an email with the link."""

from handoff.adapters.configuration import delivery_leads_email
from handoff.adapters.from_settings import documents, link_key, store
from handoff.adapters.mailer import as_html, render_notice
from handoff.clock import now
from handoff.domain.launch_packet import build_packet, render_markdown
from handoff.domain.packet_link import LINK_VALIDITY, packet_link
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.notices import notify_once
from handoff.observability import logger
from handoff.settings import settings

STEP = "AssembleLaunchPacket"


def assemble(request: HandoffRef) -> dict:
    records = store()
    deal = records.deal(request.handoffId)
    packet = build_packet(deal, records.record(request.handoffId))
    docs = documents()
    prefix = f"launch-packets/{request.handoffId}"
    location = docs.put_json(f"{prefix}/packet.json", packet)
    markdown = render_markdown(packet)
    docs.put_text(f"{prefix}/packet.md", markdown, "text/markdown; charset=utf-8")
    # A signed link to the API, presigned to S3 when clicked: a URL presigned here would die with this
    # function's credentials within hours.
    link = packet_link(settings().approval_base_url, request.handoffId, now() + LINK_VALIDITY, link_key())
    name = deal.detail.opportunity.name
    project_code = (packet["created"]["project"] or {}).get("code", "")
    message_text = f"The handoff for {name} is ready to launch.\n\nLaunch packet: {link}\n\n{markdown}"
    message = render_notice(to=delivery_leads_email(), subject=f"Launch packet ready: {project_code} {name}",
                            text=message_text, html=as_html(message_text))
    notify_once(request.handoffId, "launch-packet", message)
    records.save(request.handoffId, launchPacket=location)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", now(), detail=location)
    logger.info("launch packet stored", extra={"handoff_id": request.handoffId, "location": location})
    return {"handoffId": request.handoffId, "launchPacket": location}


handler = step_handler(HandoffRef)(assemble)
