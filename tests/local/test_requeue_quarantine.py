"""A quarantined event brought back to a good end through the operators' recovery API
(POST /quarantine/requeue): still invalid, it stays (a dry run says why); corrected, it is put on
the bus once, moved out of the quarantine, and the deal activates; requeued again, nothing runs twice."""

import json
from pathlib import Path

import pytest

from local import cli
from local.runtime import EmbeddedRuntime
from tests.support.events import amount_corrected, float_amount

OPPORTUNITY = "hs-deal-REQUEUE01"


def test_a_quarantined_event_is_corrected_requeued_once_and_activates(runtime: EmbeddedRuntime) -> None:
    bad = float_amount(OPPORTUNITY, "hs-evt-requeue-1")
    runtime.publish([bad])
    runtime.wait_settled()
    [kept] = [q for q in runtime.quarantined() if q["event"]["detail"]["eventId"] == "hs-evt-requeue-1"]

    status, plan = runtime.requeue_quarantine(dry_run=True)
    assert status == 200 and plan["dryRun"] is True and plan["requeued"] == []
    [still] = [s for s in plan["stillInvalid"] if s["key"] == kept["key"]]
    assert any(p["field"] == "detail.opportunity.amount.value" for p in still["problems"])

    corrected = amount_corrected(kept["event"])
    status, done = runtime.requeue_quarantine(key=kept["key"], event=corrected)
    assert status == 202, done
    assert [r["eventId"] for r in done["requeued"]] == ["hs-evt-requeue-1"] and done["stillInvalid"] == []
    runtime.wait_settled()
    runtime.decide_all("approve")
    assert kept["key"] not in {q["key"] for q in runtime.quarantined()}

    again_status, again = runtime.requeue_quarantine(key=kept["key"], event=corrected)
    assert again_status == 202 and again["requeued"] == []
    runtime.wait_settled()
    records = [r for r in runtime.records() if r.opportunity_id == OPPORTUNITY]
    assert len(records) == 1 and records[0].status == "ACTIVATED", [(r.status, r.exceptions) for r in records]
    assert records[0].event_id == "hs-evt-requeue-1" and records[0].project is not None


def test_a_requeue_body_that_is_not_an_object_is_refused_naming_the_field(runtime: EmbeddedRuntime) -> None:
    status, body = runtime.requeue_quarantine(key="not-a-quarantine-key")
    assert status == 422 and body["problems"][0]["field"] == "key"


def test_requeue_from_the_command_line_dry_run_then_a_corrected_event(
    runtime: EmbeddedRuntime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = f"{runtime.api.base_url}/{runtime.resources.stage_name}"
    bad = float_amount("hs-deal-REQUEUE02", "hs-evt-requeue-cli")
    runtime.publish([bad])
    runtime.wait_settled()
    [kept] = [q for q in runtime.quarantined() if q["event"]["detail"]["eventId"] == "hs-evt-requeue-cli"]

    # A dry run of everything: this event stays, naming the field at fault; exit 1 (something is still invalid).
    assert cli.main(["requeue", "--api", api, "--dry-run"]) == 1
    assert f"{kept['key']}: still invalid, stays: detail.opportunity.amount.value" in capsys.readouterr().out

    corrected = amount_corrected(kept["event"])
    (tmp_path / "fixed.json").write_text(json.dumps(corrected))
    assert cli.main(["requeue", "--api", api, "--key", kept["key"], "--event", str(tmp_path / "fixed.json"),
                     "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index('{\n  "dryRun"'):])
    assert [r["eventId"] for r in report["requeued"]] == ["hs-evt-requeue-cli"] and report["stillInvalid"] == []
    runtime.wait_settled()
    runtime.decide_all("approve")
    [record] = [r for r in runtime.records() if r.opportunity_id == "hs-deal-REQUEUE02"]
    assert record.status == "ACTIVATED" and record.event_id == "hs-evt-requeue-cli"

    # Again: the key left the quarantine, nothing goes twice (exit 1 says so).
    assert cli.main(["requeue", "--api", api, "--key", kept["key"], "--event", str(tmp_path / "fixed.json")]) == 1
    assert "Nothing quarantined under" in capsys.readouterr().out
    assert len([r for r in runtime.records() if r.opportunity_id == "hs-deal-REQUEUE02"]) == 1
    # A key outside the quarantine: the API's refusal, said once, naming the field.
    assert cli.main(["requeue", "--api", api, "--key", "events/x.json", "--dry-run"]) == 1
    assert capsys.readouterr().err == "error: POST /quarantine/requeue answered 422: key must be a quarantine/ key\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--event", "fixed.json"], "--event: a corrected event replaces one quarantined event: give its --key"),
    (["--key", "quarantine/x.json", "--event", "missing.json"], "--event: cannot read"),
    (["--key", "quarantine/x.json", "--event", "list.json"], "must hold one event, a JSON object"),
    (["--key", "quarantine/x.json", "--event", "broken.json"], "is not JSON (line 1"),
])
def test_a_bad_event_file_exits_2_naming_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], args: list[str],
                                                  message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fixed.json").write_text("{}")
    (tmp_path / "list.json").write_text("[]")
    (tmp_path / "broken.json").write_text("{nope")
    assert cli.main(["requeue", "--api", "http://127.0.0.1:9", *args]) == 2
    assert message in capsys.readouterr().err
