"""Money: a Decimal and an ISO 4217 currency, never a float."""

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

import pycountry
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, model_validator

# ISO 4217 minor units of the currencies whose exponent is not 2.
_EXPONENTS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}
_NON_MONEY = {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}


def currency_exponent(currency: str) -> int:
    """Number of decimals the currency has (JPY 0, EUR 2, BHD 3)."""
    return _EXPONENTS.get(currency, 2)


def is_currency(code: str) -> bool:
    return code not in _NON_MONEY and pycountry.currencies.get(alpha_3=code) is not None


MAX_INTEGER_DIGITS = 15  # a quadrillion in any currency is beyond any deal; Decimal's context holds 28
_PLAIN_DECIMAL = re.compile(rf"[+-]?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,12}})?")


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"must be a decimal string such as \"480000.00\", not a JSON {type(value).__name__}"
        )
    text = value.strip()
    if text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        raise ValueError(f"{_shown(value)} is not a finite decimal number")
    # Plain ASCII digits only: Python's Decimal would also take exponents ("1e999999", which no
    # quantize survives), underscores and other scripts' digits, none of which a CRM means as money.
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"{_shown(value)} is not a decimal number such as \"480000.00\" "
                         f"(digits, an optional sign and decimal point, at most {MAX_INTEGER_DIGITS} digits before it)")
    return Decimal(text)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


DecimalString = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: DecimalString
    currency: str

    @model_validator(mode="after")
    def _check(self) -> "Money":
        if not is_currency(self.currency):
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 currency code")
        exponent = self.value.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        allowed = currency_exponent(self.currency)
        if decimals > allowed:
            raise ValueError(
                f"{format(self.value, 'f')} has {decimals} decimals but {self.currency} has {allowed}"
            )
        # Canonical scale: the currency's own precision ("85000" USD is 85000.00).
        object.__setattr__(self, "value", quantize(self.value, self.currency))
        return self

    @classmethod
    def of(cls, value: Decimal | str | int, currency: str) -> "Money":
        return cls(value=Decimal(value) if not isinstance(value, Decimal) else value, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls.of(Decimal(0), currency)

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money.of(self.value + other.value, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money.of(self.value - other.value, self.currency)

    def __str__(self) -> str:
        return f"{format(self.value, 'f')} {self.currency}"


def quantize(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to the currency's own precision."""
    return amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=rounding)
