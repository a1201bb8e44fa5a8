"""python -m local ingest salesforce|hubspot FILE... --crm-records RECORDS: what a CRM sends, through
the real intake, on a fresh embedded stack, with a fake CRM on 127.0.0.1 answering the intake's
REST calls from RECORDS (as the CRM's API returns them) and recording the write-backs.

Salesforce: each FILE holds an EventBridge event from Event Relay (or a JSON array of them); it is
put on the partner event bus, whose rule (source pinned, detail-types allowed) invokes the intake.
HubSpot: each FILE holds a webhook body (a JSON array of events; or an array of such bodies); it
is POSTed to the webhook route over HTTP, signed with the local app secret as HubSpot signs it."""

import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from local.fake_crm import FakeCrm

LOCAL_PORTAL_ID = 62515  # HubSpot's documentation portal; fixtures use it
LOCAL_APP_ID = 54321
SALESFORCE_CLIENT_ID = "3MVG9local.consumer.key"
SALESFORCE_USERNAME = "handoff-integration@example.com"
WEBHOOK_PATH = "/crm/hubspot/webhook"


class InputError(Exception):
    pass


def _load(path: Path, what: str) -> Any:
    from decimal import Decimal

    try:
        return json.loads(path.read_text(), parse_float=Decimal)
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def read_salesforce(path: Path) -> list[dict]:
    """Event Relay events: {source, detail-type, detail: {payload: {...}}}, one or an array."""
    data = _load(path, "events")
    events = data if isinstance(data, list) else [data]
    for index, event in enumerate(events):
        where = f"{path}[{index}]" if isinstance(data, list) else str(path)
        if not isinstance(event, dict):
            raise InputError(f"{where}: (event): an Event Relay event must be a JSON object")
        for name in ("source", "detail-type"):
            if not isinstance(event.get(name), str) or not event[name]:
                raise InputError(f"{where}: {name}: missing or not a string")
        if not isinstance(event.get("detail"), dict):
            raise InputError(f"{where}: detail: missing or not an object")
        if not isinstance(event["detail"].get("payload"), dict):
            raise InputError(f"{where}: detail.payload: missing or not an object")
    return events


def read_hubspot(path: Path) -> list[list[dict]]:
    """Webhook bodies: one JSON array of events, or an array of such arrays."""
    data = _load(path, "webhook body")
    if not isinstance(data, list):
        raise InputError(f"{path}: (body): a HubSpot webhook body is a JSON array of events")
    bodies = data if data and all(isinstance(b, list) for b in data) else [data]
    for b, body in enumerate(bodies):
        for index, event in enumerate(body):
            where = f"{path}[{b}][{index}]" if len(bodies) > 1 else f"{path}[{index}]"
            if not isinstance(event, dict):
                raise InputError(f"{where}: (event): a webhook event must be a JSON object")
            for name in ("eventId", "subscriptionId", "portalId", "occurredAt", "objectId"):
                if not isinstance(event.get(name), int) or isinstance(event.get(name), bool):
                    raise InputError(f"{where}: {name}: missing or not an integer")
            if not isinstance(event.get("subscriptionType"), str):
                raise InputError(f"{where}: subscriptionType: missing or not a string")
    return bodies


def read_records(path: Path) -> dict[str, Any]:
    data = _load(path, "CRM records")
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise InputError(f"{path}: --crm-records: must be an object whose values are lists of records")
    return data


def _rsa_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class LocalCrms:
    """A fake Salesforce and a fake HubSpot, the settings and secrets that point the stack at them."""

    def __init__(self, salesforce_records: dict | None = None, hubspot_records: dict | None = None):
        self.private_key, public_key = _rsa_pair()
        self.app_secret = secrets.token_urlsafe(32)
        self.salesforce = FakeCrm(salesforce_records or {}, kind="salesforce", public_key=public_key,
                                  client_id=SALESFORCE_CLIENT_ID, username=SALESFORCE_USERNAME)
        self.hubspot = FakeCrm(hubspot_records or {}, kind="hubspot", token=f"pat-eu1-{secrets.token_hex(16)}")

    def __enter__(self) -> "LocalCrms":
        self.salesforce.__enter__()
        self.hubspot.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.salesforce.__exit__(*exc)
        self.hubspot.__exit__(*exc)

    def environment(self) -> dict[str, str]:
        config = {
            "salesforce": {"loginUrl": self.salesforce.base_url, "clientId": SALESFORCE_CLIENT_ID,
                           "username": SALESFORCE_USERNAME, "integrationUserId": self.salesforce.integration_user_id,
                           "requestsPerSecond": 1000},
            "hubspot": {"baseUrl": self.hubspot.base_url, "appId": LOCAL_APP_ID, "portalIds": [LOCAL_PORTAL_ID],
                        "requestsPerSecond": 1000},
        }
        return {"CRM_CONFIG": json.dumps(config, sort_keys=True)}

    def install_secrets(self, runtime: Any) -> None:
        """What the admins put into the stack's secrets after deploying."""
        client = runtime.client("secretsmanager")
        for env, value in (("SALESFORCE_KEY_SECRET_ARN", {"private_key": self.private_key}),
                           ("HUBSPOT_APP_SECRET_ARN", {"app_secret": self.app_secret}),
                           ("HUBSPOT_TOKEN_SECRET_ARN", {"access_token": self.hubspot.token})):
            client.put_secret_value(SecretId=runtime.env(env), SecretString=json.dumps(value))


