"""GET /launch-packets/{handoffId}?exp=&sig=: a signed link from the launch-packet email. Answers
302 to an S3 URL presigned now for five minutes, so the link works for as long as it is signed for,
whatever the lifetime of the credentials that presign."""

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.adapters import aws, from_settings
from handoff.adapters.documents import Documents
from handoff.adapters.handoff_store import HandoffStore, is_handoff_id
from handoff.domain.approvals import LinkCheck
from handoff.domain.errors import HandoffNotFound
from handoff.domain.packet_link import S3_LINK_SECONDS, check_packet_link, packet_key
from handoff.observability import logger, tracer
from handoff.settings import settings

app = APIGatewayRestResolver()
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def _page(status: int, title: str, text: str) -> Response:
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{title}</title></head>'
            f"<body><main><h1>{title}</h1><p>{text}</p></main></body></html>")
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=_HEADERS)


@app.get("/launch-packets/<handoff_id>")
def open_packet(handoff_id: str) -> Response:
    event = app.current_event
    sig = event.get_query_string_value("sig")
    check = check_packet_link(handoff_id, event.get_query_string_value("exp"), sig, from_settings.link_keys(sig),
                              datetime.now(UTC))
    if check is LinkCheck.TAMPERED or not is_handoff_id(handoff_id):
        return _page(403, "Link not valid", "This link is not valid. Use the link from the launch-packet email.")
    if check is LinkCheck.EXPIRED:
        return _page(410, "Link expired", "This launch-packet link has expired. Ask operations for the packet.")
    try:
        record = HandoffStore(aws.table(settings().handoff_table)).record(handoff_id)
    except HandoffNotFound:
        record = None
    if record is None or not record.launch_packet:
        return _page(404, "No launch packet", "This handoff has no launch packet yet.")
    url = Documents(aws.client("s3"), settings().documents_bucket).presigned_url(packet_key(handoff_id),
                                                                                  expires_in=S3_LINK_SECONDS)
    logger.info("launch packet opened", extra={"handoff_id": handoff_id})
    return Response(status_code=302, headers={**_HEADERS, "Location": url}, body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
