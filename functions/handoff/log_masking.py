"""Personal and commercial data kept out of the logs: email addresses, tax ids and money amounts are
masked in every record of the handlers' logger, before any handler formats it (so CloudWatch, the
embedded runtime's lambda.log and test captures all see the masked record).

A logging.Filter rather than Powertools data masking: the data to protect arrives in free text
(exception messages, readiness messages quoting the deal) as well as in structured extras, and the
filter sees both. The masks say what was there ("<email>", "<tax id>", "<amount>") so a log still reads."""

import logging
import re
import traceback
from decimal import Decimal
from typing import Any

import pycountry

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# EU VAT and GB numbers (two letters, then at least six digits among 8-12 characters), US EINs
# (12-3456789), Australian ABNs (11 digits, often grouped 2-3-3-3).
_TAX_ID = re.compile(
    r"\b(?:[A-Z]{2}(?=(?:[A-Z]*\d){6})[0-9A-Z]{8,12}|\d{2}-\d{7}|\d{2} \d{3} \d{3} \d{3}|\d{11})\b")
_CURRENCIES = sorted({c.alpha_3 for c in pycountry.currencies} - {"XXX", "XTS"})
_NUMBER = r"\d+(?:[,' ]\d{3})*(?:\.\d+)?"
_CODES = "|".join(_CURRENCIES)
_AMOUNT = re.compile(
    rf"(?:\b(?:{_CODES})\s?|[$€£¥])\s?{_NUMBER}\b"  # EUR 480000, $1,200.50
    rf"|\b{_NUMBER}\s?(?:(?:{_CODES})\b|[$€£¥])"  # 480000.00 EUR
    r"|\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b"  # 480,000.00
    r"|\b\d{4,}\.\d{2}\b"  # 480000.00
)
# Keys of structured extras whose values are amounts whatever their form.
_MONEY_KEYS = frozenset({"amount", "value", "total", "cost", "price", "margin", "contractvalue",
                         "estimatedmargin", "revenueatrisk"})
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def mask(text: str) -> str:
    text = _EMAIL.sub("<email>", text)
    text = _AMOUNT.sub("<amount>", text)
    return _TAX_ID.sub("<tax id>", text)


def _mask_value(key: str, value: Any) -> Any:
    if key.replace("_", "").casefold() in _MONEY_KEYS and isinstance(value, (int, float, Decimal, str)) \
            and not isinstance(value, bool):
        return "<amount>"
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_mask_value(key, v) for v in value]
    if isinstance(value, Decimal):
        return "<amount>"
    return value


class MaskingFilter(logging.Filter):
    """Rewrites the record in place: message, extras, and the exception (its text is masked and kept
    under "exception"; the traceback object itself is dropped, its frames would print unmasked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        for key in [k for k in record.__dict__ if k not in _STANDARD]:
            record.__dict__[key] = _mask_value(key, record.__dict__[key])
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.exception = mask("".join(traceback.format_exception(error)))
            record.exception_name = type(error).__name__
            record.exc_info = None
            record.exc_text = None
        return True


def install(logger: logging.Logger) -> None:
    if not any(isinstance(f, MaskingFilter) for f in logger.filters):
        logger.addFilter(MaskingFilter())
