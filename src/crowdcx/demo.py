"""Demo data: two brands (one Chinese-first, one Russian/English), a person in every role,
sample text in all four languages and a community with questions and answers. Loading it
twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from crowdcx.identity import service as identity
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy
from crowdcx.tenancy.models import Brand, Membership
from crowdcx.tickets import service as tickets

DEMO_PASSWORD = "crowdcx-demo-2026"  # noqa: S105 — printed by `make run`; demo only


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    locale: str
    brand: str | None
    roles: tuple[str, ...]
    platform_admin: bool = False
    # Expert profile: skills with proficiency, languages, tier.
    expert: tuple[dict[str, int], tuple[str, ...], int] | None = None


BRANDS = [
    {
        "slug": "lumen",
        "name": "Lumen 光影电子",
        "default_locale": "zh-Hans",
        "locales": ["zh-Hans", "zh-Hant", "en"],
        "settings": {
            "primary_color": "#b3261e",
            "accent_color": "#fdeceb",
            "timezone": "Asia/Shanghai",
            "currency": "CNY",
            "tagline": {
                "zh-Hans": "智能家居与耳机：自助解答、社区互助、专家一对一。",
                "zh-Hant": "智慧家居與耳機：自助解答、社群互助、專家一對一。",
                "en": "Smart home and headphones: self-service, community and one-to-one experts.",
            },
        },
    },
    {
        "slug": "volga",
        "name": "Volga Telecom",
        "default_locale": "ru",
        "locales": ["ru", "en"],
        "settings": {
            "primary_color": "#0b5394",
            "accent_color": "#e6eef7",
            "timezone": "Europe/Moscow",
            "currency": "RUB",
            "tagline": {
                "ru": "Мобильная связь и интернет: ответы, сообщество и эксперты 24/7.",
                "en": "Mobile and internet: answers, community and experts around the clock.",
            },
        },
    },
]

USERS = [
    DemoUser("admin@crowdcx.example", "Platform Admin", "en", None, (), platform_admin=True),
    DemoUser("li.wei@lumen.example", "李伟", "zh-Hans", "lumen", ("customer",)),
    DemoUser("chen.mei@lumen.example", "陳美", "zh-Hant", "lumen", ("helper",)),
    DemoUser(
        "zhang.expert@lumen.example",
        "张专家",
        "zh-Hans",
        "lumen",
        ("expert", "helper"),
        expert=({"general": 5, "orders": 4}, ("zh-Hans", "zh-Hant", "en"), 1),
    ),
    DemoUser("wang.agent@lumen.example", "王客服", "zh-Hans", "lumen", ("agent",)),
    DemoUser("wu.fang@lumen.example", "吴芳", "zh-Hans", "lumen", ("customer",)),
    DemoUser("lin.yu@lumen.example", "林語", "zh-Hant", "lumen", ("customer",)),
    DemoUser("admin@lumen.example", "Lumen 管理员", "zh-Hans", "lumen", ("brand_admin",)),
    DemoUser("ivan@volga.example", "Иван Петров", "ru", "volga", ("customer",)),
    DemoUser("olga@volga.example", "Ольга Смирнова", "ru", "volga", ("helper",)),
    DemoUser(
        "sergey.expert@volga.example",
        "Сергей Эксперт",
        "ru",
        "volga",
        ("expert", "helper"),
        expert=({"general": 5, "orders": 3}, ("ru", "en"), 2),
    ),
    DemoUser("anna.agent@volga.example", "Anna Agent", "en", "volga", ("agent",)),
    DemoUser("nina@volga.example", "Нина Орлова", "ru", "volga", ("customer",)),
    DemoUser("john@volga.example", "John Smith", "en", "volga", ("customer",)),
    DemoUser("dmitry@volga.example", "Дмитрий Волков", "ru", "volga", ("helper",)),
    DemoUser("maria@volga.example", "Мария Козлова", "ru", "volga", ("helper",)),
    DemoUser("alexey@volga.example", "Алексей Новиков", "ru", "volga", ("helper",)),
    DemoUser("spam@volga.example", "Быстрые Деньги", "ru", "volga", ("customer",)),
    DemoUser("admin@volga.example", "Volga Admin", "en", "volga", ("brand_admin",)),
]


def load(
    db: Database,
    hash_profile: str = "default",
    progress: Callable[[str], None] | None = None,
    *,
    history: bool = True,
) -> list[DemoUser]:
    """Create what is missing; leave what exists alone."""
    step = progress or (lambda _msg: None)
    with db.transaction() as uow:
        for spec in BRANDS:
            if uow.session.scalar(select(Brand.id).where(Brand.slug == spec["slug"])) is None:
                tenancy.create_brand(uow, **spec)  # type: ignore[arg-type]
                ctx = tenancy.access_brand(uow.session, str(spec["slug"]), None)
                tickets.set_policy(uow, ctx, {}, utcnow())  # the defaults, in the brand's currency
            step(f"brand {spec['slug']}")
    for person in USERS:
        with db.transaction() as uow:
            user = uow.session.scalar(select(User).where(User.email == person.email))
            if user is None:
                user = identity.register(
                    uow,
                    email=person.email,
                    password=DEMO_PASSWORD,
                    display_name=person.name,
                    locale=person.locale,
                    hash_profile=hash_profile,
                    platform_admin=person.platform_admin,
                )
            if person.brand:
                ctx = tenancy.access_brand(uow.session, person.brand, None)
                member = uow.session.scalar(
                    select(Membership.id).where(
                        Membership.brand_id == ctx.brand.id, Membership.user_id == user.id
                    )
                )
                if member is None:
                    tenancy.add_member(uow, ctx, person.email, person.roles)
                if person.expert and tickets.expert_row(uow.session, ctx, user.id) is None:
                    skills, languages, tier = person.expert
                    ctx = tenancy.access_brand(uow.session, person.brand, None)
                    tickets.upsert_expert(
                        uow,
                        ctx,
                        user.id,
                        skills=skills,
                        languages=languages,
                        tier=tier,
                        certifications=[],
                        now=utcnow(),
                    )
        step(f"user {person.email}")
    _load_articles(db)
    step("articles")
    from crowdcx.community import demo_content

    demo_content.load(db)
    step("community")
    if history:  # through the real use cases: ~20 s on a first `make run`
        from crowdcx.tickets import demo_history

        for slug, per_day in (("lumen", 8.0), ("volga", 5.0)):
            demo_history.load(db, slug, per_day)
        step("ticket history")
    return USERS


def _load_articles(db: Database) -> None:
    """Publish the demo help-center articles of a brand that has none yet."""
    from crowdcx.knowledge import rules as kb_rules
    from crowdcx.knowledge import service as kb
    from crowdcx.knowledge.demo_content import ARTICLES, GROUPS
    from crowdcx.knowledge.models import Article

    with db.transaction() as uow:
        admin = uow.session.scalar(
            select(User).where(User.is_platform_admin.is_(True)).order_by(User.id).limit(1)
        )
        if admin is None:
            return
        for slug, articles in ARTICLES.items():
            ctx = tenancy.access_brand(uow.session, slug, admin)
            if uow.session.scalar(select(Article.id).where(Article.brand_id == ctx.brand.id)):
                continue
            rows = []
            for i, (language, title, body, tags, visibility) in enumerate(articles):
                draft = kb_rules.validate_draft(title, body, language, tags, visibility)
                assert isinstance(draft, kb_rules.Draft), draft
                rows.append((f"demo {i}", draft, None))
            summary = kb.import_drafts(uow, ctx, rows, utcnow(), publish=True)
            for group in GROUPS.get(slug, []):
                ids = [summary.article_ids[i] for i in group]
                for article_id in ids[1:]:
                    article = uow.session.get(Article, article_id)
                    if article is not None:
                        article.group_id = ids[0]
