"""tickets.policy.policy_diff over generated policies: nothing for a policy and itself,
something exactly when two differ, the same changes the other way round, each change at
a place where the two documents differ, a rename one change."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.tickets.policy import (
    CHANGE_KINDS,
    PolicyChange,
    change_kind,
    default_policy,
    policy_diff,
    policy_from_dict,
    policy_to_dict,
)
from crowdcx.tickets.policy_history import KINDS

SKILL_NAMES = ["general", "orders", "billing", "退款", "Оплата"]


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    """A policy document: the defaults with some of every kind of field changed."""
    names = draw(st.lists(st.sampled_from(SKILL_NAMES), min_size=1, max_size=5, unique=True))
    data: dict[str, Any] = {
        "languages": draw(
            st.lists(st.sampled_from(["en", "ru", "zh-Hans", "zh-Hant"]), min_size=1, unique=True)
        ),
        "skills": [
            {
                "name": name,
                "required_tier": draw(st.integers(0, 3)),
                "requires_certification": draw(st.booleans()),
                "needs_fields": draw(st.lists(st.sampled_from(["email", "order_number"]))),
            }
            for name in names
        ],
        "sla": {
            "first_response_s": draw(st.sampled_from([1800, 3600, 14400])),
            "resolution_s": draw(st.sampled_from([86400, 172800])),
            "business_hours": draw(
                st.none()
                | st.fixed_dictionaries(
                    {
                        "timezone": st.just("Asia/Shanghai"),
                        "windows": st.lists(
                            st.fixed_dictionaries(
                                {
                                    "weekday": st.integers(0, 6),
                                    "start": st.sampled_from(["09:00", "10:00"]),
                                    "end": st.sampled_from(["17:00", "18:00"]),
                                }
                            ),
                            min_size=1,
                            max_size=3,
                        ),
                    }
                )
            ),
        },
        "rate_card": {
            "currency": draw(st.sampled_from(["CNY", "RUB", "USD"])),
            "base_minor": {
                name: draw(st.integers(0, 5000))
                for name in draw(st.lists(st.sampled_from(names), unique=True))
            },
            "default_base_minor": draw(st.none() | st.integers(0, 5000)),
            "complexity": {"low": draw(st.sampled_from(["0.8", "1"])), "high": "1.5"},
        },
        "tiers": [
            {"tier": t, "unmasked": draw(st.lists(st.sampled_from(["name", "email", "phone"])))}
            for t in draw(st.lists(st.integers(0, 3), min_size=1, unique=True))
        ],
        "offer_timeout_s": draw(st.sampled_from([60, 120, 300])),
        "routing_mode": draw(st.sampled_from(["push", "pull", "both"])),
        "quality": {
            "pass_mark": draw(st.integers(0, 100)),
            "weights": {"tone": draw(st.integers(0, 50))},
        },
    }
    # Some fields left out: those keep the defaults.
    left_out = draw(st.lists(st.sampled_from(sorted(data)), unique=True, max_size=4))
    for key in left_out:
        if key != "skills":
            del data[key]
    parsed = policy_from_dict(data)
    assert not isinstance(parsed, list), parsed
    return policy_to_dict(parsed)


def canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True)


def swapped(c: PolicyChange) -> tuple[str, str, str, str]:
    op = {"added": "removed", "removed": "added"}.get(c.op, c.op)
    return (c.path, op, canonical(c.after), canonical(c.before))


def key(c: PolicyChange) -> tuple[str, str, str, str]:
    return (c.path, c.op, canonical(c.before), canonical(c.after))


@given(policies())
def test_a_policy_has_no_changes_from_itself(doc: dict[str, Any]) -> None:
    assert policy_diff(doc, copy.deepcopy(doc)) == ()
    assert policy_diff(doc, doc, {}) == ()


@given(policies(), policies())
def test_changes_exactly_when_different(a: dict[str, Any], b: dict[str, Any]) -> None:
    changes = policy_diff(a, b)
    assert bool(changes) == (canonical(a) != canonical(b))
    # Each top-level field that differs has a change, and no other one.
    differing = {k for k in a.keys() | b.keys() if canonical(a.get(k)) != canonical(b.get(k))}
    assert {c.path.split(".")[0].split("[")[0] for c in changes} == differing


@given(policies(), policies())
def test_the_changes_backwards_are_the_changes_swapped(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    assert sorted(key(c) for c in policy_diff(b, a)) == sorted(
        swapped(c) for c in policy_diff(a, b)
    )


@given(policies(), policies())
def test_every_change_says_what_was_and_what_is(a: dict[str, Any], b: dict[str, Any]) -> None:
    for c in policy_diff(a, b):
        assert c.op in {"added", "removed", "changed"}
        assert canonical(c.before) != canonical(c.after) or c.op != "changed"
        assert (c.before is None) == (c.op == "added") or c.op == "changed"
        assert (c.after is None) == (c.op == "removed") or c.op == "changed"
        assert c.field == c.path.replace(f"[{c.key}]", "[]") if c.key else "[" not in c.field


@given(policies(), st.sampled_from(SKILL_NAMES), st.text(min_size=1, max_size=20))
def test_a_rename_is_one_change(doc: dict[str, Any], old: str, new: str) -> None:
    names = [s["name"] for s in doc["skills"]]
    if old not in names or new in names:
        return
    after = copy.deepcopy(doc)
    for s in after["skills"]:
        if s["name"] == old:
            s["name"] = new
    amounts = after["rate_card"]["base_minor"]
    if old in amounts:
        amounts[new] = amounts.pop(old)
    assert policy_diff(doc, after, {old: new}) == (
        PolicyChange(f"skills[{old}]", "renamed", old, new, "skills[]", old),
    )
    # Without saying it was a rename: the skill (and its amount) gone and another added.
    ops = sorted((c.op, c.key) for c in policy_diff(doc, after))
    assert ("removed", old) in ops
    assert ("added", new) in ops


def test_the_examples_read_as_an_admin_expects() -> None:
    before = policy_to_dict(default_policy())
    after = copy.deepcopy(before)
    after["sla"]["first_response_s"] = 1800
    after["skills"] = [s for s in after["skills"] if s["name"] != "billing"]
    del after["rate_card"]["base_minor"]["billing"]
    after["tiers"][1]["unmasked"] = ["email", "order_number"]
    assert [(c.path, c.op, c.before, c.after) for c in policy_diff(before, after)] == [
        ("skills[billing]", "removed", before["skills"][2], None),
        ("sla.first_response_s", "changed", 14400, 1800),
        ("rate_card.base_minor[billing]", "removed", 1200, None),
        ("tiers[1].unmasked", "changed", ["order_number"], ["email", "order_number"]),
    ]
    reordered = copy.deepcopy(before)
    reordered["skills"].reverse()
    assert [(c.path, c.op) for c in policy_diff(before, reordered)] == [("skills.order", "changed")]


def test_the_kind_of_a_save() -> None:
    before = policy_to_dict(default_policy())
    renamed = copy.deepcopy(before)
    renamed["skills"][0]["name"] = "Everyday"
    renamed["rate_card"]["base_minor"]["Everyday"] = renamed["rate_card"]["base_minor"].pop(
        "general"
    )
    assert change_kind(policy_diff(before, renamed, {"general": "Everyday"})) == "rename_skill"
    assert change_kind(policy_diff(before, renamed)) == "save"  # not said: gone and added
    removed = copy.deepcopy(before)
    removed["skills"].pop()
    assert change_kind(policy_diff(before, removed)) == "remove_skill"
    del removed["rate_card"]["base_minor"]["billing"]
    assert change_kind(policy_diff(before, removed)) == "remove_skill"
    removed["offer_timeout_s"] = 300
    assert change_kind(policy_diff(before, removed)) == "save"
    renamed["offer_timeout_s"] = 300
    assert change_kind(policy_diff(before, renamed, {"general": "Everyday"})) == "save"
    assert set(KINDS) == set(CHANGE_KINDS)  # the changes page names each kind
