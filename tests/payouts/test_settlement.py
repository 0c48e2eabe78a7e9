"""Settlement rules: what the brand owes each payee, and recording what it paid."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.money import Money
from crowdcx.payouts.rules import (
    Payee,
    PayeeBalance,
    Posting,
    PostingSet,
    balance,
    balance_moves,
    brand_payable_account,
    decide_earning,
    decide_payout,
    decide_reversal,
    expert_earnings_account,
    is_balanced,
    parse_amount,
    payee_of,
    post_reward,
    statement,
    statement_key,
)
from crowdcx.tickets.rules import Violation

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
EXPERT = expert_earnings_account("7")


def _sums(postings: list[Posting]) -> list[tuple[str, str, str, int]]:
    """What the service's GROUP BY hands the rule."""
    out: dict[tuple[str, str, str], int] = {}
    for p in postings:
        key = (p.account, p.kind, p.amount.currency)
        out[key] = out.get(key, 0) + p.amount.minor
    return [(a, k, c, m) for (a, k, c), m in out.items()]


def _earn(ticket: int, minor: int) -> PostingSet:
    decided = decide_earning(str(ticket), "1", "7", False, Money(minor, "CNY"), [], AT)
    assert isinstance(decided, PostingSet)
    return decided


def test_payees_are_experts_and_members_never_the_brand() -> None:
    assert payee_of(EXPERT) == Payee(EXPERT, "expert", 7)
    assert payee_of("member:12:cash") == Payee("member:12:cash", "member", 12, "cash")
    assert payee_of(brand_payable_account("1")) is None
    for odd in ("expert:x:earnings", "member:3:gold", "expert:٣:earnings", "expert:3", ""):
        assert payee_of(odd) is None, odd


def test_statement_nets_reversals_and_payouts() -> None:
    postings = [*_earn(1, 500).postings, *_earn(2, 700).postings]
    reversal = decide_reversal("1", postings, AT)
    assert isinstance(reversal, PostingSet)
    postings += reversal.postings
    [line] = statement(_sums(postings))
    assert (line.earned, line.paid, line.owed) == (
        Money(700, "CNY"), Money(0, "CNY"), Money(700, "CNY"),
    )  # fmt: skip
    paid = decide_payout("1", line, Money(300, "CNY"), "TX-1", AT)
    assert isinstance(paid, PostingSet)
    postings += paid.postings
    [line] = statement(_sums(postings))
    assert (line.earned.minor, line.paid.minor, line.owed.minor) == (700, 300, 400)
    assert is_balanced(postings)
    # The brand payable is minus what is still owed.
    assert balance(postings, brand_payable_account("1")) == {"CNY": Money(-400, "CNY")}


def test_statement_orders_by_payee_account_then_currency_whatever_is_owed() -> None:
    """The statement's order is its lines' keys (account, currency), which no payout or
    earning changes: the larger debt does not come first."""
    rewards = post_reward("5", "1", "9", "cash", Money(900, "USD"), AT)
    postings = [*_earn(1, 500).postings, *rewards.postings]
    lines = statement(_sums(postings))
    assert [(b.payee.account, b.currency) for b in lines] == [
        (EXPERT, "CNY"), ("member:9:cash", "USD"),
    ]  # fmt: skip
    assert [statement_key(b) for b in lines] == sorted(statement_key(b) for b in lines)


def _owed(minor: int) -> PayeeBalance:
    return PayeeBalance(Payee(EXPERT, "expert", 7), Money(minor, "CNY"), Money(0, "CNY"))


def test_a_payout_is_refused_above_what_is_owed_at_zero_and_in_another_currency() -> None:
    cases = {
        "payout_exceeds_owed": (Money(501, "CNY"), "TX"),
        "payout_amount": (Money(0, "CNY"), "TX"),
        "payout_currency": (Money(100, "USD"), "TX"),
        "payout_reference": (Money(100, "CNY"), "  "),
    }
    for code, (amount, ref) in cases.items():
        decided = decide_payout("1", _owed(500), amount, ref, AT)
        assert isinstance(decided, Violation), code
        assert decided.code == code, (code, decided)
    too_long = decide_payout("1", _owed(500), Money(1, "CNY"), "x" * 61, AT)
    assert isinstance(too_long, Violation)
    invisible = decide_payout("1", _owed(500), Money(1, "CNY"), "TX\u200b1", AT)
    assert isinstance(invisible, Violation)
    # A clawed-back payee (owed < 0) is paid nothing until later earnings make up for it.
    assert isinstance(decide_payout("1", _owed(-200), Money(1, "CNY"), "TX", AT), Violation)


def test_the_reference_keys_the_payout_so_recording_it_twice_is_one_payout() -> None:
    first = decide_payout("1", _owed(500), Money(500, "CNY"), " 工行转账 0042 ", AT)
    again = decide_payout("1", _owed(500), Money(500, "CNY"), "工行转账 0042", AT)
    assert isinstance(first, PostingSet)
    assert isinstance(again, PostingSet)
    assert first.idempotency_key == again.idempotency_key == f"payout:{EXPERT}:工行转账 0042"
    assert len(first.idempotency_key) <= 120
    assert all(len(p.account) <= 80 for p in first.postings)


