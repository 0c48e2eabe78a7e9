"""Pure rules of pay per resolution: pricing from the rate card, and the double-entry ledger.

Functional core. Amounts are :class:`~crowdcx.kernel.money.Money` (integer minor units); the
rate card's factors are ``Decimal`` and are multiplied exactly, then rounded half-even to the
currency's minor unit **once**. Every price explains itself factor by factor.

The ledger is append-only: an earning is one balanced posting set (brand payable ↔ expert
earnings) keyed ``earning:<ticket_id>``; undoing it is a *new* posting set keyed
``reversal:<ticket_id>`` with the signs flipped, never an edit. Totals are recomputed from
the postings with :func:`balance`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crowdcx.kernel.money import Money, minor_exponent
from crowdcx.tickets.rules import Violation

# --------------------------------------------------------------------------------------------
# Rate card and pricing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeBand:
    """A local time-of-day band with a multiplier; ``start > end`` wraps past midnight.

    Times are the brand's wall clock, compared without any UTC offset (the policy refuses
    offsets; one stored before it did is read as the wall-clock time it shows)."""

    start: time
    end: time
    multiplier: Decimal
    label: str = ""

    def contains(self, t: time) -> bool:
        t, start, end = (x.replace(tzinfo=None) for x in (t, self.start, self.end))
        if start == end:
            return True
        if start < end:
            return start <= t < end
        return t >= start or t < end


@dataclass(frozen=True, slots=True)
class RateCard:
    """What a resolved ticket pays: base (minor units, per skill) × complexity × language
    premium × time of day. Missing keys fall back to ``default_base_minor`` and factor 1."""

    currency: str
    base_minor: Mapping[str, int]
    complexity: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            "low": Decimal("0.8"),
            "normal": Decimal(1),
            "high": Decimal("1.5"),
        }
    )
    language_premium: Mapping[str, Decimal] = field(default_factory=dict)
    time_of_day: tuple[TimeBand, ...] = ()
    timezone: str = "UTC"
    default_base_minor: int | None = None


@dataclass(frozen=True, slots=True)
class PriceFactor:
    name: Literal["base", "complexity", "language", "time_of_day"]
    key: str
    value: Decimal
    explanation: str


@dataclass(frozen=True, slots=True)
class Quote:
    """A price with its reasons. ``exact`` is the unrounded product in minor units."""

    amount: Money
    factors: tuple[PriceFactor, ...]
    exact: Decimal

    def explain(self) -> list[str]:
        return [f"{f.name}: {f.explanation}" for f in self.factors] + [
            f"= {self.amount} (from {self.exact} minor units, rounded half-even once)"
        ]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def price_ticket(
    card: RateCard, skill: str, complexity: str, language: str, at: datetime
) -> Quote | Violation:
    """Price a ticket at moment ``at`` (the service uses the offer/claim time, so the rate shown
    before the claim is the rate paid)."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    base_minor = card.base_minor.get(skill, card.default_base_minor)
    if base_minor is None:
        return Violation(
            "skill_unpriced",
            f"the rate card has no base amount for skill {skill!r}",
            field="rate_card",
            kind="invalid",
            params=(("skill", skill),),
        )
    # The policy refuses all of these; a card saved before it did must not raise here.
    if isinstance(base_minor, bool) or not isinstance(base_minor, int):
        return Violation(
            "amount_not_integer",
            f"the base amount for skill {skill!r} is not a whole number of minor units",
            field="rate_card",
            kind="invalid",
            params=(("skill", skill),),
        )
    if base_minor < 0:
        return Violation(
            "negative_amount", "base amount is negative", field="rate_card", kind="invalid"
        )
    try:
        base = Money(base_minor, card.currency)
    except ValueError:
        return Violation(
            "currency_invalid",
            f"{card.currency!r} is not an ISO 4217 code",
            field="rate_card",
            kind="invalid",
        )
    comp = card.complexity.get(complexity, Decimal(1))
    lang = card.language_premium.get(language, Decimal(1))
    local = at.astimezone(_zone(card.timezone))
    band = next((b for b in card.time_of_day if b.contains(local.time())), None)
    tod = band.multiplier if band is not None else Decimal(1)
    factors = (
        PriceFactor("base", skill, Decimal(base_minor), f"{base} for skill {skill}"),
        PriceFactor("complexity", complexity, comp, f"× {comp} for {complexity} complexity"),
        PriceFactor("language", language, lang, f"× {lang} premium for {language}"),
        PriceFactor(
            "time_of_day",
            band.label if band is not None else "",
            tod,
            f"× {tod} at {local:%H:%M} {card.timezone}"
            + (f" ({band.label})" if band is not None and band.label else ""),
        ),
    )
    try:
        multiplier = comp * lang * tod
        amount = base.times(multiplier)
    except (ArithmeticError, ValueError):  # a NaN (int() refuses it) or an absurd factor
        return Violation(
            "factor_invalid",
            "a rate card multiplier is not usable",
            field="rate_card",
            kind="invalid",
        )
    return Quote(amount, factors, Decimal(base_minor) * multiplier)


