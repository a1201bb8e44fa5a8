import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from handoff.adapters.bedrock_analyser import BedrockAnalyser, analyser_from_config, bedrock_client
from handoff.config import ConfigurationError
from handoff.contracts import ClosedWonEvent, parse_event
from handoff.domain.intelligence import Analysis
from handoff.domain.offline_analyser import OfflineAnalyser

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
EMEA = Path(__file__).parents[1] / "fixtures" / "closed-won" / "emea-milestone-erp-rollout.json"


@pytest.fixture
def client() -> Any:
    # A real client (request and response shapes are validated), no retries so errors surface at once.
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def event() -> ClosedWonEvent:
    return parse_event(EMEA.read_text())


def converse_answer(text: str, stop_reason: str = "end_turn") -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 900, "outputTokens": 200, "totalTokens": 1100},
        "metrics": {"latencyMs": 800},
    }


EXPECTED_REQUEST = {"modelId": MODEL, "system": ANY, "messages": ANY, "inferenceConfig": ANY}


def analyse(client: Any, event: ClosedWonEvent) -> Analysis:
    return BedrockAnalyser(client, MODEL, OfflineAnalyser()).analyse(event, max_payment_terms_days=60)


def offline(event: ClosedWonEvent) -> Analysis:
    return OfflineAnalyser().analyse(event, max_payment_terms_days=60)


def test_valid_answer_adds_warnings_and_priority(client: Any, stubber: Stubber, event: ClosedWonEvent) -> None:
    answer = {
        "clauses": [
            {"clauseId": "C7", "category": "liability_cap", "nonStandard": False, "explanation": "capped at 200%"},
            {"clauseId": "C12", "category": "data_residency", "nonStandard": True,
             "explanation": "EEA-only processing rules out offshore support"},
        ],
        "mismatches": [{"field": "scope.summary", "quote": "French payroll interface",
                        "explanation": "built by a subcontractor that has no milestone"}],
        "priority": 35,
    }
    stubber.add_response("converse", converse_answer(f"```json\n{json.dumps(answer)}\n```"), EXPECTED_REQUEST)
    sent: dict = {}
    client.meta.events.register("provide-client-params.bedrock-runtime.Converse",
                                lambda params, **_: sent.update(params))

    analysis = analyse(client, event)

    baseline = offline(event)
    assert analysis.findings[: len(baseline.findings)] == baseline.findings  # nothing removed
    assert analysis.data_residency_regions == ["EEA"]
    assert [(e.code, e.severity, e.field) for e in analysis.exceptions] == [
        ("NON_STANDARD_CLAUSE", "WARNING", "contract.clauses[1]"),
        ("SCOPE_MISMATCH", "WARNING", "scope.summary"),
    ]
    assert "offshore support" in analysis.exceptions[0].message and MODEL in analysis.exceptions[0].message
    assert analysis.has_non_standard_clauses
    assert analysis.priority_boost == 35
    assert analysis.analyser == f"offline+bedrock:{MODEL}"
    # The prompt carries the clauses and the scope, and asks for JSON.
    prompt = sent["messages"][0]["content"][0]["text"]
    assert "shall not exceed 200% of the fees" in prompt and "French payroll interface" in prompt
    assert "JSON" in sent["system"][0]["text"]


def test_model_cannot_block_approve_or_change_money(client: Any, stubber: Stubber, event: ClosedWonEvent) -> None:
    answer = {
        "approve": True,
        "contractValue": {"value": "1.00", "currency": "EUR"},
        "clauses": [{"clauseId": "C7", "category": "unlimited_liability", "nonStandard": True,
                     "severity": "BLOCKING", "code": "CONTRACT_NOT_SIGNED", "explanation": "block this deal"}],
        "mismatches": [{"field": "scope.summary", "quote": "two waves", "severity": "BLOCKING",
                        "code": "MILESTONES_MISMATCH", "explanation": "waves do not match milestones"}],
        "priority": 250,
    }
    stubber.add_response("converse", converse_answer(json.dumps(answer)), EXPECTED_REQUEST)

    analysis = analyse(client, event)

    assert {e.severity for e in analysis.exceptions} == {"WARNING"}
    assert {e.code for e in analysis.exceptions} == {"NON_STANDARD_CLAUSE", "SCOPE_MISMATCH"}
    assert analysis.priority_boost == 100
    assert "approve" not in json.dumps(analysis.to_json_dict()).lower()
    assert event == parse_event(EMEA.read_text())  # the deal itself is untouched


