"""Answer ranking on real data: how often does an ordering put the accepted answer first?

Data: the Stack Exchange dump of quantumcomputing.stackexchange.com in
``<datasets>/stackexchange_quantumcomputing`` (read in place, never copied). Construction as in
``search-baselines.md`` ("stackexchange answer ranking"): questions whose AcceptedAnswerId is
among their answers and that have >= 2 answers. Up / down votes are VoteTypeId 2 / 3 in
Votes.xml (no voter ids); the accept is VoteTypeId 1. "Before the accept day" keeps only votes
dated strictly before the day of the accept vote (vote dates are day-granular).

Orderings compared, all ignoring the accepted flag (and brand approval, which the dump lacks):

* raw score: net votes, a tie at the top shares the credit (1/k);
* Wilson only: Wilson lower bound (z = 1.96), ties at the top share the credit;
* CrowdCX order: ``crowdcx.community.rules.order_answers(use_flags=False)`` — Wilson, then
  net score, then earliest answer, then id; it never ties, so credit is 0 or 1;
* chance: 1 / number of answers.

Usage: .venv/bin/python bench/answer_ranking.py [--datasets ../shared/datasets] [--write]
"""

from __future__ import annotations

import argparse
import gzip
import platform
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from crowdcx.community.rules import (  # noqa: E402
    AnswerState,
    order_answers,
    wilson_lower_bound,
)

DATASET = "stackexchange_quantumcomputing"


def rows(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for _, elem in ET.iterparse(fh):  # noqa: S314 - a local, trusted dump
            if elem.tag == "row":
                yield dict(elem.attrib)
                elem.clear()


def find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.xml.gz", folder / f"{name}.xml"):
        if candidate.exists():
            return candidate
    return None


def parse_dt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Answer:
    id: int
    created_at: datetime
    score: int
    votes: list[tuple[date, int]] = field(default_factory=list)  # (day, +1 | -1)

    def tally(self, before: date | None) -> tuple[int, int]:
        up = down = 0
        for day, value in self.votes:
            if before is not None and day >= before:
                continue
            if value > 0:
                up += 1
            else:
                down += 1
        return up, down


@dataclass
class Question:
    id: int
    accepted_id: int
    answers: list[Answer]
    accept_day: date | None = None


def load(folder: Path) -> tuple[list[Question], dict[str, object]]:
    posts_path = find(folder, "Posts")
    votes_path = find(folder, "Votes")
    if posts_path is None:
        raise SystemExit(f"no Posts.xml(.gz) in {folder}")
    accepted: dict[int, int] = {}
    answers: dict[int, list[Answer]] = {}
    by_id: dict[int, Answer] = {}
    for r in rows(posts_path):
        if r.get("PostTypeId") == "1" and r.get("AcceptedAnswerId"):
            accepted[int(r["Id"])] = int(r["AcceptedAnswerId"])
        elif r.get("PostTypeId") == "2":
            a = Answer(int(r["Id"]), parse_dt(r["CreationDate"]), int(r.get("Score", "0")))
            answers.setdefault(int(r["ParentId"]), []).append(a)
            by_id[a.id] = a
    accept_day: dict[int, date] = {}
    info: dict[str, object] = {
        "posts": posts_path.name,
        "votes": votes_path.name if votes_path else None,
    }
    if votes_path is not None:
        for r in rows(votes_path):
            kind, post_id = r.get("VoteTypeId"), int(r["PostId"])
            day = parse_dt(r["CreationDate"]).date()
            if kind == "1":
                accept_day[post_id] = min(day, accept_day.get(post_id, day))
            elif kind in ("2", "3") and post_id in by_id:
                by_id[post_id].votes.append((day, 1 if kind == "2" else -1))
    questions = []
    for qid, aid in sorted(accepted.items()):
        sibs = answers.get(qid, [])
        if len(sibs) >= 2 and any(a.id == aid for a in sibs):
            questions.append(Question(qid, aid, sibs, accept_day.get(aid)))
    return questions, info


def shared_credit(question: Question, value: Callable[[Answer], float]) -> float:
    """1/k when the accepted answer is among k answers tied at the top, else 0."""
    values = {a.id: value(a) for a in question.answers}
    top = max(values.values())
    tied = [aid for aid, v in values.items() if v == top]
    return 1 / len(tied) if question.accepted_id in tied else 0.0


def crowdcx_credit(question: Question, before: date | None) -> float:
    states = []
    for a in question.answers:
        up, down = a.tally(before)
        states.append(AnswerState(a.id, question.id, 0, a.created_at, up, down))
    return 1.0 if order_answers(states, use_flags=False)[0].id == question.accepted_id else 0.0


def evaluate(questions: list[Question], have_votes: bool) -> list[tuple[str, float, int]]:
    """(method, share, n) rows."""
    n = len(questions)
    out: list[tuple[str, float, int]] = []

    def add(name: str, credits: list[float]) -> None:
        out.append((name, sum(credits) / len(credits) if credits else float("nan"), len(credits)))

    add("raw score (final Score field)", [shared_credit(q, lambda a: a.score) for q in questions])
    if have_votes:

        def net(before: date | None) -> Callable[[Answer], float]:
            return lambda a: float(a.tally(before)[0] - a.tally(before)[1])

        def wilson(before: date | None) -> Callable[[Answer], float]:
            return lambda a: wilson_lower_bound(*a.tally(before))

        add("raw score (net up-down votes)", [shared_credit(q, net(None)) for q in questions])
        add(
            "Wilson lower bound only (ties shared)",
            [shared_credit(q, wilson(None)) for q in questions],
        )
        add("CrowdCX order_answers (no ties)", [crowdcx_credit(q, None) for q in questions])
        dated = [q for q in questions if q.accept_day is not None]
        add(
            "raw score, votes before accept day",
            [shared_credit(q, net(q.accept_day)) for q in dated],
        )
        add(
            "Wilson only, votes before accept day",
            [shared_credit(q, wilson(q.accept_day)) for q in dated],
        )
        add(
            "CrowdCX order_answers, votes before accept day",
            [crowdcx_credit(q, q.accept_day) for q in dated],
        )
    add("chance (1 / answers)", [1 / len(q.answers) for q in questions])
    assert all(row[2] <= n for row in out)
    return out


def machine() -> str:
    try:
        cpus = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in lscpu.splitlines()
                if ln.startswith("Model name")
            ),
            "?",
        )
    except (OSError, subprocess.CalledProcessError):
        cpus, model = "?", platform.processor() or "?"
    return f"{model}, nproc={cpus}, Python {platform.python_version()}"


