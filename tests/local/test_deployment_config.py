"""Deploy-time configuration on the embedded runtime: the functions read the approver directory and
the delivery leads' address from the SSM parameters the template creates, so changing a parameter
changes who is asked, with no code release."""

from pathlib import Path

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