# --------------------------------------------------------------------------------------------
# Double-entry ledger
# --------------------------------------------------------------------------------------------

PostingKind = Literal["earning", "reversal", "reward", "payout"]


def brand_payable_account(brand_id: str) -> str:
    return f"brand:{brand_id}:payable"


def expert_earnings_account(expert_id: str) -> str:
    return f"expert:{expert_id}:earnings"


def member_rewards_account(user_id: str, kind: str) -> str:
    """What the brand owes a member for redeemed points: account credit, cash, or a
    donation made in their name (``credit`` | ``cash`` | ``charity``)."""
    return f"member:{user_id}:{kind}"


def post_reward(
    redemption_id: str, brand_id: str, user_id: str, kind: str, amount: Money, at: datetime
) -> PostingSet:
    """Points redeemed at the brand's rate: brand payable −amount, the member's reward
    account +amount (balanced by construction; one set per redemption)."""
    key, correlation = f"reward:{redemption_id}", f"redemption:{redemption_id}"
    memo = f"{kind} for redeemed points"
    rows = (
        Posting(brand_payable_account(brand_id), -amount, "reward", correlation, key, at, memo),
        Posting(member_rewards_account(user_id, kind), amount, "reward", correlation, key, at,
                memo),
    )  # fmt: skip
    return PostingSet(key, correlation, "reward", rows)


@dataclass(frozen=True, slots=True)
class Posting:
    """One ledger row. Positive credits the account, negative debits it."""

    account: str
    amount: Money
    kind: PostingKind
    correlation_key: str  # the ticket id: every row about one ticket shares it
    idempotency_key: str  # one per posting set: "earning:<ticket>" / "reversal:<ticket>"
    at: datetime
    memo: str = ""


@dataclass(frozen=True, slots=True)
class PostingSet:
    idempotency_key: str
    correlation_key: str
    kind: PostingKind
    postings: tuple[Posting, ...]


def earning_key(ticket_id: str) -> str:
    return f"earning:{ticket_id}"


def reversal_key(ticket_id: str) -> str:
    return f"reversal:{ticket_id}"


def post_earning(
    ticket_id: str,
    brand_id: str,
    expert_id: str,
    quote: Quote | Money,
    at: datetime,
    memo: str = "",
) -> PostingSet:
    """Brand payable −amount, expert earnings +amount; balanced by construction."""
    amount = quote.amount if isinstance(quote, Quote) else quote
    key = earning_key(ticket_id)
    rows = (
        Posting(brand_payable_account(brand_id), -amount, "earning", ticket_id, key, at, memo),
        Posting(expert_earnings_account(expert_id), amount, "earning", ticket_id, key, at, memo),
    )
    return PostingSet(key, ticket_id, "earning", rows)


def post_reversal(original: PostingSet, at: datetime, memo: str = "") -> PostingSet:
    """The mirror image of ``original`` as new rows."""
    key = reversal_key(original.correlation_key)
    rows = tuple(
        Posting(p.account, -p.amount, "reversal", p.correlation_key, key, at, memo or p.memo)
        for p in original.postings
    )
    return PostingSet(key, original.correlation_key, "reversal", rows)