@given(
    st.lists(
        st.tuples(st.sampled_from(["earn", "reverse", "pay"]), st.integers(1, 10_000)),
        max_size=40,
    )
)
def test_payouts_decided_by_the_rule_never_pay_more_than_was_earned(
    steps: list[tuple[str, int]],
) -> None:
    postings: list[Posting] = []
    tickets = 0
    for n, (step, minor) in enumerate(steps):
        if step == "earn":
            tickets += 1
            postings += _earn(tickets, minor).postings
        elif step == "reverse" and tickets:
            decided = decide_reversal(str(tickets), postings, AT)
            if isinstance(decided, PostingSet):
                postings += decided.postings
        elif step == "pay":
            lines = statement(_sums(postings)) or [_owed(0)]
            decided = decide_payout("1", lines[0], Money(minor, "CNY"), f"TX-{n}", AT)
            assert isinstance(decided, PostingSet) == (0 < minor <= lines[0].owed.minor)
            if isinstance(decided, PostingSet):
                postings += decided.postings
        assert is_balanced(postings)
        for line in statement(_sums(postings)):
            assert line.earned - line.paid == line.owed
            assert line.paid.minor >= 0
            # Only a reversal can take a payee below zero, never a payout.
            if not any(p.kind == "reversal" for p in postings):
                assert line.owed.minor >= 0


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["earn", "reverse", "reward", "pay"]),
            st.integers(0, 10_000),
            st.sampled_from(["CNY", "USD"]),
        ),
        max_size=40,
    )
)
def test_running_balances_moved_set_by_set_are_the_statement_of_the_whole_ledger(
    steps: list[tuple[str, int, str]],
) -> None:
    """``balance_moves`` of each posting set, added up as the database adds them to the
    payees' running balances, is the statement summed from every posting: same lines (a
    payee with a zero balance included), same earned and paid, the brand's accounts left out."""
    postings: list[Posting] = []
    running: dict[tuple[str, str], tuple[int, int]] = {}
    tickets = 0
    for n, (step, minor, currency) in enumerate(steps):
        decided: PostingSet | Violation | None = None
        if step == "earn":
            tickets += 1
            decided = decide_earning(str(tickets), "1", str(n % 3), False,
                                     Money(minor, currency), [], AT)  # fmt: skip
        elif step == "reverse" and tickets:
            decided = decide_reversal(str(tickets - n % tickets), postings, AT)
        elif step == "reward":
            decided = post_reward(str(n), "1", str(n % 2), "cash", Money(minor, currency), AT)
        elif step == "pay":
            for line in statement(_sums(postings))[n % 2 :]:
                decided = decide_payout("1", line, Money(minor, line.currency), f"TX-{n}", AT)
                break
        if not isinstance(decided, PostingSet):
            continue
        postings += decided.postings
        for key, (earned, paid) in balance_moves(decided.postings).items():
            before = running.get(key, (0, 0))
            running[key] = (before[0] + earned, before[1] + paid)
    whole = {statement_key(b): (b.earned.minor, b.paid.minor) for b in statement(_sums(postings))}
    assert running == whole
    assert all(payee_of(account) is not None for account, _currency in running)


def test_amounts_as_people_type_them() -> None:
    typed = {
        "12.50": 1250, "12,50": 1250, "1 234,50": 123450, "1,234.50": 123450,
        "１２．５０": 1250, "12。5": 1250, ".5": 50, "5.": 500, "0": 0,
    }  # fmt: skip
    for text, minor in typed.items():
        assert parse_amount(text, "CNY") == Money(minor, "CNY"), text
    for bad in ("-5", "1e3", "12.505", "nan", "", ".", "1,2,3", "1.234,5", "١٢", "1" * 65):
        assert parse_amount(bad, "CNY") is None, bad
    # A number too large to be owed is still a number (the payout refuses it as more than
    # owed), read to the last digit: no rounding at Decimal's 28 digits.
    assert parse_amount("1" * 30 + ".05", "CNY") == Money(int("1" * 30) * 100 + 5, "CNY")
    assert parse_amount("9" * 20, "JPY") == Money(int("9" * 20), "JPY")
    assert parse_amount("1500", "JPY") == Money(1500, "JPY")
    assert parse_amount("1.5", "JPY") is None  # yen have no minor unit


@given(st.integers(0, 10**12))
def test_parse_amount_reads_back_what_money_prints(minor: int) -> None:
    money = Money(minor, "RUB")
    assert parse_amount(str(money.to_decimal()), "RUB") == money
    assert parse_amount(f"{money.to_decimal():,}".replace(",", " ").replace(".", ","), "RUB") == (
        money
    )


def test_an_amount_grouped_by_thousands_with_commas_is_read_whole() -> None:
    """An English or Chinese admin writes a thousand yuan "1,000": it was refused as "enter
    the amount as a number" (read as a decimal comma, with three decimals). A comma before
    exactly three digits cannot be a decimal comma of a currency with two minor digits."""
    typed = {"1,000": 100000, "12,345": 1234500, "1,234,567": 123456700, "１，０００": 100000}
    for text, minor in typed.items():
        assert parse_amount(text, "CNY") == Money(minor, "CNY"), text
    assert parse_amount("1,500", "JPY") == Money(1500, "JPY")
    for bad in ("1,00,000", "12,3456", "1,000,00"):
        assert parse_amount(bad, "CNY") is None, bad
    assert parse_amount("12,50", "CNY") == Money(1250, "CNY")  # still a decimal comma
