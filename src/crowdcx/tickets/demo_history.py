"""Four weeks of demo ticket history, so that a fresh `make run` shows insights, a capacity
plan (with the experts' presence: four-hour shifts most days) and payouts with something in
them. Every ticket goes through the real use cases
(intake, claim, reply, escalate, resolve, rate, confirm) at back-dated moments, so the
history, the ledger, the ratings and the search index are what the product would have
written. Deterministic (a seeded generator) and loaded once per brand (skipped when the
brand has any ticket)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy
from crowdcx.tenancy.models import Membership, MembershipRole
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets import service as tickets
from crowdcx.tickets.models import TicketRow

DAYS = 28
# Relative weight of each local hour: quiet at night, a lunch bump, an evening peak.
HOURLY = (1, 1, 0, 0, 0, 0, 1, 2, 3, 4, 4, 5, 6, 5, 4, 4, 5, 6, 8, 9, 9, 7, 4, 2)

SUBJECTS = {
    "lumen": [
        ("耳机无法连接蓝牙", "耳机昨天开始连不上手机，重新配对也不行。", "zh-Hans"),
        ("订单一直显示待发货", "三天前下的单，还没有发货，什么时候能到？", "zh-Hans"),
        ("退货运费谁承担", "收到的音箱有杂音，想退货，运费怎么算？", "zh-Hans"),
        ("充電盒充不進電", "耳機的充電盒插上線後指示燈不亮。", "zh-Hant"),
        ("發票抬頭寫錯了", "電子發票的抬頭需要改成公司名稱。", "zh-Hant"),
        ("Speaker keeps disconnecting", "My speaker drops the Wi-Fi connection every hour.", "en"),
    ],
    "volga": [
        ("Не работает мобильный интернет", "После обновления телефона пропал 4G.", "ru"),
        ("Списали деньги за подписку", "Я не подключал эту подписку, верните деньги.", "ru"),
        ("Как перенести номер", "Хочу перейти к вам со своим номером. Что нужно?", "ru"),
        ("Роуминг не включается", "Я в Казахстане, а интернет в роуминге не работает.", "ru"),
        ("eSIM activation fails", "The QR code says the profile cannot be downloaded.", "en"),
    ],
}
REPLIES = {
    "lumen": "您好，请在手机设置里忘记此设备后重新配对；如果仍有问题，我帮您安排换货。",
    "volga": "Здравствуйте! Перезагрузите телефон и проверьте точку доступа internet.volga.",
}
COMMENTS = ["很快就解决了，谢谢！", "Спасибо, всё заработало.", "", "", "Helpful and quick."]


def _moments(rng: random.Random, zone: ZoneInfo, now: datetime, per_day: float) -> list[datetime]:
    """Arrival moments over the last DAYS days, shaped by HOURLY in the brand's zone."""
    out: list[datetime] = []
    weight = sum(HOURLY)
    local_now = now.astimezone(zone)
    for day in range(DAYS, 0, -1):
        base = (local_now - timedelta(days=day)).replace(minute=0, second=0, microsecond=0)
        busier = 1.5 if base.weekday() >= 5 else 1.0  # weekends bring more
        for hour, w in enumerate(HOURLY):
            expected = per_day * busier * w / weight
            n = int(expected) + (rng.random() < expected - int(expected))
            for _ in range(n):
                at = base.replace(hour=hour) + timedelta(minutes=rng.uniform(0, 59))
                out.append(at.astimezone(ZoneInfo("UTC")))
    return sorted(out)