def decide_earning(
    ticket_id: str,
    brand_id: str,
    expert_id: str | None,
    escalated: bool,
    quote: Quote | Money,
    existing_keys: Iterable[str],
    at: datetime,
) -> PostingSet | Violation:
    """One earning per ticket, only for an expert's resolution that needed no staff."""
    if expert_id is None or escalated:
        return Violation("no_earning_escalated", "staff resolved this ticket: no earning")
    if earning_key(ticket_id) in set(existing_keys):
        return Violation("earning_exists", "this ticket already has its earning")
    amount = quote.amount if isinstance(quote, Quote) else quote
    if amount.minor < 0:
        return Violation("negative_amount", "an earning cannot be negative", kind="invalid")
    return post_earning(ticket_id, brand_id, expert_id, quote, at)


def decide_reversal(
    ticket_id: str, history: Iterable[Posting], at: datetime, memo: str = ""
) -> PostingSet | Violation:
    """Reverse the ticket's earning once, if there is one."""
    rows = [p for p in history if p.correlation_key == ticket_id]
    if any(p.idempotency_key == reversal_key(ticket_id) for p in rows):
        return Violation("reversal_exists", "this ticket's earning is already reversed")
    earning = tuple(p for p in rows if p.idempotency_key == earning_key(ticket_id))
    if not earning:
        return Violation("no_earning", "there is no earning to reverse")
    return post_reversal(
        PostingSet(earning_key(ticket_id), ticket_id, "earning", earning), at, memo
    )


def balance(postings: Iterable[Posting], account: str | None = None) -> dict[str, Money]:
    """Sum per currency (of one account, or of everything — which is zero when balanced)."""
    totals: dict[str, int] = {}
    for p in postings:
        if account is None or p.account == account:
            totals[p.amount.currency] = totals.get(p.amount.currency, 0) + p.amount.minor
    return {cur: Money(minor, cur) for cur, minor in totals.items()}


def is_balanced(postings: Iterable[Posting]) -> bool:
    return all(m.minor == 0 for m in balance(postings).values())


def validate_posting_set(ps: PostingSet) -> list[Violation]:
    found: list[Violation] = []
    if not is_balanced(ps.postings):
        found.append(Violation("unbalanced", "postings do not sum to zero per currency"))
    if any(p.idempotency_key != ps.idempotency_key for p in ps.postings):
        found.append(Violation("mixed_keys", "postings carry different idempotency keys"))
    if any(p.correlation_key != ps.correlation_key for p in ps.postings):
        found.append(Violation("mixed_correlation", "postings carry different correlation keys"))
    return found


# --------------------------------------------------------------------------------------------
# Settlement: what the brand owes each payee, and paying it
# --------------------------------------------------------------------------------------------
#
# Earnings (experts) and redeemed rewards (members) credit a payee's account; the brand pays
# them outside CrowdCX (a bank transfer, a store credit, a donation) and records it here as a
# payout: the payee's account −amount, the brand payable +amount. So a payee's balance is what
# is still owed, the brand payable is minus everything owed, and the ledger still sums to zero.
# A reversal after a payout can leave a balance below zero: the payee was paid for a ticket
# that ended with staff, and the next earnings make up for it; nothing is paid until then.

REFERENCE_MAX = 60


@dataclass(frozen=True, slots=True)
class Payee:
    """Whom an account belongs to: an expert's earnings or a member's rewards of one kind."""

    account: str
    kind: Literal["expert", "member"]
    user_id: int
    reward_kind: str = ""  # credit | cash | charity, for members


def payee_of(account: str) -> Payee | None:
    """The payee an account names, or None for the brand's own accounts (and anything else)."""
    parts = account.split(":")
    if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit():
        return None
    if parts[0] == "expert" and parts[2] == "earnings":
        return Payee(account, "expert", int(parts[1]))
    if parts[0] == "member" and parts[2] in ("credit", "cash", "charity"):
        return Payee(account, "member", int(parts[1]), parts[2])
    return None


