"""Deployment on the embedded runtime: the functions read the approver directory and the delivery
leads' address from the SSM parameters the template creates (changing a parameter changes who is
asked, with no code release); a bounced approval email comes back through SES's configuration set
and SNS onto the handoff; the launch-packet link is presigned when it is clicked."""

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from handoff.domain.packet_link import packet_link
from local.runtime import EmbeddedRuntime
from tests.support.events import closed_won

ROOT = Path(__file__).resolve().parents[2]
APPROVERS = (ROOT / "functions/handoff/config/approvers.yaml").read_text()


def test_the_runtime_provisions_the_parameters_from_the_template(runtime: EmbeddedRuntime) -> None:
    ssm = runtime.client("ssm")
    value = ssm.get_parameter(Name=runtime.env("APPROVERS_PARAMETER"))["Parameter"]["Value"]
    assert value == APPROVERS
    names = [p["Name"] for p in ssm.get_parameters_by_path(Path=runtime.env("PLAYBOOKS_PARAMETER_PATH"))["Parameters"]]
    assert sorted(n.rsplit("/", 1)[1] for n in names) == sorted(
        p.stem for p in (ROOT / "functions/handoff/playbooks").glob("*.yaml"))


def test_a_changed_approver_directory_and_delivery_leads_address_take_effect_without_a_release(
        runtime: EmbeddedRuntime) -> None:
    runtime.set_parameter(runtime.env("APPROVERS_PARAMETER"),
                          APPROVERS.replace("@example-consulting.com", "@directory-v2.example"))
    runtime.set_parameter(runtime.env("DELIVERY_LEADS_PARAMETER"), "kickoff-desk@directory-v2.example")
    before = len(runtime.emails())
    runtime.publish([closed_won("emea-milestone-erp-rollout", "006CONFIGV2")])
    runtime.decide_all("approve")
    runtime.wait_settled()
    [record] = [r for r in runtime.records() if r.opportunity_id == "006CONFIGV2"]
    assert record.status == "ACTIVATED"
    assert record.approvals and all(a.approver.endswith("@directory-v2.example") for a in record.approvals)
    mails = runtime.emails()[before:]
    approvals = [m for m in mails if m.subject.startswith("Approval needed")]
    assert approvals and all(m.to.endswith("@directory-v2.example>") for m in approvals)
    [packet] = [m for m in mails if m.subject.startswith("Launch packet ready")]
    assert packet.to == "kickoff-desk@directory-v2.example"


def test_a_bounced_approval_email_is_on_the_handoff_and_in_the_exceptions_queue(runtime: EmbeddedRuntime) -> None:
    """The EMEA finance approver's address bounces (SES's mailbox simulator): SES's bounce event goes
    through the configuration set's topic to MailFeedback, and the handoff says so at once."""
    runtime.set_parameter(runtime.env("APPROVERS_PARAMETER"),
                          APPROVERS.replace("finance-emea@example-consulting.com", "bounce@simulator.amazonses.com"))
    try:
        runtime.publish([closed_won("emea-milestone-erp-rollout", "006BOUNCE1")])
        runtime.wait_settled()
    finally:
        runtime.set_parameter(runtime.env("APPROVERS_PARAMETER"), APPROVERS)
    [record] = [r for r in runtime.records() if r.opportunity_id == "006BOUNCE1"]
    assert record.status == "AWAITING_APPROVAL"
    [finance] = [a for a in record.approvals if a.kind == "finance"]
    assert (finance.approver, finance.decision) == ("bounce@simulator.amazonses.com", "PENDING")
    [bounced] = [e for e in record.exceptions if e.code == "APPROVAL_EMAIL_BOUNCED"]
    assert (bounced.severity, bounced.field, bounced.step) == ("BLOCKING", "approvals.finance.approver", "MailFeedback")
    assert "bounce@simulator.amazonses.com (smtp; 550 5.1.1 user unknown) bounced (Permanent, General)" in bounced.message
    [entry] = [t for t in record.timeline if t.step == "ApprovalEmail (finance) bounce"]
    assert entry.status == "BOUNCED"
    queued = [json.loads(m["Body"]) for m in runtime.queue_messages("ExceptionsQueue")]
    mine = [m for m in queued if m["handoffId"] == record.handoff_id]
    # The work queue's intake (issue 11) may already have consumed it; what is still queued is this one.
    assert all([e["code"] for e in m["exceptions"]] == ["APPROVAL_EMAIL_BOUNCED"] for m in mine)
    # Only the bounced approver's email bounced: the others are answered as usual.
    assert [e.code for e in record.exceptions] == ["APPROVAL_EMAIL_BOUNCED"]


def _get_without_redirect(url: str) -> tuple[int, dict[str, str], str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: object, **_kwargs: object) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def test_the_launch_packet_link_presigns_when_clicked_over_http(runtime: EmbeddedRuntime) -> None:
    before = len(runtime.emails())
    runtime.publish([closed_won("us-fixed-fee-advisory", "006PACKET1")])
    runtime.decide_all("approve")
    [record] = [r for r in runtime.records() if r.opportunity_id == "006PACKET1"]
    assert record.status == "ACTIVATED"
    [mail] = [m for m in runtime.emails()[before:]
              if m.subject.startswith("Launch packet ready") and f"/launch-packets/{record.handoff_id}?" in m.text()]
    links = [u for u in mail.links() if "/launch-packets/" in u]
    assert links and all(u.startswith(f"{runtime.api.base_url}/v1/launch-packets/{record.handoff_id}?exp=")
                         for u in links), links
    link = links[0]
    assert "X-Amz" not in link and "Signature=" not in link  # no S3 URL signed with the step's credentials

    status, headers, _ = _get_without_redirect(link)
    assert status == 302 and headers["cache-control"] == "no-store"
    location = headers["location"]
    query = parse_qs(urlsplit(location).query)
    key = f"launch-packets/{record.handoff_id}/packet.md"
    assert urlsplit(location).path.endswith(key)
    assert query.get("X-Amz-Expires") == ["300"] or int(query["Expires"][0]) - time.time() <= 300
    # The presigned URL serves the packet (moto answers S3 URLs inside the mock, as S3 would).
    fetched = requests.get(location, timeout=10)
    bucket = runtime.env("DOCUMENTS_BUCKET")
    stored = runtime.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert fetched.status_code == 200 and fetched.text == stored and "006PACKET1" in stored

    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert _get_without_redirect(tampered)[0] == 403
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=runtime.env("APPROVAL_SECRET_ARN"))
    expired = packet_link(f"{runtime.api.base_url}/v1", record.handoff_id, datetime.now(UTC) - timedelta(minutes=1),
                          secret["SecretString"].encode())
    assert _get_without_redirect(expired)[0] == 410
    unknown = packet_link(f"{runtime.api.base_url}/v1", "ho-0000000000000000", datetime.now(UTC) + timedelta(days=1),
                          secret["SecretString"].encode())
    assert _get_without_redirect(unknown)[0] == 404