def relay(runtime: Any, events: list[dict]) -> list[dict]:
    """Salesforce Event Relay puts the events on the partner event bus."""
    from local.fake_crm import exact_json

    buses = runtime.env("SALESFORCE_EVENT_SOURCES").split(",")
    # Each relay puts on the partner bus of its source; an event from another org lands on the first,
    # whose rule (source pinned) lets it through to nobody.
    entries = [{"Source": e["source"], "DetailType": e["detail-type"], "Detail": exact_json(e["detail"]).decode(),
                "EventBusName": e["source"] if e["source"] in buses else buses[0]} for e in events]
    results = []
    for i in range(0, len(entries), 10):
        results += runtime.client("events").put_events(Entries=entries[i:i + 10])["Entries"]
    return results


def post_webhook(runtime: Any, body: bytes, *, app_secret: str | None, timestamp_ms: int | None = None,
                 signature: str | None = None) -> tuple[int, dict]:
    """POST a webhook body as HubSpot does: v3 signature over method, URL, body and timestamp."""
    from handoff.adapters.crm.hubspot_signature import sign

    url = f"{runtime.api.base_url}/{runtime.resources.stage_name}{WEBHOOK_PATH}"
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    headers = {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": timestamp,
               "X-Forwarded-Proto": "http",  # no TLS terminator in front of the local API
               "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)"}
    if signature is None and app_secret is not None:
        signature = sign(app_secret, "POST", url, body, timestamp)
    if signature is not None:
        headers["X-HubSpot-Signature-v3"] = signature
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@contextmanager
def crm_runtime(crm: str, records: dict, workdir: Path | None = None) -> Iterator[tuple[Any, LocalCrms]]:
    from local.runtime import EmbeddedRuntime

    with LocalCrms(records if crm == "salesforce" else None, records if crm == "hubspot" else None) as crms, \
            EmbeddedRuntime(workdir, environment=crms.environment()) as runtime:
        crms.install_secrets(runtime)
        yield runtime, crms


def _opportunity_ids(crm: str, notifications: list[Any]) -> list[str]:
    if crm == "salesforce":
        ids: list[str] = []
        for event in notifications:
            payload = event["detail"]["payload"]
            header = payload.get("ChangeEventHeader") or {}
            ids += [str(i) for i in header.get("recordIds") or []] or [str(payload.get("Opportunity_Id__c"))]
        return ids
    return [str(e["objectId"]) for body in notifications for e in body]


def run(crm: str, notifications: list[Any], records: dict, decide: str, as_json: bool, out: TextIO,
        workdir: Path | None = None) -> int:
    from local.cli import print_pipeline, print_summary

    started = time.monotonic()
    with crm_runtime(crm, records, workdir) as (runtime, crms):
        if crm == "salesforce":
            relay(runtime, notifications)
        else:
            for body in notifications:
                status, answer = post_webhook(runtime, exact_json_bytes(body), app_secret=crms.app_secret)
                if status != 200:
                    print(f"warning: the webhook answered {status}: {answer.get('message')}", file=sys.stderr)
        runtime.wait_settled()
        if decide != "none":
            runtime.decide_all(decide)
        records_out = runtime.records()
        if as_json:
            json.dump([r.to_json_dict() for r in records_out], out, indent=2)
            out.write("\n")
            return 0
        print_summary(records_out, out, runtime)
        pipeline = [{"detail-type": "Opportunity Stage Changed", "detail": {"opportunity": {"id": i}}}
                    for i in _opportunity_ids(crm, notifications)]
        print_pipeline(pipeline, records_out, out, runtime)
        fake = crms.salesforce if crm == "salesforce" else crms.hubspot
        for write in fake.writes:
            fields = ", ".join(f"{k}={v}" for k, v in write["fields"].items())
            out.write(f"\n   written back to {crm}: {write['object']} {write['id']}: {fields}")
        out.write(f"\n{len(notifications)} notification(s), {len(records_out)} handoff(s) in "
                  f"{time.monotonic() - started:.1f} s; emails in {runtime.outbox.folder}\n")
    return 0


def exact_json_bytes(value: Any) -> bytes:
    from local.fake_crm import exact_json

    return exact_json(value)


def main(crm: str, files: list[Path], records_path: Path, decide: str, as_json: bool) -> int:
    from local.cli import _quiet_logs, _quiet_stdout

    try:
        reader = read_salesforce if crm == "salesforce" else read_hubspot
        notifications = [n for path in files for n in reader(path)]
        records = read_records(records_path)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _quiet_logs()
    out = _quiet_stdout()
    try:
        return run(crm, notifications, records, decide, as_json, out)
    finally:
        out.flush()