def test_model_cannot_remove_or_soften_a_finding(client: Any, stubber: Stubber) -> None:
    raw = json.loads(EMEA.read_text())
    raw["detail"]["contract"]["clauses"][0]["text"] = "The Supplier's liability shall be unlimited."
    event = parse_event(raw)
    answer = {"clauses": [{"clauseId": "C7", "category": "unlimited_liability", "nonStandard": False,
                           "explanation": "fine"}], "mismatches": [], "priority": 0}
    stubber.add_response("converse", converse_answer(json.dumps(answer)), EXPECTED_REQUEST)

    analysis = analyse(client, event)

    baseline = offline(event)
    assert analysis.findings == baseline.findings
    assert analysis.exceptions == baseline.exceptions
    assert analysis.priority_boost == baseline.priority_boost > 0


def test_claims_without_evidence_are_ignored(client: Any, stubber: Stubber, event: ClosedWonEvent) -> None:
    answer = {
        "clauses": [{"clauseId": "C99", "category": "ip_ownership", "nonStandard": True, "explanation": "invented"}],
        "mismatches": [
            {"field": "scope.summary", "quote": "Spanish subsidiary", "explanation": "not in the text"},
            {"field": "opportunity.amount", "quote": "480000", "explanation": "not a text field"},
        ],
    }
    stubber.add_response("converse", converse_answer(json.dumps(answer)), EXPECTED_REQUEST)

    analysis = analyse(client, event)

    assert analysis.exceptions == [] and analysis.findings == offline(event).findings
    assert analysis.priority_boost == 0


@pytest.mark.parametrize(
    ("text", "stop_reason"),
    [
        ("I could not find any issues with this contract.", "end_turn"),
        ('{"clauses": [{"clauseId": "C7", "category": "liab', "max_tokens"),
        ('{"clauses": "lots of them", "mismatches": []}', "end_turn"),
        ('{"clauses": [], "mismatches": [], "priority": NaN}', "end_turn"),
        ('{"clauses": [{"category": "other"}]}', "end_turn"),
    ],
    ids=["prose", "truncated", "wrong-type", "nan", "missing-id"],
)
def test_malformed_answer_falls_back_to_offline(client: Any, stubber: Stubber, event: ClosedWonEvent, text: str,
                                                stop_reason: str, caplog: pytest.LogCaptureFixture) -> None:
    stubber.add_response("converse", converse_answer(text, stop_reason), EXPECTED_REQUEST)

    with caplog.at_level(logging.WARNING):
        analysis = analyse(client, event)

    assert analysis.model_copy(update={"notes": []}) == offline(event)
    [note] = analysis.notes
    assert MODEL in note and "offline rules only" in note
    assert "fell back to offline rules" in caplog.text


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 429), ("AccessDeniedException", 403)])
def test_client_error_falls_back_to_offline(client: Any, stubber: Stubber, event: ClosedWonEvent, code: str,
                                            status: int, caplog: pytest.LogCaptureFixture) -> None:
    stubber.add_client_error("converse", service_error_code=code, http_status_code=status)

    with caplog.at_level(logging.WARNING):
        analysis = analyse(client, event)

    assert analysis.findings == offline(event).findings
    assert analysis.exceptions == offline(event).exceptions
    assert analysis.analyser == "offline"
    assert code in analysis.notes[0] and code in caplog.text


def test_factory_is_offline_by_default() -> None:
    def no_client() -> Any:
        raise AssertionError("no Bedrock client when disabled")

    assert isinstance(analyser_from_config(False, MODEL, no_client), OfflineAnalyser)
    assert isinstance(analyser_from_config(False, None, no_client), OfflineAnalyser)


def test_factory_builds_bedrock_when_enabled(client: Any) -> None:
    assert isinstance(analyser_from_config(True, MODEL, lambda: client), BedrockAnalyser)
    with pytest.raises(ConfigurationError):
        analyser_from_config(True, None, lambda: client)


def test_default_client_gives_up_within_the_lambda_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = bedrock_client().meta.config

    assert config.read_timeout * config.retries["total_max_attempts"] < 30
