"""The deflection count's statement, the rule's two cases as two NOT EXISTS
(search.service.separate_marks), gives the answer the one NOT EXISTS over both gave
(tests/knowledge/deflection_reference.py) and search.rules.separate_cases gives, on random
rows where each customer has many deflected tickets (the rewrite's point: a mark is paired
only with the deflections that may match it): tickets naming an article, a question or
nothing, marks by their customers, by others, anonymous and unattributed, around UTC
midnights, and a visitor key whose number is the customer's but whose text is not."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from crowdcx.kernel.db import Database
from crowdcx.knowledge.models import SearchEvent
from crowdcx.search import rules
from crowdcx.search.service import separate_marks
from crowdcx.tenancy.service import access_brand
from crowdcx.tickets.models import TicketDeflectionRow, TicketRow
from tests.conftest import World
from tests.knowledge.deflection_reference import one_exists

REFS = [("article", "1"), ("article", "2"), ("question", "3")]


def _seed(db: Database, slug: str, customers: list[int], seed: int) -> tuple[
    list[rules.SolvedMark], list[rules.DeflectedCase]
]:  # fmt: skip
    rnd = random.Random(seed)
    base = datetime(2026, 11, 20, tzinfo=UTC)
    marks: list[rules.SolvedMark] = []
    cases: list[rules.DeflectedCase] = []
    with db.transaction() as uow:
        s = uow.session
        brand_id = access_brand(s, slug, None).brand.id
        for i in range(90):
            who = rnd.choice(customers)
            opened = base + timedelta(minutes=rnd.randrange(8 * 1440))
            at = opened + timedelta(minutes=rnd.randrange(2 * 1440))
            solved_by = rnd.choice([None, *REFS])
            t = TicketRow(
                brand_id=brand_id, customer_id=who, subject=f"t{seed}-{i}", body="b",
                status="deflected", created_at=opened, case_started_at=opened,
                language="zh-Hans", skill="general", customer_fields={}, rung=[],
            )  # fmt: skip
            s.add(t)
            s.flush()
            s.add(TicketDeflectionRow(brand_id=brand_id, ticket_id=t.id, at=at,
                                      kind=solved_by[0] if solved_by else None,
                                      ref_id=int(solved_by[1]) if solved_by else None))  # fmt: skip
            cases.append(rules.DeflectedCase(f"u:{who}", opened, at, solved_by))
        # Marks near the deflections (the same day, just before or after midnight) and anywhere.
        near = [c.at + timedelta(minutes=rnd.randrange(-1440, 1440)) for c in cases]
        for i in range(400):
            visitor = rnd.choice(
                [*(f"u:{c}" for c in customers)] * 3 + [f"u:0{customers[0]}", "a:somebody", None]
            )
            kind, ref = rnd.choice(REFS)
            if rnd.random() < 0.6:
                at = rnd.choice(near)
            else:
                at = base + timedelta(minutes=rnd.randrange(11 * 1440))
            at = at.replace(hour=rnd.choice([0, 23, at.hour]))
            s.add(SearchEvent(brand_id=brand_id, event="solved", source="help", kind=kind,
                              ref_id=ref, visitor=visitor, created_at=at,
                              day=f"{seed}-{i}" if visitor else None))  # fmt: skip
            marks.append(rules.SolvedMark(visitor, kind, ref, at))
        uow.commit()
    return marks, cases


def test_two_not_exists_count_what_one_counted_on_random_rows(world: World, db: Database) -> None:
    slug = world.brand("defl-count")
    customers = [world.member(slug, ["customer"], f"顾客{i}").id for i in range(3)]
    marks, cases = _seed(db, slug, customers, 34)
    base = datetime(2026, 11, 20, tzinfo=UTC)
    # Both of the rule's cases occur, so a statement missing either one counts differently.
    for named in (False, True):
        assert any(
            rules.same_case(m, c) for m in marks for c in cases if (c.solved_by is None) != named
        ), named
    with db.sessions() as session:
        brand_id = access_brand(session, slug, None).brand.id
        for since in [base, *(base + timedelta(days=d, hours=h) for d, h in
                              ((1, 0), (2, 7), (4, 23), (7, 12), (10, 0)))]:  # fmt: skip
            now = session.scalar(separate_marks(session, brand_id, since))
            before = session.scalar(one_exists(session, brand_id, since))
            rule = rules.separate_cases(
                [m for m in marks if m.at >= since],
                [c for c in cases if c.at >= since - timedelta(days=1)],
            )
            assert (now, before) == (rule, rule), since
            assert 0 < rule <= sum(m.at >= since for m in marks), since


def test_the_count_reads_only_its_own_brand(world: World, db: Database) -> None:
    """A second brand's marks and deflections by the same customers change nothing."""
    first, second = world.brand("defl-one"), world.brand("defl-two")
    customers = [world.member(first, ["customer"], f"顾客{i}").id for i in range(2)]
    marks, cases = _seed(db, first, customers, 7)
    _seed(db, second, customers, 8)
    since = datetime(2026, 11, 1, tzinfo=UTC)
    with db.sessions() as session:
        brand_id = access_brand(session, first, None).brand.id
        assert session.scalar(separate_marks(session, brand_id, since)) == rules.separate_cases(
            marks, cases
        )
