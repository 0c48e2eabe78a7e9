"""Demo community: communities per brand, veterans whose reputation was imported from an
earlier forum (so someone can vote, flag and review from the first minute), and a few real
questions and answers in the brands' languages, created through the same use cases."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowdcx.community import service
from crowdcx.community.models import CommunityRow
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.reputation import rules as rep
from crowdcx.reputation import service as points
from crowdcx.tenancy import service as tenancy

# slug -> [(slug, name, description, closed)]
COMMUNITIES: dict[str, list[tuple[str, str, str, bool]]] = {
    "volga": [
        ("mobile", "Мобильная связь", "SIM, eSIM, роуминг, мобильный интернет и тарифы.", False),
        ("home-internet", "Домашний интернет", "Роутеры, Wi-Fi, подключение и скорость.", False),
    ],
    "lumen": [
        ("audio", "耳机与音箱", "蓝牙连接、音质、固件升级。", False),
        ("orders", "订单与配送", "下单、发货、退换货。", False),
    ],
}

# Reputation imported from the brand's previous forum: email -> points.
IMPORTED: dict[str, dict[str, int]] = {
    "volga": {
        "dmitry@volga.example": 620,
        "maria@volga.example": 580,
        "alexey@volga.example": 540,
        "olga@volga.example": 125,
    },
    "lumen": {"chen.mei@lumen.example": 300, "zhang.expert@lumen.example": 900},
}

# (community, asker, title, body, tags, [(answerer, body, accepted, approved, upvoters)])
QA: dict[
    str, list[tuple[str, str, str, str, list[str], list[tuple[str, str, bool, bool, list[str]]]]]
] = {
    "volga": [
        (
            "mobile",
            "ivan@volga.example",
            "Не работает мобильный интернет в роуминге",
            "В Казахстане телефон видит сеть, звонки идут, а интернета нет.",
            ["роуминг"],
            [
                (
                    "dmitry@volga.example",
                    "Включите **передачу данных в роуминге** в настройках телефона и проверьте, "
                    "что "
                    "услуга «Интернет за границей» подключена в личном кабинете.",
                    True,
                    False,
                    ["maria@volga.example", "alexey@volga.example"],
                )
            ],
        ),
        (
            "home-internet",
            "ivan@volga.example",
            "Роутер теряет Wi-Fi каждый вечер",
            "С 20:00 до 23:00 Wi-Fi пропадает на всех устройствах.",
            ["wi-fi", "роутер"],
            [
                (
                    "olga@volga.example",
                    "Скорее всего, соседние сети на том же канале. Переключите роутер на 5 ГГц "
                    "или выберите свободный канал 1, 6 или 11.",
                    False,
                    True,
                    ["maria@volga.example"],
                )
            ],
        ),
        (
            "mobile",
            "maria@volga.example",
            "Как перенести номер на eSIM?",
            "Хочу перейти с пластиковой SIM на eSIM без визита в салон.",
            ["esim"],
            [],
        ),
    ],
    "lumen": [
        (
            "audio",
            "li.wei@lumen.example",
            "耳机升级固件后左耳没有声音",
            "昨天升级了固件，之后左耳完全没有声音。",
            ["固件", "蓝牙"],
            [
                (
                    "chen.mei@lumen.example",
                    "把兩隻耳機放回充電盒，長按按鈕 15 秒重置，再重新配對即可。",
                    True,
                    True,
                    ["zhang.expert@lumen.example"],
                )
            ],
        ),
        (
            "orders",
            "li.wei@lumen.example",
            "订单显示已发货但三天没有物流信息",
            "订单号 LM-2026-1128，物流一直没有更新。",
            ["物流"],
            [],
        ),
    ],
}


def load(db: Database, now: datetime | None = None) -> None:
    """Create the demo community of a brand that has no community yet."""
    at = now or utcnow()
    with db.transaction() as uow:
        admin = uow.session.scalar(
            select(User).where(User.is_platform_admin.is_(True)).order_by(User.id).limit(1)
        )
        if admin is None:
            return
        users = {u.email: u for u in uow.session.scalars(select(User))}
        for slug, communities in COMMUNITIES.items():
            ctx = tenancy.access_brand(uow.session, slug, admin)
            if uow.session.scalar(
                select(CommunityRow.id).where(CommunityRow.brand_id == ctx.brand.id)
            ):
                continue
            for c_slug, name, description, closed in communities:
                service.create_community(uow, ctx, c_slug, name, description, closed)
            start = at - timedelta(days=400)
            points.write(
                uow, ctx,
                [rep.PointsEntry(users[email].id, ctx.brand.id, pts, "adjustment",
                                 rep.SubjectRef("user", users[email].id), start,
                                 f"demo:imported:{users[email].id}")
                 for email, pts in IMPORTED.get(slug, {}).items() if email in users],
            )  # fmt: skip
            for i, (community, asker, title, body, tags, answers) in enumerate(QA.get(slug, [])):
                when = at - timedelta(days=3 - i, hours=2)
                actx = tenancy.access_brand(uow.session, slug, users[asker])
                comm = service.community_by(uow.session, actx, community)
                q = service.ask(uow, actx, comm, title, body, None, tags, when)
                for j, (who, text, accepted, approved, upvoters) in enumerate(answers):
                    t = when + timedelta(hours=1 + j)
                    hctx = tenancy.access_brand(uow.session, slug, users[who])
                    a = service.answer(uow, hctx, q, text, t)
                    for k, voter in enumerate(upvoters):
                        vctx = tenancy.access_brand(uow.session, slug, users[voter])
                        service.vote(uow, vctx, a, 1, t + timedelta(minutes=5 + k))
                    if accepted:
                        service.accept(uow, actx, q, a.id, t + timedelta(minutes=30))
                    if approved:
                        service.approve(uow, ctx, a, t + timedelta(minutes=40))