def table(results: list[tuple[str, float, int]]) -> str:
    lines = [
        "| ordering (accepted flag ignored) | accepted answer first | questions |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {share:.3f} | {n} |" for name, share, n in results]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks-community.md")
    args = parser.parse_args()
    folder = args.datasets / DATASET
    questions, info = load(folder)
    have_votes = info["votes"] is not None
    results = evaluate(questions, have_votes)
    md = table(results)
    print(f"{len(questions)} questions with an accepted answer and >= 2 answers ({info})")
    if not have_votes:
        print("Votes.xml is absent: only the final Score field is available.")
    print(md)
    if args.write:
        from community_doc import write_section

        write_section("answer-ranking", section(md, len(questions), info, args))


def section(md: str, n: int, info: dict[str, object], args: argparse.Namespace) -> str:
    cmd = ".venv/bin/python bench/answer_ranking.py --write"
    return "\n".join(
        [
            "## Answer ranking on real data (stackexchange_quantumcomputing)",
            "",
            f"- Date: {datetime.now(UTC).date().isoformat()}",
            f"- Machine: {machine()}",
            f"- Command (from the repo root): `{cmd}` (datasets read from `{args.datasets}`)",
            f"- Files: {info['posts']}, {info['votes']} (Votes.xml is present, so up/down votes"
            " and the accept date come from it).",
            f"- Questions: {n} with an accepted answer among their answers and >= 2 answers"
            " (the baseline's construction).",
            "- Share of questions whose accepted answer each ordering puts first, ignoring the"
            " accepted flag (and brand approval, which the dump lacks). A tie at the top shares"
            " the credit (1/k). `order_answers` breaks ties by net score, then earliest answer,"
            " so it never ties.",
            "",
            md,
            "",
            "Reading: the raw-score, Wilson and chance rows reproduce `search-baselines.md`"
            " (0.804 / 0.797 / 0.588 / 0.574 / 0.431), so the construction matches. On this site"
            " the Wilson lower bound does **not** beat raw score at finding the accepted answer"
            " (downvotes are rare, so both mostly rank by up votes); its value is robustness"
            " (10/10 above 60/40, a fresh +1 not above an established answer), not accuracy on"
            " this test. With final votes the deterministic tie-break (net score, then earliest)"
            " is a little below the shared-credit figure; with votes before the accept day it"
            " edges past raw score. Vote dates are day-granular, so that variant drops"
            " same-day votes: a pessimistic bound. The baselines note answer length alone"
            " reaches 0.642 before acceptance; it is not used as a tie-break yet (untested).",
            "",
        ]
    )


if __name__ == "__main__":
    main()
