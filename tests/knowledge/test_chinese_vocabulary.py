"""Taiwan and mainland vocabulary through the search API: a customer writing Taiwan words
(網路, 簡訊, 登入, 軟體, 行動電話) finds the article written with the mainland's (网络, 短信,
登录, 软件, 手机), and the reverse. Character-by-character Traditional → Simplified folding
finds none of these pairs: their words differ, not only their glyphs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World
from tests.knowledge.test_api import Kb

# (mainland article, Taiwan article, mainland query, Taiwan query), one subject each.
PAIRS = [
    (
        ("网络连接失败怎么办", "检查路由器，然后重新连接网络。"),
        ("網路連線失敗怎麼辦", "請檢查路由器，然後重新連線網路。"),
        "网络连接",
        "網路連不上",
    ),
    (
        ("收不到短信验证码", "确认号码正确，短信可能延迟几分钟。"),
        ("收不到簡訊驗證碼", "確認號碼正確，簡訊可能延遲幾分鐘。"),
        "短信",
        "簡訊",
    ),
    (
        ("登录", "忘记密码时，先重置密码再登录账户。"),
        ("登入", "忘記密碼時，請先重設密碼再登入帳戶。"),
        "登录",
        "登入",
    ),
    (
        ("软件更新失败", "卸载软件后重新安装最新版本。"),
        ("軟體更新失敗", "解除安裝軟體後重新安裝最新版本。"),
        "软件",
        "軟體",
    ),
    (
        ("手机丢了怎么办", "立即冻结账户并挂失手机。"),
        ("行動電話遺失怎麼辦", "請立即凍結帳戶並掛失行動電話。"),
        "手机",
        "行動電話",
    ),
]

# Articles that share the other wording's characters, not its words: folded character by
# character, a query finds these before the article it means (软体动物 is a mollusc).
NEAR_MISSES = [
    [
        ("网上查询路线", "在网上查询公交路线。"),
        ("入境登记表", "入境时填写登记表。"),
        ("软体动物有哪些", "蜗牛和贝类都是软体动物。"),
    ],
    [
        ("連接埠在哪裡", "路由器的連接埠在背面。"),
        ("訂單記錄查詢", "在訂單記錄中查詢每一筆紀錄。"),
        ("郵件寄不出去", "請確認收件人地址與附件大小。"),
    ],
]


@pytest.mark.parametrize(
    ("written", "asked"), [(0, 3), (1, 2)], ids=["taiwan-finds-mainland", "mainland-finds-taiwan"]
)
def test_either_wording_finds_the_other(
    client: TestClient, world: World, written: int, asked: int
) -> None:
    kb = Kb(client, world)
    kb.seed()
    language, reader = ("zh-Hans", "zh-Hant") if written == 0 else ("zh-Hant", "zh-Hans")
    for near_miss in NEAR_MISSES[written]:
        kb.publish(kb.write(*near_miss, language))
    articles = [kb.publish(kb.write(*pair[written], language))["id"] for pair in PAIRS]
    for pair, article in zip(PAIRS, articles, strict=True):
        query = pair[asked]
        found = kb.search(query, kb.customer, lang=reader)["results"]
        assert found, query
        assert found[0]["id"] == str(article), (query, found[:2])
        assert "<mark>" in found[0]["snippet"], (query, found[0]["snippet"])
