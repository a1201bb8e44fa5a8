"""`python -m local redrive` through the CLI's own code (argparse, the HTTP client of the operators'
API) against a running embedded stack's API (`--api`, as `python -m local console` prints it): a dry
run lists and changes nothing, the redrive empties the queue, a bad --queue exits 2 naming the flag."""

import json

import pytest

from local import cli
from local.runtime import EmbeddedRuntime


def printed(out: str) -> dict:
    """The command's JSON object (the in-process handlers' one-line log records share stdout here)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := out.find("{", at)) >= 0:
        value, end = decoder.raw_decode(out, at)
        found.append(value)
        at = end
    return next(v for v in found if "queues" in v and "dryRun" in v)


def api_url(runtime: EmbeddedRuntime) -> str:
    return f"{runtime.api.base_url}/{runtime.resources.stage_name}"


def test_redrive_from_the_command_line_dry_run_then_for_real(runtime: EmbeddedRuntime,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    url = runtime.physical("TrackPipelineFailed", "AWS::SQS::Queue")
    message = runtime.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"marker": "cli-1"}))["MessageId"]

    assert cli.main(["redrive", "--api", api_url(runtime), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "TrackPipelineFailed: 1 message(s) would be re-invoked asynchronously" in text and message in text
    assert len(runtime.queue_messages("TrackPipelineFailed")) == 1

    assert cli.main(["redrive", "--api", api_url(runtime), "--queue", "TrackPipelineFailed", "--json"]) == 0
    [report] = printed(capsys.readouterr().out)["queues"]
    assert (report["queue"], report["redriven"], report["messages"][0]["messageId"]) == (
        "TrackPipelineFailed", 1, message)
    runtime.wait_settled()
    assert cli.main(["redrive", "--api", api_url(runtime), "--queue", "TrackPipelineFailed", "--dry-run",
                     "--json"]) == 0
    assert printed(capsys.readouterr().out)["queues"][0]["count"] == 0


def test_an_unknown_queue_exits_2_naming_the_flag(runtime: EmbeddedRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["redrive", "--api", api_url(runtime), "--queue", "Nope"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --queue: no dead-letter queue 'Nope'") and "UndeliveredEvents" in error


def test_a_deployed_stage_is_called_with_sigv4_for_execute_api(monkeypatch: pytest.MonkeyPatch) -> None:
    from local.operators_client import _signed

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    headers = _signed("POST", "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/dead-letters/X/redrive",
                      b'{"dryRun": true}', {"Content-Type": "application/json"}, region="eu-west-1")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"] and "X-Amz-Date" in headers
