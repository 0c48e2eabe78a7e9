"""What the policy history adds to a policy save: ``policy_diff`` of the policy before and
after (and the rows' JSON), timed in the same run against what a save already did before
the history — reading both policies to documents and their versions (``policy_to_dict`` +
``policy_version``, twice). The history's part: the diff of the two documents (which the
save has at hand), its rows as JSON objects, and the two versions again (from the
documents). For the default policy (3 skills) and a large one (200 skills,
each priced), with one field changed and with a skill renamed.

    .venv/bin/python bench/policy_history.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from crowdcx.tickets.policy import (
    BrandPolicy,
    default_policy,
    document_version,
    policy_diff,
    policy_from_dict,
    policy_to_dict,
    policy_version,
)


def large_policy(skills: int) -> BrandPolicy:
    data = policy_to_dict(default_policy())
    data["skills"] = [
        {"name": f"skill-{i}", "required_tier": i % 4, "needs_fields": ["email"]}
        for i in range(skills)
    ]
    data["rate_card"]["base_minor"] = {f"skill-{i}": 500 + i for i in range(skills)}
    parsed = policy_from_dict(data)
    assert not isinstance(parsed, list), parsed
    return parsed


def timed(fn: Callable[[], Any], rounds: int) -> float:
    """Median microseconds of one call."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def case(name: str, before: BrandPolicy, after_doc: dict[str, Any], renames: dict[str, str],
         rounds: int) -> None:  # fmt: skip
    after = policy_from_dict(after_doc)
    assert not isinstance(after, list), after

    def reference() -> None:  # what a save did already: both documents and versions
        policy_to_dict(before), policy_version(before)
        policy_to_dict(after), policy_version(after)

    old_doc = policy_to_dict(before)
    new_doc = policy_to_dict(after)

    def history() -> None:  # what the history adds (the save has both documents already)
        changes = policy_diff(old_doc, new_doc, renames)
        [asdict(c) for c in changes]
        document_version(old_doc), document_version(new_doc)

    ref, added = timed(reference, rounds), timed(history, rounds)
    print(
        f"{name:<34} reference {ref:8.1f} µs   history adds {added:8.1f} µs   ({added / ref:.2f}×)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.rounds} rounds")
    for label, policy in (
        ("default (3 skills)", default_policy()),
        ("large (200 skills)", large_policy(200)),
    ):
        doc = policy_to_dict(policy)
        sla = copy.deepcopy(doc)
        sla["sla"]["first_response_s"] = 1800
        case(f"{label}: SLA changed", policy, sla, {}, args.rounds)
        old = doc["skills"][-1]["name"]
        renamed = copy.deepcopy(doc)
        renamed["skills"][-1]["name"] = "renamed"
        renamed["rate_card"]["base_minor"]["renamed"] = renamed["rate_card"]["base_minor"].pop(old)
        case(f"{label}: skill renamed", policy, renamed, {old: "renamed"}, args.rounds)


if __name__ == "__main__":
    main()
