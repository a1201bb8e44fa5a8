"""HubSpot's webhook (API Gateway, no IAM: HubSpot calls it): verify X-HubSpot-Signature-v3 and
the timestamp, check portal and app against the allow-list, queue the batch and answer at once
(HubSpot waits 5 s); HubSpotIntake processes it from the queue. Nothing is queued unless the
request is HubSpot's."""

import json
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.adapters import aws
from handoff.adapters.built_once import BuiltOnce
from handoff.adapters.credentials import SecretCache
from handoff.adapters.crm.factory import HUBSPOT_APP_SECRET
from handoff.adapters.crm.hubspot_signature import SignatureRejected, verify
from handoff.adapters.crm.settings import crm_settings
from handoff.config import setting
from handoff.invocation import invocation
from handoff.observability import logger, metrics
from handoff.settings import settings

_secrets = BuiltOnce(lambda: SecretCache(aws.client("secretsmanager")))


def _app_secret() -> str:
    value = _secrets().get(setting(HUBSPOT_APP_SECRET)).get("app_secret")
    if not isinstance(value, str) or not value:
        raise RuntimeError("the HubSpot app secret has no 'app_secret'")
    return value


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": json.dumps(body)}


def _uri(event: dict[str, Any], headers: dict[str, str], configured: str | None) -> str:
    """The URL HubSpot called, as it signed it: the configured webhook URL, else rebuilt from the
    request (API Gateway's domain and stage path; the query string if any)."""
    query = "&".join(f"{k}={v}" for k, v in (event.get("queryStringParameters") or {}).items())
    if configured:
        return configured + (f"?{query}" if query else "")
    context = event.get("requestContext") or {}
    proto = headers.get("x-forwarded-proto", "https")
    host = context.get("domainName") or headers.get("host", "")
    path = context.get("path") or event.get("path") or ""
    return f"{proto}://{host}{path}" + (f"?{query}" if query else "")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with invocation(context):
        hubspot = crm_settings().hubspot
        if hubspot is None:
            return _answer(404, {"message": "HubSpot intake is not configured"})
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        body = (event.get("body") or "").encode()
        try:
            verify(_app_secret(), method=event.get("httpMethod", "POST"), uri=_uri(event, headers, hubspot.webhook_url),
                   body=body, timestamp=headers.get("x-hubspot-request-timestamp"),
                   signature=headers.get("x-hubspot-signature-v3"), now_ms=int(time.time() * 1000),
                   max_age_ms=hubspot.max_age_seconds * 1000)
        except SignatureRejected as rejected:
            logger.warning("webhook refused", extra={"reason": str(rejected)})
            metrics.add_metric(name="CrmEventsRefused", unit=MetricUnit.Count, value=1)
            return _answer(401, {"message": f"signature refused: {rejected}"})
        try:
            events = json.loads(body)
        except ValueError:
            events = None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            return _answer(400, {"message": "the body must be a JSON array of webhook events"})
        strangers = sorted({f"portal {e.get('portalId')} app {e.get('appId')}" for e in events
                            if (hubspot.portal_ids and e.get("portalId") not in hubspot.portal_ids)
                            or (hubspot.app_id is not None and e.get("appId") != hubspot.app_id)})
        if strangers:
            logger.warning("webhook from portals or apps not allowed", extra={"from": strangers})
            return _answer(403, {"message": f"not allowed: {', '.join(strangers)}"})
        if events:
            aws.client("sqs").send_message(QueueUrl=settings().hubspot_queue_url,
                                           MessageBody=json.dumps({"events": events}))
        metrics.add_metric(name="CrmWebhookEvents", unit=MetricUnit.Count, value=len(events))
        return _answer(200, {"accepted": len(events)})
