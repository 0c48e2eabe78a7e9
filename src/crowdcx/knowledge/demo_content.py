"""Demo help-center articles in the four languages (loaded by ``crowdcx demo``)."""

from __future__ import annotations

# brand slug → (language, title, Markdown body, tags, visibility)
ARTICLES: dict[str, list[tuple[str, str, str, tuple[str, ...], str]]] = {
    "lumen": [
        (
            "zh-Hans",
            "耳机无法连接蓝牙怎么办？",
            "1. 将耳机放回充电盒，长按盒上按钮 **10 秒**，直到指示灯闪烁白色。\n"
            "2. 在手机的蓝牙设置中删除旧的“Lumen Buds”配对记录。\n"
            "3. 重新打开蓝牙并选择“Lumen Buds”。\n\n"
            "如果仍然无法连接，请确认手机系统已更新到最新版本。",
            ("蓝牙", "耳机", "配对"),
            "public",
        ),
        (
            "zh-Hant",
            "耳機無法連接藍牙怎麼辦？",
            "1. 將耳機放回充電盒，長按盒上按鈕 **10 秒**，直到指示燈閃爍白色。\n"
            "2. 在手機的藍牙設定中刪除舊的「Lumen Buds」配對記錄。\n"
            "3. 重新開啟藍牙並選擇「Lumen Buds」。",
            ("藍牙", "耳機", "配對"),
            "public",
        ),
        (
            "en",
            "My headphones will not pair over Bluetooth",
            "1. Put the buds back in the case and hold the case button for **10 seconds** "
            "until the light flashes white.\n"
            "2. Forget the old “Lumen Buds” entry in your phone's Bluetooth settings.\n"
            "3. Turn Bluetooth on again and choose “Lumen Buds”.",
            ("bluetooth", "headphones", "pairing"),
            "public",
        ),
        (
            "zh-Hans",
            "如何申请退货和退款？",
            "签收后 **7 天内** 可无理由退货。在“我的订单”中选择订单，点击“申请退货”，"
            "按提示填写原因并寄回商品。我们收到商品后 3 个工作日内原路退款。",
            ("退货", "退款", "订单"),
            "public",
        ),
        (
            "zh-Hans",
            "智能灯泡恢复出厂设置",
            "连续开关电源 **5 次**（每次间隔约 1 秒），灯泡闪烁三次即表示已恢复出厂设置，"
            "然后在 Lumen 应用中重新添加设备。",
            ("智能家居", "灯泡", "重置"),
            "public",
        ),
        (
            "zh-Hans",
            "专家指南：固件降级步骤",
            "仅供认证专家使用。通过维修模式刷入上一版本固件前，请先确认设备序列号在保修范围内。",
            ("固件", "专家"),
            "experts",
        ),
        (
            "zh-Hans",
            "内部：蓝牙耳机批量连接故障的处理口径",
            "仅限员工。遇到蓝牙耳机无法连接的集中投诉时，先登记批次号，再按内部流程补发。",
            ("蓝牙", "内部"),
            "staff",
        ),
    ],
    "volga": [
        (
            "ru",
            "Как подключить мобильный интернет",
            "Включите **передачу данных** в настройках телефона и проверьте, что точка "
            "доступа (APN) — `internet.volga`. Если интернет не работает, перезагрузите "
            "телефон и отправьте USSD-запрос `*100#`, чтобы проверить баланс.",
            ("интернет", "apn", "настройки"),
            "public",
        ),
        (
            "ru",
            "Как перенести номер в Volga Telecom",
            "Оформите заявку на перенос номера в любом салоне или в приложении. Перенос "
            "занимает до **8 дней**; всё это время старая SIM-карта работает.",
            ("перенос номера", "sim"),
            "public",
        ),
        (
            "ru",
            "Роуминг: как подключить и сколько стоит",
            "Роуминг включён по умолчанию. Подключите пакет «Путешествия» в приложении до "
            "поездки — так дешевле, чем платить за каждый мегабайт.",
            ("роуминг", "тарифы"),
            "public",
        ),
        (
            "en",
            "How to set up mobile internet",
            "Turn on **mobile data** in your phone settings and check that the access point "
            "(APN) is `internet.volga`. If it still fails, restart the phone.",
            ("internet", "apn", "settings"),
            "public",
        ),
        (
            "en",
            "Roaming: how to turn it on and what it costs",
            "Roaming is on by default. Add the Travel bundle in the app before you leave: it "
            "costs less than paying per megabyte.",
            ("roaming", "plans"),
            "public",
        ),
        (
            "ru",
            "Для сотрудников: ручная блокировка SIM-карты",
            "Только для сотрудников. Блокируйте SIM-карту вручную лишь после проверки "
            "паспортных данных владельца.",
            ("sim", "блокировка"),
            "staff",
        ),
    ],
}

# Translations of one article (indices into ARTICLES[brand]).
GROUPS: dict[str, list[tuple[int, ...]]] = {"lumen": [(0, 1, 2)], "volga": [(0, 3), (2, 4)]}
