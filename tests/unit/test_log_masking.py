"""Logs carry no email address, tax id or money amount: the filter on the handlers' logger."""

import logging
from decimal import Decimal

import pytest

from handoff.log_masking import MaskingFilter, mask


@pytest.mark.parametrize(("text", "hidden"), [
    ("sent to privacy-emea@example-consulting.com", "privacy-emea@example-consulting.com"),
    ("tax id DE811907980 is invalid", "DE811907980"),
    ("EIN 84-1234567", "84-1234567"),
    ("ABN 51 824 753 556", "51 824 753 556"),
    ("Contract value 480000.00 EUR is over the 250000 USD threshold", "480000.00"),
    ("Contract value 480000.00 EUR is over the 250000 USD threshold", "250000"),
    ("total $1,200.50", "1,200.50"),
    ("total 480,000", "480,000"),
])
def test_personal_and_commercial_data_is_masked(text: str, hidden: str) -> None:
    assert hidden not in mask(text)


def test_ids_times_and_counts_stay_readable() -> None:
    for text in ("handoff ho-f134e0ad9c6c97eb at 2026-11-20T15:00:00.000Z", "3 approvals in 15 minutes",
                 "arn:aws:iam::123456789012:user/ops-anna", "opportunity 006Qy00000AbCdE1"):
        assert mask(text) == text


def test_extras_and_exceptions_are_masked_before_any_handler_sees_them() -> None:
    try:
        raise ValueError("no DPA with buyer@customer.example for 480000.00 EUR")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", ("a@b.example",),
                                   exc_info=__import__("sys").exc_info())
    record.__dict__.update(approver="legal@example.com", amount=Decimal("12.50"), detail={"total": "99.00"})
    assert MaskingFilter().filter(record)
    text = f"{record.getMessage()} {record.approver} {record.amount} {record.detail} {record.exception}"
    for secret in ("a@b.example", "legal@example.com", "12.50", "99.00", "buyer@customer.example", "480000.00"):
        assert secret not in text
    assert record.exc_info is None and "ValueError" in record.exception
