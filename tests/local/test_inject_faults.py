"""`python -m local run FILE... --inject-faults RATE --seed N`, through the CLI's own code path
(`local.cli.run` with the FaultInjection `main` builds): the four closed-won examples with 30 % of
the Lambda, DynamoDB, SES and system-of-record calls failing transiently all activate, and the
systems of record and the outbox hold exactly one of everything."""

import io
import json
from collections import Counter
from pathlib import Path

import pytest

from local import cli
from local.inject_faults import FaultInjection
from tests.conftest import fixture_files
from tests.support.erp_checks import assert_one_of_everything

RATE, SEED = 0.3, 14
# One approval request per approval a deal needs, one launch packet notice per handoff.
APPROVAL_REQUESTS = 3


def test_the_examples_activate_exactly_once_with_thirty_percent_of_calls_failing(tmp_path: Path) -> None:
    events = [event for path in fixture_files("closed-won") for event in cli.read_events(path)]
    injection = FaultInjection(RATE, SEED, workdir=tmp_path / "run")
    out = io.StringIO()

    assert cli.run(events, "approve", True, out, injection) == 0

    records = {r["opportunityId"]: r for r in json.loads(out.getvalue())}
    deals = {e["detail"]["opportunity"]["id"]: e["detail"] for e in events}
    assert sorted(records) == sorted(deals)
    assert {o: r["status"] for o, r in records.items()} == dict.fromkeys(deals, "ACTIVATED")

    # Faults were injected on every side. Which codes fire depends on thread scheduling (a seeded draw per
    # call, calls in no fixed order): the rare ones (a transaction conflict on the few transactions, an SES
    # throttle on seven emails) may not fire in a run, so only the sides are required.
    kinds = injection.injected()
    for side in ("lambda ", "dynamodb ", "erp "):
        assert sum(n for kind, n in kinds.items() if kind.startswith(side)) >= 2, (side, kinds)
    assert sum(kinds.values()) >= 40, kinds

    # Exactly one customer, project, schedule per deal; one request per need; one requisition per
    # subcontractor; one CRM write-back per deal.
    state = injection.erp.state
    codes = {o: r["project"]["code"] for o, r in records.items()}
    assert_one_of_everything(state, deals, codes)

    # Every email once: the approval requests and one launch packet notice per handoff. Besides them,
    # the one-time codes approvers asked for when deciding (a click that met an error asks again).
    code_mails = [m for m in injection.emails if "confirmation code" in m.subject]
    notices = [m for m in injection.emails if m not in code_mails]
    mails = Counter((m.to, m.subject) for m in notices)
    print(f"\nfault run: {sum(kinds.values())} faults {dict(kinds)}, {injection.wall_seconds:.1f} s, "
          f"{injection.clicks_repeated} clicks repeated, {len(injection.emails)} emails")
    assert max(mails.values()) == 1, mails
    assert len(notices) == APPROVAL_REQUESTS + len(deals), sorted(mails)
    assert APPROVAL_REQUESTS <= len(code_mails) <= APPROVAL_REQUESTS + injection.clicks_repeated


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "abc", "nan", "inf", ""])
def test_a_rate_outside_zero_to_one_is_refused_naming_the_flag(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    example = str(fixture_files("closed-won")[0])

    assert cli.main(["run", example, "--inject-faults", rate]) == 2

    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--inject-faults" in error and repr(rate) in error, error
