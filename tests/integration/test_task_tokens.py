"""Task tokens in their own table (issue 13, item 3), on moto: the approval item names its token and
never holds it, the callback reads it from the token table and removes it once Step Functions took
it, and an approval stored before the table existed (its token in the handoff item) still resumes."""

from datetime import timedelta

from handoff.domain.approvals import token_kept_until
from tests.integration import test_approval_api
from tests.integration.test_approval_api import HANDOFF, T0, TOKEN, Env, open_approval, post, requirements

env = test_approval_api.env  # the fixture: moto tables, the signing key, a stub Step Functions


def raw_item(env: Env, approval_id: str) -> dict:
    key = {"pk": f"HANDOFF#{HANDOFF}", "sk": f"APPROVAL#{approval_id}"}
    return env.store._table.get_item(Key=key)["Item"]


def token_item(env: Env, ref: str) -> dict:
    return env.tokens._table.get_item(Key={"pk": ref})["Item"]


def test_the_token_is_kept_in_its_own_table_and_removed_once_used(env: Env) -> None:
    approval, link = open_approval(env)
    item = raw_item(env, approval.approval_id)
    assert "taskToken" not in item and TOKEN not in str(item) and item["taskTokenRef"] == approval.approval_id
    stored = token_item(env, approval.approval_id)
    assert stored["taskToken"] == TOKEN and stored["handoffId"] == HANDOFF
    assert stored["expiresAtEpoch"] == int(token_kept_until(approval).timestamp())  # TTL, past every deadline

    assert post(link, "approve", "fine")[0] == 200
    assert env.sfn.calls == [("success", env.sfn.calls[0][1])] and env.sfn.calls[0][1]["taskToken"] == TOKEN
    used = token_item(env, approval.approval_id)
    assert "taskToken" not in used and used["usedAt"]


def test_a_decision_whose_token_is_gone_is_not_applied(env: Env) -> None:
    approval, link = open_approval(env)
    env.tokens._table.update_item(Key={"pk": approval.approval_id}, UpdateExpression="REMOVE taskToken")
    status, page, _ = post(link, "approve", "fine")
    assert status == 410 and "no longer waiting" in page and env.sfn.calls == []
    assert env.store.get(approval.approval_id).status == "EXPIRED"


def _as_stored_before_the_token_table(env: Env, approval_id: str, token: str) -> None:
    env.store._table.update_item(Key={"pk": f"HANDOFF#{HANDOFF}", "sk": f"APPROVAL#{approval_id}"},
                                 UpdateExpression="SET taskToken = :token REMOVE taskTokenRef",
                                 ExpressionAttributeValues={":token": token})
    env.tokens._table.delete_item(Key={"pk": approval_id})


def test_an_approval_stored_before_the_token_table_still_resumes_its_task(env: Env) -> None:
    approval, link = open_approval(env)
    _as_stored_before_the_token_table(env, approval.approval_id, "legacy-task-token")
    assert env.store.get(approval.approval_id).task_token_ref is None
    assert post(link, "approve", "fine")[0] == 200
    assert env.sfn.calls[0][1]["taskToken"] == "legacy-task-token"


def test_a_retried_request_moves_a_legacy_token_out_of_the_handoff_table(env: Env) -> None:
    approval, link = open_approval(env)
    _as_stored_before_the_token_table(env, approval.approval_id, "legacy-task-token")
    event, found = requirements()
    retried = env.store.create_pending(HANDOFF, found[0], event, "retried-token", T0 + timedelta(seconds=5))
    assert not retried.created and retried.approval.approval_id == approval.approval_id
    item = raw_item(env, approval.approval_id)
    assert "taskToken" not in item and item["taskTokenRef"] == approval.approval_id
    assert token_item(env, approval.approval_id)["taskToken"] == "retried-token"
    assert post(link, "approve", "fine")[0] == 200
    assert env.sfn.calls[0][1]["taskToken"] == "retried-token"
