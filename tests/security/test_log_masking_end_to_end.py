"""Attack (passive): read personal or commercial data out of the logs. A whole handoff with approvals
runs on the embedded runtime; every log line the handlers wrote is searched for email addresses, tax
ids and money amounts."""

import logging
import os
import re

import pytest

from handoff.log_masking import _EMAIL
from local.runtime import EmbeddedRuntime
from tests.local.test_approvals_end_to_end import emea_deal, record_of
from tests.support.runtime_fixture import runtime  # noqa: F401  (one runtime for this module)


def test_logs_of_a_whole_handoff_hold_no_email_tax_id_or_amount(runtime: EmbeddedRuntime,
                                                                 caplog: pytest.LogCaptureFixture,
                                                                 capsys: pytest.CaptureFixture) -> None:
    service = os.environ["POWERTOOLS_SERVICE_NAME"]
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger=service)
    event = emea_deal("masked-logs-1")
    detail = event["detail"]
    runtime.publish([event])
    runtime.wait_settled()
    runtime.decide_all("approve", comment="Agreed with buyer@customer.example for 480000.00 EUR")
    assert record_of(runtime, "masked-logs-1").status == "ACTIVATED"

    handler_lines = [r.getMessage() + " " + str({k: v for k, v in r.__dict__.items() if k not in ("msg", "args")})
                     for r in caplog.records if r.name.startswith(service)]
    printed = [line for line in capsys.readouterr().out.splitlines() if f'"service":"{service}"' in line]
    logs = "\n".join(handler_lines + printed)
    assert handler_lines and printed  # the handoff did log
    assert not _EMAIL.search(logs), _EMAIL.search(logs)
    secrets = [detail["account"]["taxId"], detail["opportunity"]["owner"]["email"],
               detail["contract"]["value"]["value"], detail["opportunity"]["amount"]["value"],
               *(s["cost"]["value"] for s in detail["subcontractors"])]
    for secret in secrets:
        assert secret not in logs, secret
    assert not re.search(r"\b\d{4,}\.\d{2}\b", logs)