@dataclass(frozen=True, slots=True)
class PayeeBalance:
    """One payee in one currency: ``earned`` is earnings and rewards less reversals, ``paid``
    the payouts so far (a positive amount), ``owed`` what is left to pay (may be < 0)."""

    payee: Payee
    earned: Money
    paid: Money

    @property
    def owed(self) -> Money:
        return self.earned - self.paid

    @property
    def currency(self) -> str:
        return self.earned.currency


def statement(sums: Iterable[tuple[str, str, str, int]]) -> list[PayeeBalance]:
    """Balances from the ledger's sums per ``(account, kind, currency, minor)``: one line per
    payee and currency in the statement's order (:func:`statement_key`), brand accounts left
    out."""
    earned: dict[tuple[str, str], int] = {}
    paid: dict[tuple[str, str], int] = {}
    payees: dict[str, Payee] = {}
    for account, kind, currency, minor in sums:
        payee = payees.get(account) or payee_of(account)
        if payee is None:
            continue
        payees[account] = payee
        key = (account, currency)
        if kind == "payout":
            paid[key] = paid.get(key, 0) - minor  # payouts are debits of the payee's account
            earned.setdefault(key, 0)
        else:
            earned[key] = earned.get(key, 0) + minor
    lines = [
        PayeeBalance(payees[a], Money(minor, c), Money(paid.get((a, c), 0), c))
        for (a, c), minor in earned.items()
    ]
    return sorted(lines, key=statement_key)


# What one posting set moves on the payees' running balances: (account, currency) → (earned,
# paid), as :func:`statement` would sum them. The shell adds these to its ``payee_balances``
# rows in the posting's transaction, so a statement reads one row per payee and currency,
# not their history.
BalanceMoves = dict[tuple[str, str], tuple[int, int]]


def balance_moves(postings: Iterable[Posting]) -> BalanceMoves:
    """How ``postings`` move each payee's earned and paid (payouts are debits of the payee's
    account, so they add to ``paid``); the brand's own accounts are left out. A payee's move
    of zero is kept: their line exists from their first posting, as in :func:`statement`."""
    moves: BalanceMoves = {}
    for p in postings:
        if payee_of(p.account) is None:
            continue
        key = (p.account, p.amount.currency)
        earned, paid = moves.get(key, (0, 0))
        if p.kind == "payout":
            moves[key] = (earned, paid - p.amount.minor)
        else:
            moves[key] = (earned + p.amount.minor, paid)
    return dict(sorted(moves.items()))


def payee_line(account: str, currency: str, earned: int, paid: int) -> PayeeBalance | None:
    """One line of the statement from the ledger's sums of one payee account in one currency
    (``paid`` a positive amount); None for an account that names no payee."""
    payee = payee_of(account)
    if payee is None:
        return None
    return PayeeBalance(payee, Money(earned, currency), Money(paid, currency))


# Where a line stands in the statement: (account, currency). The statement is ordered by
# payee, not by amount owed: a payee's key never changes, so a payout recorded while a
# client walks the pages moves nobody across the cursor — each payee is listed once.
StatementKey = tuple[str, str]


def statement_key(line: PayeeBalance) -> StatementKey:
    return (line.payee.account, line.currency)


def owed_totals(lines: Iterable[PayeeBalance]) -> dict[str, Money]:
    """What the brand owes in all, per currency (a payee paid ahead counts as owed nothing,
    not as a debt that lowers the others')."""
    totals: dict[str, Money] = {}
    for line in lines:
        owed = line.owed if line.owed.minor > 0 else Money.zero(line.currency)
        totals[line.currency] = totals.get(line.currency, Money.zero(line.currency)) + owed
    return totals


_GROUPING = frozenset(" \u00a0\u202f\u2009'")  # 1 234,50 (ru), 1'234.50, thin spaces


AMOUNT_DIGITS_MAX: Final = 64


_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_MINUS = frozenset("-\u2212")  # "-", and the minus sign (full-width "－" is "-" after NFKC)


