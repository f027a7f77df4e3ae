"""What is sold (docs/billing.md): the server-side allow-list of products, their Stripe lookup keys and prices.

The browser names a product key; the price id is looked up by ``lookup_key`` on the server. Amounts are fen (CNY).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Product:
    key: str
    lookup_key: str
    name_zh: str
    name_en: str
    amount: int  # fen
    mode: str  # Stripe Checkout mode
    methods: tuple[str, ...]
    interval: str | None = None  # recurring prices only
    valid_for: timedelta | None = None  # passes only


PRODUCTS: dict[str, Product] = {
    p.key: p
    for p in (
        Product(
            "pro_monthly", "jx_pro_monthly", "专业版（月付）", "Pro (monthly)", 9900, "subscription", ("card",), "month"
        ),
        Product(
            "pro_pass",
            "jx_pro_pass_yearly",
            "专业版年卡",
            "Pro yearly pass",
            99000,
            "payment",
            ("card", "wechat_pay", "alipay"),
            valid_for=timedelta(days=365),
        ),
        Product(
            "report",
            "jx_report_single",
            "单份完整报告",
            "Single full report",
            19900,
            "payment",
            ("card", "wechat_pay", "alipay"),
        ),
    )
}

#: What a voucher may pay for.
VOUCHER_PRODUCTS = ("pro_pass", "report")

#: After a failed renewal a Pro subscription keeps its features this long past the period end.
PAST_DUE_GRACE = timedelta(days=7)

#: Free and Pro limits (None: no limit).
FREE_PRODUCT_LIMIT = 20
FREE_RFQ_QUOTES_PER_MONTH = 10
PRO_RFQ_QUOTES_PER_MONTH = 100


def product(key: str) -> Product:
    """Return the allow-listed product ``key``; raise ``KeyError`` for anything else."""
    return PRODUCTS[key]


def by_lookup_key(lookup_key: str | None) -> Product | None:
    """Return the product whose Stripe price has ``lookup_key``."""
    return next((p for p in PRODUCTS.values() if p.lookup_key == lookup_key), None)


def seed() -> dict[str, object]:
    """The stand-in's seed (``--seed`` / ``POST /_test/seed``): one Stripe product and price per sold product."""
    products = []
    for p in PRODUCTS.values():
        price: dict[str, object] = {
            "id": f"price_{p.lookup_key}",
            "lookup_key": p.lookup_key,
            "currency": "cny",
            "unit_amount": p.amount,
        }
        if p.interval:
            price["recurring"] = {"interval": p.interval}
        products.append({"id": f"prod_{p.lookup_key}", "name": p.name_zh, "prices": [price]})
    return {"products": products}
