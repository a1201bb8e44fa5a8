"""The handoff API's resubmission bodies, fuzzed (Hypothesis) on moto: whatever the body, the answer
is one of the API's own, with a message; never a 500."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_handoff_api import Env, call, env  # noqa: F401 - the API's moto fixture
from tests.unit.test_fuzz_boundaries import CLOSED_WON, _mutations, json_values


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(json_values.map(json.dumps), st.text(max_size=200), st.sampled_from(CLOSED_WON).flatmap(_mutations)
                 .map(json.dumps)))
def test_resubmit_bodies_are_answered_never_500(env: Env, body: str) -> None:  # noqa: F811 - fixture
    status, answer, _ = call("POST", f"/handoffs/{env.handoff_id}/resubmit", body)
    assert status in (202, 409, 413, 422), (status, answer)
    if status != 202:
        assert answer["message"]