def is_negative_amount(text: str, currency: str) -> bool:
    """Whether ``text`` is an amount with a minus sign before it: a payout is above zero,
    which is what to tell the person who typed it (not that it is no number)."""
    raw = unicodedata.normalize("NFKC", text).strip()
    return raw[:1] in _MINUS and parse_amount(raw[1:], currency) is not None


def parse_amount(text: str, currency: str) -> Money | None:
    """An amount as people type it, in ``currency``: "12.50", "12,50" (Russian), "1 234,50",
    "1,234.50", "1,000" (a comma before exactly three digits groups them when the currency
    has fewer minor digits), full-width digits "１２．５０" (NFKC) — or None when it is not a
    plain positive or zero number with at most the currency's minor digits (no signs,
    exponents or NaN).

    A number of any length is a number (up to :data:`AMOUNT_DIGITS_MAX` whole digits, more
    than a form field holds): "99999999999999999999" is an amount, refused by
    :func:`decide_payout` as more than is owed, not a typing error. The minor units are
    counted in whole numbers, so no digit is rounded away."""
    raw = "".join(ch for ch in unicodedata.normalize("NFKC", text).strip() if ch not in _GROUPING)
    raw = raw.replace("。", ".")
    if "," in raw and "." in raw:  # 1,234.50: the comma groups thousands
        if raw.rfind(",") > raw.rfind("."):
            return None
        raw = raw.replace(",", "")
    elif _THOUSANDS.fullmatch(raw) and minor_exponent(currency) < 3:
        raw = raw.replace(",", "")  # 1,000: a comma before exactly three digits groups them
    elif raw.count(",") == 1:  # 12,50: a decimal comma
        raw = raw.replace(",", ".")
    whole, _dot, fraction = raw.partition(".")
    whole = whole or ("0" if fraction else "")  # ".5", but not "." alone
    if not whole.isascii() or not whole.isdigit() or len(whole) > AMOUNT_DIGITS_MAX:
        return None
    if fraction and (not fraction.isascii() or not fraction.isdigit()):
        return None
    exponent = minor_exponent(currency)
    if len(fraction) > exponent:
        return None
    return Money(int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or 0), currency)


def clean_reference(reference: str) -> str:
    """A payout's reference as it is keyed: NFKC (full-width "ＴＸ－００４２" pasted from a
    bank statement is "TX-0042") and trimmed, so one transfer is one payout however typed."""
    return unicodedata.normalize("NFKC", reference).strip()


def payout_key(account: str, reference: str) -> str:
    """One payout per payee and reference: the same transfer recorded twice is one payout."""
    return f"payout:{account}:{reference}"


def decide_payout(
    brand_id: str, balance: PayeeBalance, amount: Money, reference: str, at: datetime
) -> PostingSet | Violation:
    """Record that the brand paid ``amount`` of what it owes ``balance``'s payee: never more
    than is owed, never nothing, in the currency it is owed in, under a reference (the bank
    transfer's, say) that makes recording it twice harmless."""
    ref = clean_reference(reference)
    if not ref or len(ref) > REFERENCE_MAX or any(not ch.isprintable() for ch in ref):
        return Violation(
            "payout_reference", "a payout needs a reference of 1–60 printable characters",
            field="reference", kind="invalid",
        )  # fmt: skip
    if amount.currency != balance.currency:
        return Violation(
            "payout_currency", f"this payee is owed {balance.currency}, not {amount.currency}",
            field="amount", kind="invalid", params=(("currency", balance.currency),),
        )  # fmt: skip
    if amount.minor <= 0:
        return Violation(
            "payout_amount", "a payout must be more than zero", field="amount", kind="invalid"
        )
    if amount.minor > balance.owed.minor:
        return Violation(
            "payout_exceeds_owed", f"only {balance.owed} is owed", field="amount",
            params=(("owed", str(balance.owed)),),
        )  # fmt: skip
    key = payout_key(balance.payee.account, ref)
    correlation = f"payout:{balance.payee.account}"
    memo = f"paid: {ref}"
    rows = (
        Posting(balance.payee.account, -amount, "payout", correlation, key, at, memo),
        Posting(brand_payable_account(brand_id), amount, "payout", correlation, key, at, memo),
    )
    return PostingSet(key, correlation, "payout", rows)


