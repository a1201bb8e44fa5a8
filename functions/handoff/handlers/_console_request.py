"""The console's request plumbing, shared by its pages (handlers/console.py and the _console_*
route modules): who is asking (the Cognito session, or the local operator), the posted form and its
CSRF check, the page frame, and HTML responses with the console's security headers."""

from datetime import UTC, datetime
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router

from handoff.adapters import console_auth as auth
from handoff.adapters import console_pages as pages
from handoff.adapters.signing_keys import secret_key
from handoff.settings import settings

# Any router reads the request being resolved; this one carries no routes.
_router = Router()

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def now() -> datetime:
    return datetime.now(UTC)


def base() -> str:
    """The console's root path: the stage behind API Gateway ("/console"), nothing locally."""
    event = _router.current_event
    full = (event.raw_event.get("requestContext") or {}).get("path") or event.path
    return full[: len(full) - len(event.path)].rstrip("/") if full.endswith(event.path) else ""


def origin() -> str:
    headers = _router.current_event.headers
    host = headers.get("Host") or headers.get("host") or ""
    proto = headers.get("X-Forwarded-Proto") or headers.get("x-forwarded-proto") or "https"
    return f"{proto}://{host}"


def cookies() -> dict[str, str]:
    headers = _router.current_event.headers
    return auth.cookies(headers.get("Cookie") or headers.get("cookie"))


def form() -> dict[str, str]:
    body = _router.current_event.decoded_body or ""
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True, max_num_fields=20).items()}


def csrf_key() -> bytes:
    return secret_key(settings().console_secret_arn)


def cognito() -> auth.CognitoConfig:
    return auth.CognitoConfig(region=settings().aws_region, user_pool_id=settings().cognito_user_pool_id,
                              client_id=settings().cognito_client_id, domain=settings().cognito_domain)


def local() -> bool:
    return settings().console_auth == "local"


def operator() -> auth.Operator:
    if local():
        return auth.LOCAL_OPERATOR
    token = cookies().get(auth.SESSION_COOKIE)
    if not token:
        raise auth.NotSignedIn("no session")
    return auth.verify_id_token(token, cognito())


def html(status: int, body: str, headers: dict[str, str] | None = None, cookies: list[str] | None = None) -> Response:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body,
                    headers={**_HEADERS, **(headers or {})}, cookies=cookies or [])


def redirect(location: str, cookies: list[str] | None = None) -> Response:
    return Response(status_code=303, headers={**_HEADERS, "Location": location}, cookies=cookies or [], body="")


def page() -> pages.Page:
    """The page frame for the signed-in operator (raises NotSignedIn)."""
    who = operator()
    return pages.Page(base=base(), operator=who, csrf=auth.csrf_token(who, csrf_key()))


def post_page() -> tuple[pages.Page, dict[str, str]]:
    """The page frame and the posted form, once its CSRF token proves it came from this operator's page."""
    frame, posted = page(), form()
    if not auth.csrf_ok(frame.operator, csrf_key(), posted.get("csrf")):
        raise Forbidden("The form expired or did not come from the console: reload the page and try again.")
    return frame, posted


class Forbidden(Exception):
    pass
