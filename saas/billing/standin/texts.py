"""The hosted pages' words in Chinese and English (the stand-in is not the app: no Flask-Babel here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

LANGS = ("zh", "en")
CHINA = dt.timezone(dt.timedelta(hours=8))

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title_pay": "支付",
        "title_portal": "账单与订阅管理",
        "notice": "这是开发和测试用的本地模拟页面，不会产生真实扣款。",
        "mode_payment": "一次性付款",
        "mode_subscription": "订阅",
        "item": "项目",
        "quantity": "数量",
        "amount": "金额",
        "total": "应付总额",
        "per_month": "/ 月",
        "per_year": "/ 年",
        "per_week": "/ 周",
        "per_day": "/ 天",
        "choose_method": "选择付款方式",
        "pay_card": "银行卡支付（成功）",
        "pay_card_declined": "银行卡支付（被拒）",
        "pay_wechat_pay": "微信支付",
        "pay_alipay": "支付宝",
        "email": "电子邮箱",
        "cancel": "取消并返回商户",
        "declined": "您的银行卡被拒绝，请换一种付款方式。",
        "complete": "此订单已完成支付。",
        "complete_unpaid": "已提交付款，等待支付结果。",
        "expired": "此支付页面已过期，请返回商户重新下单。",
        "continue": "返回商户",
        "wait_wechat_pay": "请使用微信扫描二维码完成付款",
        "wait_alipay": "请使用支付宝扫描二维码完成付款",
        "qr": "模拟二维码",
        "auto_confirm": "模拟器将在几秒后自动确认付款；页面会自动刷新。",
        "async_confirm": "扫码完成",
        "async_fail": "支付失败",
        "async_failed": "付款未成功。",
        "customer": "客户",
        "subscriptions": "订阅",
        "no_subscriptions": "暂无订阅。",
        "status": "状态",
        "period_end": "当前周期结束",
        "cancels_on": "将于 {date} 取消",
        "cancel_at_period_end": "在当前周期结束时取消",
        "resume": "恢复订阅",
        "past_due": "最近一次扣款失败。请更新银行卡以恢复订阅。",
        "update_card": "更新银行卡（之后扣款成功）",
        "invoices": "账单",
        "invoice_number": "编号",
        "date": "日期",
        "return": "返回",
        "done_cancel": "已设置在当前周期结束时取消。",
        "done_resume": "订阅已恢复。",
        "done_card": "银行卡已更新。",
        "status_active": "生效中",
        "status_past_due": "逾期未付",
        "status_canceled": "已取消",
        "status_unpaid": "未付款",
        "status_incomplete": "未完成",
        "status_trialing": "试用中",
        "status_paid": "已支付",
        "status_open": "待支付",
        "status_void": "已作废",
        "status_draft": "草稿",
        "not_found": "找不到此页面。",
    },
    "en": {
        "title_pay": "Checkout",
        "title_portal": "Billing and subscriptions",
        "notice": "A local page for development and tests. No real money moves.",
        "mode_payment": "One-off payment",
        "mode_subscription": "Subscription",
        "item": "Item",
        "quantity": "Qty",
        "amount": "Amount",
        "total": "Total due",
        "per_month": "/ month",
        "per_year": "/ year",
        "per_week": "/ week",
        "per_day": "/ day",
        "choose_method": "Choose a payment method",
        "pay_card": "Pay by card (succeeds)",
        "pay_card_declined": "Pay by card (declined)",
        "pay_wechat_pay": "WeChat Pay",
        "pay_alipay": "Alipay",
        "email": "Email",
        "cancel": "Cancel and return to the merchant",
        "declined": "Your card was declined. Please try another payment method.",
        "complete": "This order has been paid.",
        "complete_unpaid": "Payment submitted; waiting for the result.",
        "expired": "This checkout page has expired. Please return to the merchant and order again.",
        "continue": "Return to the merchant",
        "wait_wechat_pay": "Scan the QR code with WeChat to pay",
        "wait_alipay": "Scan the QR code with Alipay to pay",
        "qr": "Simulated QR code",
        "auto_confirm": "The stand-in confirms the payment by itself in a few seconds; this page refreshes.",
        "async_confirm": "Payment confirmed",
        "async_fail": "Payment failed",
        "async_failed": "The payment did not go through.",
        "customer": "Customer",
        "subscriptions": "Subscriptions",
        "no_subscriptions": "No subscriptions yet.",
        "status": "Status",
        "period_end": "Current period ends",
        "cancels_on": "Cancels on {date}",
        "cancel_at_period_end": "Cancel at period end",
        "resume": "Resume subscription",
        "past_due": "The last payment failed. Update the card to recover the subscription.",
        "update_card": "Update the card (later charges succeed)",
        "invoices": "Invoices",
        "invoice_number": "Number",
        "date": "Date",
        "return": "Return",
        "done_cancel": "The subscription will cancel at the end of the current period.",
        "done_resume": "The subscription has been resumed.",
        "done_card": "The card has been updated.",
        "status_active": "Active",
        "status_past_due": "Past due",
        "status_canceled": "Canceled",
        "status_unpaid": "Unpaid",
        "status_incomplete": "Incomplete",
        "status_trialing": "Trialing",
        "status_paid": "Paid",
        "status_open": "Open",
        "status_void": "Void",
        "status_draft": "Draft",
        "not_found": "Page not found.",
    },
}


def pick_language(query_lang: str | None, locale: str | None, accept: str | None) -> str:
    """``?lang=`` first, then the session's ``locale``, then Accept-Language; Chinese by default."""
    for candidate in (query_lang, locale):
        if candidate:
            short = candidate[:2].lower()
            if short in LANGS:
                return short
    if accept and accept.strip().lower().startswith("en"):
        return "en"
    return "zh"


def helpers(lang: str) -> dict[str, Any]:
    words = TEXT[lang]

    def t(key: str, **kwargs: Any) -> str:
        return words[key].format(**kwargs) if kwargs else words[key]

    def money(amount: int, currency: str = "cny") -> str:
        symbol = "¥" if currency.lower() == "cny" else currency.upper() + " "
        return f"{symbol}{amount / 100:,.2f}"

    def date(ts: int | None) -> str:
        return dt.datetime.fromtimestamp(ts, CHINA).strftime("%Y-%m-%d") if ts else ""

    return {"t": t, "money": money, "date": date, "lang": lang}
