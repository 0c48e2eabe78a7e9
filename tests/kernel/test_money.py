from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.money import Money


def test_money_is_minor_units_and_never_float() -> None:
    assert Money.from_decimal("12.345", "CNY") == Money(1234, "CNY")  # half-even
    assert Money.from_decimal("12.355", "CNY") == Money(1236, "CNY")
    assert Money.from_decimal("500", "JPY") == Money(500, "JPY")
    assert str(Money(150075, "RUB")) == "1500.75 RUB"
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot combine"):
        Money(1, "USD") + Money(1, "EUR")


@given(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
def test_addition_is_exact(a: int, b: int) -> None:
    assert (Money(a, "USD") + Money(b, "USD")).minor == a + b
    assert (Money(a, "USD") - Money(a, "USD")).minor == 0


@given(st.integers(0, 10**9), st.decimals(min_value=0, max_value=10, places=3, allow_nan=False))
def test_times_rounds_once_to_the_nearest_minor_unit(minor: int, factor: Decimal) -> None:
    result = Money(minor, "USD").times(factor)
    assert abs(Decimal(result.minor) - Decimal(minor) * factor) <= Decimal("0.5")


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (5000, "OMR", "5.000 OMR"),  # baisa: was shown as 50.00 OMR
        (5000, "JOD", "5.000 JOD"),
        (12345, "TND", "12.345 TND"),
        (5000, "UGX", "5000 UGX"),  # no minor unit: was shown as 50.00 UGX
        (5000, "XOF", "5000 XOF"),
        (5000, "PYG", "5000 PYG"),
        (5000, "BHD", "5.000 BHD"),
        (500, "JPY", "500 JPY"),
        (500, "CNY", "5.00 CNY"),
    ],
)
def test_every_currency_shows_with_its_own_minor_unit(
    minor: int, currency: str, shown: str
) -> None:
    """A brand may hold any ISO 4217 currency; one missing from the table was shown with two
    decimals: an expert offered 5 Omani rials (5000 baisa) read 50.00 OMR."""
    assert str(Money(minor, currency)) == shown
    assert Money.from_decimal(Money(minor, currency).to_decimal(), currency).minor == minor
