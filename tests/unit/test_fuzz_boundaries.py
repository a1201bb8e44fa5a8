"""Every input boundary, fuzzed (Hypothesis): closed-won and stage-changed events, money amounts,
approval links and playbooks (the handoff API's bodies: tests/integration/test_fuzz_api.py).
Whatever comes in, only the boundary's own error (naming the field or key) may come out: never a
crash such as decimal.InvalidOperation."""

import copy
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.adapters.playbook_files import clear_cache, load_playbook
from handoff.contracts import ContractError, parse_event, parse_stage_changed
from handoff.domain.approvals import LinkCheck, check_link
from handoff.domain.playbooks import PlaybookError
from tests.conftest import load_raw
from tests.support.fixtures import fixture_files
from tests.unit.test_playbooks import minimal

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20) | st.sampled_from(["1e999999", "NaN", "-0", "9" * 40, "１２", "1_0", "\x00", "\u202e"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON document, containers included."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _mutated(document: dict, path: tuple, replacement: Any, delete: bool) -> dict:
    result = copy.deepcopy(document)
    target = result
    for part in path[:-1]:
        target = target[part]
    if delete and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = replacement
    return result


def _mutations(document: dict) -> st.SearchStrategy[dict]:
    paths = _paths(document)
    return st.builds(_mutated, st.just(document), st.sampled_from(paths), json_values, st.booleans())


CLOSED_WON = [load_raw("closed-won", name) for name in ("emea-milestone-erp-rollout", "apac-time-and-materials",
                                                          "us-retainer-managed-services", "us-fixed-fee-advisory")]
STAGE_CHANGED = json.loads(fixture_files("stage-changed")[0].read_text())
STAGE_CHANGED = STAGE_CHANGED[0] if isinstance(STAGE_CHANGED, list) else STAGE_CHANGED


def _only_contract_errors(parse: Any, event: Any) -> None:
    try:
        parse(event)
    except ContractError as error:
        assert error.problems and all(p["field"] and p["message"] for p in error.problems)


@FUZZ
@given(st.sampled_from(CLOSED_WON).flatmap(_mutations))
def test_closed_won_events_fail_only_with_the_contract_error(event: dict) -> None:
    _only_contract_errors(parse_event, event)


@FUZZ
@given(_mutations(STAGE_CHANGED))
def test_stage_changed_events_fail_only_with_the_contract_error(event: dict) -> None:
    _only_contract_errors(parse_stage_changed, event)


@FUZZ
@given(st.one_of(st.text(max_size=40), st.from_regex(r"[+-]?[0-9]{0,40}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,8})?",
                                                      fullmatch=True)),
       st.sampled_from(["EUR", "JPY", "BHD", "USD"]))
def test_any_amount_string_is_money_or_a_named_error(value: str, currency: str) -> None:
    event = copy.deepcopy(CLOSED_WON[0])
    event["detail"]["contract"]["value"] = {"value": value, "currency": currency}
    try:
        parsed = parse_event(event)
    except ContractError as error:
        assert any(p["field"].startswith("detail.contract.value") for p in error.problems)
    else:
        assert parsed.detail.contract.value.value.is_finite()


@FUZZ
@given(st.text(max_size=16), st.text(max_size=60))
def test_any_link_parameters_are_ok_tampered_or_expired(exp: str, sig: str) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert check_link("ho-1.AAAA", "legal@example.com", exp, sig, b"k" * 32, now) in set(LinkCheck)


@pytest.mark.parametrize("exp", ["999999999999", "99999999999", "０", "²", "-1", "1.5", ""])
def test_out_of_range_or_odd_expiries_are_tampered_links(exp: str) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert check_link("ho-1.AAAA", "legal@example.com", exp, "sig", b"k" * 32, now) == LinkCheck.TAMPERED


@FUZZ
@given(_mutations(minimal()))
def test_playbooks_fail_only_with_a_playbook_error(data: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "pilot.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        clear_cache()
        try:
            load_playbook("pilot", region="EMEA", country="DE", contract_type="fixed_fee", directory=Path(folder))
        except PlaybookError as error:
            assert str(error)
        finally:
            clear_cache()
