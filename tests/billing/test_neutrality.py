"""Paying never changes search ranking, badges or selection (docs/billing.md, "The rule")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import grant_pro

ROOT = Path(__file__).resolve().parents[2]
#: Packages that rank, badge, select or score: none may read billing.
#: (The marketplace's product form and bulk import are gated by the plan and are not listed.)
NEUTRAL = [
    "saas/marketplace/search.py",
    "saas/marketplace/listing_index.py",
    "saas/marketplace/public_views.py",
    "saas/marketplace/services.py",  # badges and the public read model
    "saas/programme",  # the bureau's selection, experts' decisions and the 双百 awards shown as badges
    "saas/bureau",
    "saas/benchmarking/services.py",
    "scoring",
    "saas/api",
    "saas/sourcing",
]


#: Templates that show badges: they must not read a plan or billing value either.
NEUTRAL_TEMPLATES = ["templates/market/supplier.html", "templates/market/_responsiveness.html"]
BILLING_WORDS = re.compile(r"billing|entitlement|rights\.|\bplan\b|pro_until|purchase|subscription", re.IGNORECASE)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_ranking_badge_and_selection_code_never_reads_billing():
    offenders = []
    for entry in NEUTRAL:
        base = ROOT / entry
        assert base.exists(), entry  # a moved package must not drop out of the check unnoticed
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            bad = {n for n in _imports(path) if n.startswith(("saas.billing", "saas.models.billing"))}
            bad |= {n for n in _imports(path) if n.endswith((".Purchase", ".BillingSubscription", ".Voucher"))}
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []


def test_badge_templates_never_read_billing():
    offenders = []
    for entry in NEUTRAL_TEMPLATES:
        source = (ROOT / entry).read_text(encoding="utf-8")
        offenders += [f"{entry}: {m.group(0)}" for m in BILLING_WORDS.finditer(source)]
    assert offenders == []


def test_a_pro_firm_ranks_exactly_where_it_ranked_before(app, client, create_firm, publish_product):
    firms = [create_firm(name=f"嘉兴中立{i}丝绸有限公司") for i in range(4)]
    for firm in firms:
        publish_product(firm, title="19姆米重磅真丝双绉面料中立测试")
    search = "/market/search?q=%E4%B8%AD%E7%AB%8B%E6%B5%8B%E8%AF%95"

    def order():
        html = client.get(search).get_data(as_text=True)
        return [f.name for f in sorted(firms, key=lambda f: html.find(f.name)) if f.name in html]

    before = order()
    assert len(before) == 4
    grant_pro(app, firms[-1].id)
    grant_pro(app, firms[0].id)
    assert order() == before
