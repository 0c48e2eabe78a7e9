"""Pricing from the rate card and the double-entry ledger of earnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.money import Money
from crowdcx.payouts.rules import (
    Posting,
    PostingSet,
    Quote,
    RateCard,
    TimeBand,
    WorkItem,
    balance,
    brand_payable_account,
    decide_earning,
    decide_reversal,
    effective_hourly_rate,
    expert_earnings_account,
    hourly_from_sums,
    is_balanced,
    price_ticket,
    validate_posting_set,
    worked_periods,
)
from crowdcx.tickets.rules import Violation

NOON_SHANGHAI = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
NIGHT_SHANGHAI = datetime(2025, 3, 3, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai

CARD = RateCard(
    currency="CNY",
    base_minor={"general": 500, "odd": 333},
    complexity={"normal": Decimal(1), "high": Decimal("1.5")},
    language_premium={"ru": Decimal("1.2"), "zh-Hant": Decimal("1.1")},
    time_of_day=(TimeBand(time(22), time(7), Decimal("1.25"), "night"),),
    timezone="Asia/Shanghai",
)


def quote(skill: str, complexity: str, lang: str, at: datetime) -> Quote:
    q = price_ticket(CARD, skill, complexity, lang, at)
    assert isinstance(q, Quote), q
    return q


def test_price_multiplies_every_factor_and_explains_each() -> None:
    q = quote("general", "high", "ru", NIGHT_SHANGHAI)
    assert q.amount == Money(1125, "CNY")  # 500 × 1.5 × 1.2 × 1.25
    assert [f.name for f in q.factors] == ["base", "complexity", "language", "time_of_day"]
    assert q.factors[3].key == "night"
    assert "23:30" in q.factors[3].explanation
    assert len(q.explain()) == 5


def test_price_rounds_half_even_once_at_the_end() -> None:
    # 333 × 1.1 = 366.3 → 366 (daytime). Rounding after each factor would also give 366, so
    # check a case where it would not: 333 × 1.5 × 1.1 × 1.25 = 686.8125 → 687;
    # rounding step by step: 333×1.5=499.5→500, ×1.1=550, ×1.25=687.5→688.
    q = quote("odd", "high", "zh-Hant", NIGHT_SHANGHAI)
    assert q.exact == Decimal("686.812500")
    assert q.amount == Money(687, "CNY")
    even = price_ticket(
        RateCard("CNY", {"x": 5}, complexity={"half": Decimal("0.5")}),
        "x",
        "half",
        "en",
        NOON_SHANGHAI,
    )
    assert isinstance(even, Quote)
    assert even.amount.minor == 2


def test_unknown_keys_fall_back_and_unpriced_skill_is_a_violation() -> None:
    assert quote("general", "weird", "en", NOON_SHANGHAI).amount == Money(500, "CNY")
    v = price_ticket(CARD, "nope", "normal", "en", NOON_SHANGHAI)
    assert isinstance(v, Violation)
    assert v.code == "skill_unpriced"


@pytest.mark.parametrize(
    ("card", "code"),
    [
        (replace(CARD, default_base_minor=12.5), "amount_not_integer"),  # type: ignore[arg-type]
        (replace(CARD, default_base_minor="500"), "amount_not_integer"),  # type: ignore[arg-type]
        (replace(CARD, default_base_minor=True), "amount_not_integer"),
        (replace(CARD, default_base_minor=500, currency="rub"), "currency_invalid"),
        (replace(CARD, default_base_minor=500, complexity={"normal": Decimal("NaN")}),
         "factor_invalid"),
    ],
)  # fmt: skip
def test_a_card_saved_before_the_policy_checks_is_a_violation_not_an_exception(
    card: RateCard, code: str
) -> None:
    """The brand policy refuses these now; pricing with a card stored before it did must not
    raise (every intake was a 500)."""
    v = price_ticket(card, "unlisted", "normal", "en", NOON_SHANGHAI)
    assert isinstance(v, Violation)
    assert (v.code, v.kind) == (code, "invalid")


def test_time_bands_are_wall_clock_even_with_an_offset_stored() -> None:
    """Aware band times (accepted before the policy refused them) were compared with the naive
    local time: a TypeError on every ticket. They read as the wall-clock time they show."""
    plus8 = timezone(timedelta(hours=8))
    band = TimeBand(time(22, tzinfo=plus8), time(7, tzinfo=plus8), Decimal("1.25"), "night")
    card = replace(CARD, time_of_day=(band,))
    assert quote_with(card, NIGHT_SHANGHAI).amount == Money(625, "CNY")  # 23:30 local
    assert quote_with(card, NOON_SHANGHAI).amount == Money(500, "CNY")
    assert band.contains(time(23, 30))
    assert not band.contains(time(12, tzinfo=UTC))


def quote_with(card: RateCard, at: datetime) -> Quote:
    q = price_ticket(card, "general", "normal", "en", at)
    assert isinstance(q, Quote), q
    return q


def test_earning_is_balanced_keyed_and_idempotent() -> None:
    q = quote("general", "normal", "en", NOON_SHANGHAI)
    ps = decide_earning("t1", "b1", "alice", False, q, [], NOON_SHANGHAI)
    assert isinstance(ps, PostingSet)
    assert validate_posting_set(ps) == []
    assert {p.idempotency_key for p in ps.postings} == {"earning:t1"}
    assert {p.correlation_key for p in ps.postings} == {"t1"}
    assert balance(ps.postings, expert_earnings_account("alice")) == {"CNY": Money(500, "CNY")}
    assert balance(ps.postings, brand_payable_account("b1")) == {"CNY": Money(-500, "CNY")}
    again = decide_earning("t1", "b1", "alice", False, q, ["earning:t1"], NOON_SHANGHAI)
    assert isinstance(again, Violation)
    assert again.code == "earning_exists"


def test_no_earning_when_staff_were_needed() -> None:
    q = quote("general", "normal", "en", NOON_SHANGHAI)
    assert isinstance(decide_earning("t1", "b1", "alice", True, q, [], NOON_SHANGHAI), Violation)
    assert isinstance(decide_earning("t1", "b1", None, False, q, [], NOON_SHANGHAI), Violation)


def test_reversal_is_new_rows_once_and_nets_to_zero() -> None:
    ps = decide_earning("t1", "b1", "alice", False, Money(700, "RUB"), [], NOON_SHANGHAI)
    assert isinstance(ps, PostingSet)
    ledger = list(ps.postings)
    rev = decide_reversal("t1", ledger, NIGHT_SHANGHAI, "reopened, staff resolved")
    assert isinstance(rev, PostingSet)
    assert rev.idempotency_key == "reversal:t1"
    assert all(p.kind == "reversal" for p in rev.postings)
    ledger += rev.postings
    assert ledger[:2] == list(ps.postings)  # originals untouched
    assert balance(ledger, expert_earnings_account("alice")) == {"RUB": Money(0, "RUB")}
    assert isinstance(decide_reversal("t1", ledger, NIGHT_SHANGHAI), Violation)
    assert isinstance(decide_reversal("t9", ledger, NIGHT_SHANGHAI), Violation)


def test_effective_hourly_rate() -> None:
    t0 = NOON_SHANGHAI
    items = [
        WorkItem(Money(500, "CNY"), t0, t0 + timedelta(minutes=20)),
        WorkItem(Money(1000, "CNY"), t0, t0 + timedelta(minutes=40)),
        WorkItem(Money(100, "CNY"), t0, t0 + timedelta(seconds=5)),  # counts as a minute
    ]
    rate = effective_hourly_rate(items)["CNY"]
    assert rate.tickets == 3
    assert rate.seconds == 61 * 60
    assert rate.per_hour == Money(1574, "CNY")  # 1600 / 61 min × 60 = 1573.77


def test_a_reopened_ticket_counts_the_time_it_was_worked() -> None:
    t0 = NOON_SHANGHAI
    m = [t0 + timedelta(minutes=n) for n in (0, 1, 10, 3 * 24 * 60, 3 * 24 * 60 + 5)]
    closed = m[4] + timedelta(days=3)
    history = [("submit", t0), ("offer", t0), ("claim", m[1]), ("resolve", m[2]),
               ("reopen", m[3]), ("resolve", m[4]), ("auto_close", closed)]  # fmt: skip
    periods = worked_periods(history)
    assert periods == ((m[1], m[2]), (m[3], m[4]))
    item = WorkItem(Money(500, "USD"), m[1], m[4], periods)
    assert item.seconds == 14 * 60
    assert effective_hourly_rate([item])["USD"].per_hour == Money(2143, "USD")
    assert worked_periods([("claim", m[1])]) == ()  # still being worked: nothing finished


# Property: any sequence of earnings and reversals balances to zero per currency ------------

ops = st.lists(
    st.tuples(
        st.sampled_from(["earn", "reverse"]),
        st.sampled_from([f"t{i}" for i in range(6)]),
        st.sampled_from(["alice", "bob", "carol"]),
        st.integers(0, 10**9),
        st.sampled_from(["CNY", "RUB", "USD", "JPY"]),
        st.booleans(),
    ),
    max_size=60,
)


@given(ops)
def test_every_posting_set_and_the_whole_ledger_balance(
    sequence: list[tuple[str, str, str, int, str, bool]],
) -> None:
    ledger: list[Posting] = []
    for op, ticket, expert, minor, currency, escalated in sequence:
        if op == "earn":
            keys = {p.idempotency_key for p in ledger}
            result = decide_earning(
                ticket, "b1", expert, escalated, Money(minor, currency), keys, NOON_SHANGHAI
            )
        else:
            result = decide_reversal(ticket, ledger, NOON_SHANGHAI)
        if isinstance(result, PostingSet):
            assert validate_posting_set(result) == []
            ledger.extend(result.postings)
        assert is_balanced(ledger)
        assert all(m.minor == 0 for m in balance(ledger).values())
    # one earning and at most one reversal per ticket
    for ticket in {p.correlation_key for p in ledger}:
        keys = [p.idempotency_key for p in ledger if p.correlation_key == ticket]
        assert keys.count(f"earning:{ticket}") == 2
        assert keys.count(f"reversal:{ticket}") in (0, 2)


def test_a_reward_is_owed_by_the_brand_to_the_member_balanced() -> None:
    from crowdcx.payouts.rules import post_reward

    ps = post_reward("7", "3", "42", "cash", Money(300, "GBP"), datetime(2026, 1, 1, tzinfo=UTC))
    assert validate_posting_set(ps) == []
    assert {p.account: p.amount.minor for p in ps.postings} == {
        "brand:3:payable": -300,
        "member:42:cash": 300,
    }
    assert ps.idempotency_key == "reward:7"


_spans = st.lists(
    st.tuples(
        st.sampled_from(["USD", "EUR", "JPY"]),
        st.integers(0, 10**7),  # earned, minor units
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(-5, 10**5)), max_size=3),
    ),
    max_size=12,
)


@given(_spans)
def test_running_sums_give_the_hourly_rate_of_the_items(
    spans: list[tuple[str, int, list[tuple[int, int]]]],
) -> None:
    """The expert's rate from running sums (earned, counted microseconds, tickets per
    currency) is the rate of the items themselves, to the minor unit — with stretches shorter
    than the minute a ticket counts at least, none (claim → resolution), or several."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for currency, minor, stretches in spans:
        periods = tuple(
            (t0 + timedelta(seconds=start), t0 + timedelta(seconds=start + length))
            for start, length in stretches
        )
        resolved = t0 + timedelta(seconds=sum(s + max(n, 0) for s, n in stretches) + 30)
        items.append(WorkItem(Money(minor, currency), t0, resolved, periods))
    sums: dict[str, tuple[int, int, int]] = {}
    for it in items:
        m, us, n = sums.get(it.earned.currency, (0, 0, 0))
        sums[it.earned.currency] = (m + it.earned.minor, us + it.counted_us, n + 1)
    want = {c: r.per_hour for c, r in effective_hourly_rate(items).items()}
    assert {c: r.per_hour for c, r in hourly_from_sums(sums).items()} == want
