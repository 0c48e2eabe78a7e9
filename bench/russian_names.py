"""Masking a ticket's text for one view, before and after Russian names were matched through
the dictionary (pymorphy3) instead of by their first letters.

A typical Russian ticket (a subject, a description and six messages: 188 words, 1,250
characters, the customer's name quoted in four case forms) is masked as an expert who may not
see the name reads it: ``mask_quoted`` over every text, the way a ticket page does. Timed:

* before — ``tickets/masking.py`` as it was at commit ``BEFORE`` (read with ``git show``);
* after, words cached — the same ticket viewed again (each word's readings are cached);
* after, no word cached — every cache emptied before each view: a ticket of new words;
* the dictionary's load, once per process, and ``scrub`` of the resolved ticket.

A Chinese and an English ticket run through the same paths for comparison (they do not use
the dictionary). Goal: a view stays within a few milliseconds.

    .venv/bin/python bench/russian_names.py [--views 300]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from crowdcx.kernel import morphology
from crowdcx.tickets import masking

BEFORE = "b2dc44a"  # the last commit with the rule of letters
ROOT = Path(__file__).resolve().parent.parent

RUSSIAN = {
    "fields": {
        "name": "Лев Николаевич Толстой",
        "phone": "+7 916 123-45-67",
        "email": "lev.tolstoy@example.ru",
        "order_number": "LM-2026-778899",
        "address": "Москва, ул. Льва Толстого, д. 16",
    },
    "texts": [
        "Не работают наушники из заказа LM-2026-778899",
        "Здравствуйте! Купил беспроводные наушники две недели назад, вчера левый перестал "
        "заряжаться. Кейс мигает красным, сброс по инструкции не помогает. Прошу заменить или "
        "вернуть деньги. Звоните на 8 916 123 45 67 после шести вечера. Лев Толстой.",
        "Добрый день, Лев Николаевич! Спасибо за обращение. Подскажите, пожалуйста, какой "
        "индикатор горит на кейсе, когда вы кладёте в него левый наушник, и пробовали ли вы "
        "другой кабель и другой блок питания?",
        "Кабель пробовал другой, блок тоже. Индикатор мигает красным три раза и гаснет. "
        "Правый наушник заряжается нормально, левый нет. Для всего мира эти наушники хороши, "
        "а мне не повезло.",
        "Понятно, спасибо. Похоже на неисправность контакта в кейсе. Передайте, пожалуйста, "
        "Льву Николаевичу (если заказ оформляли не вы), что мы отправим курьера за кейсом и "
        "наушниками; замену привезём в течение пяти рабочих дней.",
        "Заказ оформлял я сам. Курьера удобно принять в будни с десяти до шести, адрес тот же. "
        "Коробку я сохранил, чек тоже есть в личном кабинете.",
        "Отлично. Курьер свяжется со Львом Николаевичем накануне. Номер возврата придёт на "
        "почту lev.tolstoy@example.ru. Если что-то изменится, напишите нам в этот чат.",
        "Спасибо, жду курьера. Надеюсь, новые наушники будут работать дольше.",
    ],
}
CHINESE = {
    "fields": {"name": "李伟", "phone": "138 1234 5678", "order_number": "LM-2026-000123"},
    "texts": [
        "耳机无法连接蓝牙",
        "我的耳机昨天开始连不上手机的蓝牙，重启也没用。订单 LM-2026-000123，电话 13812345678。",
        "李先生您好，请问您试过在手机设置里删除配对后重新连接吗？",
        "试过了，还是不行。",
        "好的，我们为您安排换货，快递员会联系李伟先生。",
    ],
}
ENGLISH = {
    "fields": {"name": "Alice Wong", "phone": "+44 7911 123456", "email": "alice@example.com"},
    "texts": [
        "Headphones stopped charging",
        "Hi, my left earbud stopped charging yesterday. Alice Wong, +44 7911 123456.",
        "Hi Alice, thanks for writing. Which light does the case show?",
        "It blinks red three times. Write to alice@example.com please.",
        "Thanks Ms. Wong, a courier will collect the case and bring a replacement.",
    ],
}


def _before_module() -> types.ModuleType | None:
    """``tickets/masking.py`` as it was at ``BEFORE`` (None when git cannot show it)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE}:src/crowdcx/tickets/masking.py"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("masking_before")
    exec(compile(source, "masking_before.py", "exec"), module.__dict__)  # noqa: S102 (own repo)
    return module


def _view(mask: Callable[..., str], ticket: dict[str, object]) -> None:
    fields = ticket["fields"]
    for text in ticket["texts"]:
        mask(text, fields, {"phone"})


def _empty_caches() -> None:
    morphology.readings.cache_clear()
    morphology.is_known.cache_clear()
    masking._russian_words.cache_clear()


def _row(label: str, views: int, run: Callable[[], None], before_each: Callable[[], None] | None = None) -> None:  # fmt: skip
    laps = []
    for _ in range(views):
        if before_each is not None:
            before_each()
        start = time.perf_counter()
        run()
        laps.append((time.perf_counter() - start) * 1000)
    laps.sort()
    p99 = laps[min(len(laps) - 1, int(len(laps) * 0.99))]
    print(f"  {label:<28} median {statistics.median(laps):6.3f} ms   p99 {p99:6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=300)
    n = parser.parse_args().views

    start = time.perf_counter()
    morphology._analyzer()
    print(f"dictionary load, once per process: {(time.perf_counter() - start) * 1000:.0f} ms")
    print(f"one view of a ticket (all its texts masked), {n} views\n")
    before = _before_module()
    for label, ticket in (("Russian", RUSSIAN), ("Chinese", CHINESE), ("English", ENGLISH)):
        size = sum(len(t) for t in ticket["texts"])
        print(f"{label} ticket ({size} characters)")
        if before is None:
            print(f"  before: git cannot show {BEFORE} here")
        else:
            old = before.mask_quoted
            _row("before (rule of letters)", n, lambda old=old, t=ticket: _view(old, t))
        _row("after, words cached", n, lambda t=ticket: _view(masking.mask_quoted, t))
        _row(
            "after, no word cached",
            n,
            lambda t=ticket: _view(masking.mask_quoted, t),
            _empty_caches,
        )
    text = " ".join(RUSSIAN["texts"])
    fields = RUSSIAN["fields"]
    print("\nscrub of the resolved Russian ticket (once per resolution)")
    if before is not None:
        _row("before", n, lambda: before.scrub(text, fields))
    _row("after, no word cached", n, lambda: masking.scrub(text, fields), _empty_caches)
    print(f"\npython {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