# --------------------------------------------------------------------------------------------
# Effective hourly rate
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One paid ticket. ``periods``, when known, are the stretches it was worked (see
    :func:`worked_periods`); without them the time is claim → last resolution."""

    earned: Money
    claimed_at: datetime
    resolved_at: datetime
    periods: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def seconds(self) -> float:
        if self.periods:
            return sum((end - start).total_seconds() for start, end in self.periods)
        return (self.resolved_at - self.claimed_at).total_seconds()

    @property
    def counted_us(self) -> int:
        """The microseconds it counts in the hourly rate (at least a minute, as in
        :func:`effective_hourly_rate`): whole numbers, so running sums of them add exactly."""
        spans = self.periods or ((self.claimed_at, self.resolved_at),)
        worked = sum((end - start) // _MICROSECOND for start, end in spans)
        return max(worked, MIN_US_PER_TICKET)


WORK_STARTS: Final = frozenset({"claim", "reopen"})
WORK_ENDS: Final = frozenset({"resolve", "escalate"})


def worked_periods(
    history: Iterable[tuple[str, datetime]],
) -> tuple[tuple[datetime, datetime], ...]:
    """The stretches a ticket was being worked, from its history in order (action, moment):
    from a claim or a reopen to the next resolution or escalation. The days a ticket sat
    resolved before its customer reopened it are nobody's work."""
    periods: list[tuple[datetime, datetime]] = []
    started: datetime | None = None
    for action, at in history:
        if action in WORK_STARTS and started is None:
            started = at
        elif action in WORK_ENDS and started is not None:
            periods.append((started, at))
            started = None
    return tuple(periods)


@dataclass(frozen=True, slots=True)
class HourlyRate:
    per_hour: Money
    total: Money
    seconds: float
    tickets: int


MIN_SECONDS_PER_TICKET: Final = 60.0  # a 3-second resolution must not claim an absurd rate
MIN_US_PER_TICKET: Final = 60_000_000
_MICROSECOND: Final = timedelta(microseconds=1)


def effective_hourly_rate(items: Iterable[WorkItem]) -> dict[str, HourlyRate]:
    """Earnings ÷ time worked (claim → resolve, and reopen → resolve again), per currency.
    Each ticket counts at least a minute."""
    totals: dict[str, tuple[int, float, int]] = {}
    for it in items:
        secs = max(it.seconds, MIN_SECONDS_PER_TICKET)
        minor, seconds, n = totals.get(it.earned.currency, (0, 0.0, 0))
        totals[it.earned.currency] = (minor + it.earned.minor, seconds + secs, n + 1)
    out: dict[str, HourlyRate] = {}
    for cur, (minor, seconds, n) in totals.items():
        total = Money(minor, cur)
        per_hour = total.times(Decimal(3600) / Decimal(repr(seconds)))
        out[cur] = HourlyRate(per_hour, total, seconds, n)
    return out


# What the hourly rate of one payee sums, per currency: (earned minor units, counted
# microseconds, tickets) over their paid tickets not reversed — kept as running sums by the
# shell (``work_totals``), moved as each ticket's :attr:`WorkItem.counted_us` and earning
# come and go, so a view reads a row per currency, not the payee's history.
WorkSums = Mapping[str, tuple[int, int, int]]


def hourly_from_sums(sums: WorkSums) -> dict[str, HourlyRate]:
    """:func:`effective_hourly_rate` from running sums: the same rate to the minor unit when
    the tickets' times are whole seconds (and, beyond them, but for the last bit of a float
    sum of fractions of a second); a currency with no ticket left has none."""
    out: dict[str, HourlyRate] = {}
    for cur, (minor, micros, n) in sorted(sums.items()):
        if n <= 0 or micros <= 0:
            continue
        seconds = micros / 1_000_000
        total = Money(minor, cur)
        per_hour = total.times(Decimal(3600) / Decimal(repr(seconds)))
        out[cur] = HourlyRate(per_hour, total, seconds, n)
    return out