def load(db: Database, slug: str, per_day: float, seed: int = 2026) -> int:
    """Write the brand's history unless it has tickets already; how many were written."""
    rng = random.Random(f"{seed}:{slug}")
    now = utcnow()
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, slug, None)
        if uow.session.scalar(ctx.scoped(TicketRow, select(func.count(TicketRow.id)))):
            return 0
        zone = ZoneInfo(str(ctx.brand.settings.get("timezone") or "UTC"))
        people = {
            role: list(
                uow.session.scalars(
                    select(User)
                    .join(Membership, Membership.user_id == User.id)
                    .join(MembershipRole)
                    .where(
                        Membership.brand_id == ctx.brand.id,
                        MembershipRole.role == role,
                    )
                    .order_by(User.id)
                )
            )
            for role in ("customer", "expert", "agent")
        }
    customers = [u for u in people["customer"] if u.email.split("@")[0] in HISTORY_CUSTOMERS]
    if not customers or not people["expert"] or not people["agent"]:
        return 0
    written = 0
    shifts = _shifts(rng, zone, now, people["expert"])
    on_shift: set[int] = set()

    def shifts_until(moment: datetime) -> None:
        # The experts' shifts through the real availability switch: presence history.
        while shifts and shifts[0][0] <= moment:
            when, online, expert = shifts.pop(0)
            with db.transaction() as uow:
                ctx = tenancy.access_brand(uow.session, slug, expert)
                tickets.set_availability(uow, ctx, expert, online, when)
            (on_shift.add if online else on_shift.discard)(expert.id)

    for at in _moments(rng, zone, now, per_day):
        shifts_until(at)
        subject, body, language = rng.choice(SUBJECTS[slug])
        working = [e for e in people["expert"] if e.id in on_shift]
        customer, expert = rng.choice(customers), rng.choice(working or people["expert"])
        agent = rng.choice(people["agent"])
        wait = timedelta(minutes=rng.choice([3, 8, 15, 25, 40, 70, 120, 300]))
        work = timedelta(minutes=rng.uniform(10, 90))
        with db.transaction() as uow:

            def as_(user: User) -> tenancy.BrandContext:
                return tenancy.access_brand(uow.session, slug, user)

            # Off shift, the expert comes online when it arrives (push: it is offered to
            # them), takes it within a minute and goes offline again.
            if not working:
                tickets.set_availability(uow, as_(expert), expert, True, at)
            row = tickets.create_ticket(
                uow, as_(customer), customer,
                tickets.Intake(subject, body, "general", language), at,
            )  # fmt: skip
            tid = row.id
            if row.offered_to is not None and row.offered_to in on_shift:
                expert = next(e for e in working if e.id == row.offered_to)
            tickets.claim(uow, as_(expert), expert, tid, at + timedelta(minutes=1))
            if not working:
                tickets.set_availability(uow, as_(expert), expert, False, at + timedelta(minutes=1))
            tickets.post_message(uow, as_(expert), expert, tid, REPLIES[slug], False, at + wait)
            done = at + wait + work
            if rng.random() < 0.15:  # the expert hands it to staff, who resolve it
                tickets.act(uow, as_(expert), expert, tid, lifecycle.Action.ESCALATE, done,
                            "needs a refund decision")  # fmt: skip
                done += timedelta(hours=rng.uniform(1, 6))
                tickets.act(uow, as_(agent), agent, tid, lifecycle.Action.RESOLVE, done)
            else:
                tickets.act(uow, as_(expert), expert, tid, lifecycle.Action.RESOLVE, done)
            if done + timedelta(hours=1) < now and rng.random() < 0.7:
                csat = rng.choices([5, 4, 3, 2, 1], weights=[55, 25, 10, 6, 4])[0]
                nps = rng.choice([None, 10, 9, 9, 8, 7, 6, 3])
                tickets.rate(uow, as_(customer), customer, tid, csat, nps,
                             rng.choice(COMMENTS), done + timedelta(hours=1))  # fmt: skip
                tickets.act(uow, as_(customer), customer, tid, lifecycle.Action.CONFIRM,
                            done + timedelta(hours=1, minutes=5))  # fmt: skip
        written += 1
    shifts_until(now)  # every shift ended yesterday at the latest: the experts start offline
    return written


def _shifts(
    rng: random.Random, zone: ZoneInfo, now: datetime, experts: list[User]
) -> list[tuple[datetime, bool, User]]:
    """Each expert's four-hour shifts over the last DAYS days, most days, starting in the
    day's busier hours: (moment, going online, expert), in time order."""
    out: list[tuple[datetime, bool, User]] = []
    local_now = now.astimezone(zone)
    for day in range(DAYS, 0, -1):
        base = (local_now - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        for expert in experts:
            if rng.random() < 0.25:  # a day off
                continue
            start = base + timedelta(hours=rng.choice(SHIFT_STARTS), minutes=rng.choice((0, 30)))
            end = start + timedelta(hours=4)
            out += [(start.astimezone(UTC), True, expert), (end.astimezone(UTC), False, expert)]
    return sorted(out, key=lambda e: (e[0], e[1]))


SHIFT_STARTS = (8, 9, 10, 12, 14, 17, 18)  # local hours


# The demo customers whose past tickets make the history (the others start with none).
HISTORY_CUSTOMERS = ("wu.fang", "lin.yu", "nina", "john")
