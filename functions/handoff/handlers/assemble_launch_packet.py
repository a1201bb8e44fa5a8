"""Assemble launch packet and notify delivery: JSON and Markdown in S3, an email with the link."""

from handoff.adapters.configuration import delivery_leads_email
from handoff.adapters.mailer import as_html, render_notice
from handoff.domain.launch_packet import build_packet, render_markdown
from handoff.handlers._runtime import HandoffRef, documents, logger, notify_once, now, step_handler, store

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
    link = docs.presigned_url(f"{prefix}/packet.md")
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
