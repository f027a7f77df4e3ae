"""Benchmark the marketplace at scale: 100,000 published products from 10,000 firms.

Prints ``search_p95_ms_sqlite`` and ``search_p95_ms_postgres`` (a mix of searches with facets through
``marketplace.search.search``; target ≤ 50 ms each), ``catalogue_throughput_ratio`` (a category page of the real app
on the seeded SQLite database under gunicorn with 2 sync workers, against a hello-world Flask app under the same
gunicorn and client in the same run; target ≥ 0.25) and ``import_10k_rows_s`` (a 10,000-row CSV through
``marketplace.bulk.run_import`` into the SQLite database, commit included; target ≤ 20 s), plus extra lines: seeding
times, p50 and max, the p95 per kind of search (slowest first), the p95 of each SQL statement of ``search()``, the
in-memory listing index's full load time and size per backend (``listing_index_load_ms_*``, ``listing_index_mb_*``:
paid once per process, then kept current from the change log), the raw req/s. Notes, the slowest single searches and
any failing search go to stderr.

Run with the project's virtualenv: ``.venv/bin/python bench/marketplace.py``. Options: ``--products N --firms N`` to
run smaller, ``--skip-postgres``, ``--searches N`` (timed searches per backend, default 240) after ``--warmup N``,
``--search-budget S`` (stop timing a backend after S seconds, default 600), ``--seconds S`` and ``--concurrency N`` of
the load generator, ``--import-rows N``. PostgreSQL is reached as the superuser ``postgres`` on 127.0.0.1
(``BENCH_POSTGRES_URL``): the script creates, seeds and finally drops the database ``jx_bench_market``; the searches
run as the app role ``jx_app``, so row-level security is live. The SQLite database lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from bisect import bisect
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ARGON2_TIME_COST", "1")

from sqlalchemy import Engine, create_engine, event, func, insert, make_url, select, text  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/jx_bench_market")
APP_ROLE = os.environ.get("APP_DB_ROLE", "jx_app")
PAGE_SIZE = 20  # Config.PAGE_SIZE
CATALOGUE_PATH = "/market/silk/silk-fabric"  # a second-level category: ~6 % of all products, paginated
IMPORT_CATEGORY = "silk/silk-fabric/crepe-de-chine"
CHUNK = 5_000  # products per generated and inserted batch
SEED = 2026


def note(message: str) -> None:
    """A remark for the reader, on stderr so that stdout keeps only ``name: value unit`` lines."""
    print(f"# {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# --- Synthetic catalogue ----------------------------------------------------------------------------------------

INDUSTRIES = ("silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood")
# What sellers put in front of the category name (materials, specs, styles), per industry.
QUALIFIERS: dict[str, list[str]] = {
    "silk": ["100%桑蚕丝", "真丝", "桑蚕丝", "19姆米", "22姆米", "16姆米", "重磅", "数码印花", "提花", "素色", "双面"],
    "warp_knitting": ["经编", "涤纶", "锦氨", "弹力", "加厚", "阻燃", "涂层", "复合", "印花", "双面", "超柔"],
    "textile": ["纯棉", "涤棉", "全涤", "40支", "32支", "精梳", "阻燃", "防水", "遮光", "印花", "色织", "面料"],
    "garment": ["羊绒", "纯羊毛", "女式", "男式", "秋冬", "春夏", "修身", "宽松", "针织", "加厚", "OEM代工"],
    "leather": ["头层牛皮", "二层牛皮", "羊皮", "水洗", "荔枝纹", "疯马皮", "PU", "超纤", "环保", "真皮"],
    "luggage": ["头层牛皮", "PU", "牛津布", "PC", "ABS", "铝镁合金", "20寸", "24寸", "28寸", "防水", "大容量"],
    "wood": ["实木", "E0级", "E1级", "杨木", "桉木", "松木", "橡木", "18mm", "多层", "防潮", "免漆"],
}
# Trade names used instead of the category label for some categories (keyed by the category's Chinese label).
PRODUCT_NAMES: dict[str, list[str]] = {
    "真丝丝巾": ["真丝围巾", "桑蚕丝丝巾", "真丝方巾", "真丝披肩", "长款丝巾"],
    "蚕丝被": ["桑蚕丝被", "蚕丝被芯", "子母蚕丝被"],
    "手提包": ["女士手提包", "头层牛皮手提包", "托特包", "真皮手提包"],
    "硬壳拉杆箱": ["PC拉杆箱", "ABS行李箱", "万向轮旅行箱"],
    "钱包卡包": ["真皮钱包", "牛皮卡包", "男士短款钱包"],
    "皮带": ["头层牛皮皮带", "自动扣腰带"],
    "羊绒衫": ["纯羊绒衫", "山羊绒毛衣", "羊绒针织衫"],
    "法兰绒毯": ["法兰绒毛毯", "珊瑚绒毯"],
    "胶合板": ["多层胶合板", "杨木胶合板", "桉木胶合板"],
    "双肩包": ["双肩背包", "电脑双肩包", "旅行双肩包"],
    "PU革": ["PU皮革", "PU人造革", "PU合成革"],
}
SUFFIXES = ["批发", "厂家", "支持定制", "现货", "来样加工", "一件代发", "量大从优"]
MOQS = (1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 1000, 2000, 5000)


@dataclass(frozen=True)
class FirmRef:
    id: uuid.UUID
    industry: str
    county: str


def make_firms(n: int, now: datetime) -> tuple[list[dict[str, Any]], list[FirmRef], list[float]]:
    """Return firm rows (valid USCCs, the 7 counties, the 7 marketplace industries), refs, and cumulative weights.

    The weights make a few firms list many products and most firms a handful (Pareto), as on real marketplaces.
    """
    from saas.reference import size_class
    from saas.tools.demo import BRAND, COUNTY_INDUSTRIES, GIVEN, PARKS, PLACE, SURNAMES, TRADE, _size_sample

    rng = random.Random(SEED)
    counties = list(COUNTY_INDUSTRIES)
    rows, refs, weights = [], [], []
    for i in range(1, n + 1):
        county = counties[(i - 1) % len(counties)]
        industry = rng.choice([x for x in COUNTY_INDUSTRIES[county] if x in INDUSTRIES])
        employees, revenue = _size_sample(rng)
        firm_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        name = f"{rng.choice(PLACE[county])}{rng.choice(BRAND)}{rng.choice(BRAND)}{rng.choice(TRADE[industry])}有限公司"
        created = now - timedelta(days=rng.uniform(400, 1500))
        rows.append(
            {
                "id": firm_id,
                "name": name,
                "uscc": bench_uscc(i, county),
                "industry": industry,
                "county": county,
                "park": rng.choice(PARKS[county]) if rng.random() < 0.8 else None,
                "employees": employees,
                "revenue_wan": revenue,
                "size_class": size_class(employees, revenue),
                "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "contact_phone": f"0573-8{rng.randint(1000000, 9999999)}",
                "verified_at": now - timedelta(days=rng.uniform(1, 300)) if rng.random() < 0.6 else None,
                "created_at": created,
            }
        )
        refs.append(FirmRef(firm_id, industry, county))
        weights.append(min(rng.paretovariate(1.2), 60.0))
    return rows, refs, list(accumulate(weights))


def bench_uscc(n: int, county: str) -> str:
    """A deterministic valid USCC (GB 32100-2015 check characters) for bench firm number ``n``."""
    from saas.reference import DIVISION_CODES, org_code_check_char, uscc_check_char

    body = f"B{n:07d}"  # 'B' keeps these apart from the test suite's all-digit bodies
    first17 = "91" + DIVISION_CODES[county] + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def make_title(rng: random.Random, label: str, industry: str, county: str) -> str:
    """A seller-style title: optional selling point and place, 0–2 qualifiers, the product name, a suffix."""
    from saas.tools.demo import ADJECTIVES, PLACE

    names = PRODUCT_NAMES.get(label)
    parts = []
    if rng.random() < 0.45:
        parts.append(rng.choice(ADJECTIVES))
    if rng.random() < 0.15:
        parts.append(rng.choice(PLACE[county]))
    parts += rng.sample(QUALIFIERS[industry], k=rng.choice((0, 1, 1, 2)))
    parts.append(rng.choice(names) if names and rng.random() < 0.6 else label)
    if rng.random() < 0.3:
        parts.append(rng.choice(SUFFIXES))
    return (" " if rng.random() < 0.35 else "").join(parts)[:120]


def product_fields(rng: random.Random, leaf: Any, firm: FirmRef) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cleaned values and attributes of one valid product of category ``leaf`` (as services.clean returns)."""
    from saas.marketplace.catalog import default_catalog
    from saas.marketplace.catalog.attributes import validate_attributes
    from saas.tools.demo import COUNTY_NAMES, _demo_attribute

    catalog = default_catalog()
    template = catalog.attributes_for(leaf.slug)
    raw = {a.id: _demo_attribute(a, rng) for a in template if a.required or rng.random() < 0.5}
    attributes, errors = validate_attributes(template, raw, ignore_unknown=True)
    if errors:  # a demo value outside a bound: drop the optional ones it concerns, keep the product
        attributes = {k: v for k, v in attributes.items() if k not in errors}
    unit = rng.choice(catalog.sale_units_for(leaf.slug))
    moq = Decimal(rng.choice(MOQS))
    price = Decimal(f"{rng.uniform(3, 900):.2f}")
    values = {
        "category_slug": leaf.slug,
        "industry": leaf.industry,
        "title_zh": make_title(rng, leaf.label.zh, firm.industry, firm.county),
        "title_en": leaf.label.en if rng.random() < 0.7 else None,
        "description_zh": f"{COUNTY_NAMES[firm.county]}工厂直供，可按需定制，支持验厂。",
        "description_en": None,
        "sale_unit": unit.id,
        "moq": moq,
        "order_multiple": Decimal(1),
        "price_tiers": [
            {"min_qty": str(moq), "price": str(price)},
            {"min_qty": str(moq * 10), "price": str((price * Decimal("0.9")).quantize(Decimal("0.01")))},
        ],
        "price_on_request": rng.random() < 0.08,
        "samples_available": rng.random() < 0.6,
        "lead_time_days": rng.choice((3, 7, 10, 15, 20, 30, 45, 60)),
    }
    return values, attributes


_FIRMS: list[FirmRef] = []
_CUM_WEIGHTS: list[float] = []


def _init_worker(firms: list[FirmRef], cum_weights: list[float]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler is for the parent only
    _FIRMS[:] = firms
    _CUM_WEIGHTS[:] = cum_weights


def make_products(job: tuple[int, int, datetime]) -> list[dict[str, Any]]:
    """Product rows ``start`` … ``start + count - 1``: published, realistic, with the app's own search_text."""
    from saas.marketplace.catalog import default_catalog
    from saas.marketplace.services import _search_text

    start, count, now = job
    rng = random.Random(SEED * 1000 + start)
    leaves = {ind: default_catalog().leaves(ind) for ind in INDUSTRIES}
    rows = []
    for n in range(start, start + count):
        firm = _FIRMS[min(bisect(_CUM_WEIGHTS, rng.random() * _CUM_WEIGHTS[-1]), len(_FIRMS) - 1)]
        leaf = rng.choice(leaves[firm.industry])
        values, attributes = product_fields(rng, leaf, firm)
        published = now - timedelta(seconds=rng.uniform(0, 730 * 86400))
        created = published - timedelta(days=rng.uniform(0.1, 20))
        rows.append(
            {
                **values,
                "firm_id": firm.id,
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "sku": f"JX-{n:07d}" if rng.random() < 0.7 else None,
                "attributes": attributes,
                "status": "published",
                "rejection_reason": None,
                "search_text": _search_text(values, attributes),
                "created_at": created,
                "updated_at": published,
                "submitted_at": published - timedelta(hours=rng.uniform(1, 48)),
                "published_at": published,
                "moderated_by_id": None,
            }
        )
    return rows


@dataclass
class Dataset:
    firms: list[dict[str, Any]]
    products: list[dict[str, Any]] = field(default_factory=list)


def seed_sqlite_and_generate(url: str, n_products: int, n_firms: int, timings: dict[str, float]) -> Dataset:
    """Generate the data set in worker processes while the main process inserts it into the SQLite database."""
    from saas.models import Firm, Product, utcnow

    now = utcnow()
    start = time.perf_counter()
    firms, refs, cum = make_firms(n_firms, now)
    data = Dataset(firms)
    engine = create_engine(url)
    jobs = [(s, min(CHUNK, n_products - s), now) for s in range(0, n_products, CHUNK)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, (os.cpu_count() or 2)), initializer=_init_worker, initargs=(refs, cum)) as pool:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")  # seeding only; the app's connections use the default
            conn.execute(insert(Firm.__table__), firms)
            for rows in pool.imap(make_products, jobs):
                conn.execute(insert(Product.__table__), rows)
                data.products.extend(rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")  # statistics for the planner, as after any bulk load
    engine.dispose()
    timings["seed_sqlite_s"] = time.perf_counter() - start
    return data


def seed_postgres(owner_url: str, data: Dataset, timings: dict[str, float]) -> None:
    """Insert the same rows as the owner (no RLS for the superuser), then VACUUM ANALYZE as autovacuum would."""
    from saas.models import Firm, Product

    start = time.perf_counter()
    engine = create_engine(owner_url)
    with engine.begin() as conn:
        conn.execute(insert(Firm.__table__), data.firms)
        for i in range(0, len(data.products), CHUNK):
            conn.execute(insert(Product.__table__), data.products[i : i + CHUNK])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # the steady state: autovacuum runs after a bulk insert (hint bits, visibility map, statistics)
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    timings["seed_postgres_s"] = time.perf_counter() - start


@contextmanager
def postgres_database(owner_url: str) -> Iterator[str]:
    """Create the bench database (dropping an old one), migrate it, yield the app role's URL; drop it afterwards."""
    from saas.tools import migrate

    base = make_url(owner_url)
    name = base.database
    assert name and re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        migrate.upgrade(owner_url)
        yield base.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_reachable(owner_url: str) -> bool:
    admin = create_engine(make_url(owner_url).set(database="postgres"))
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means the server is absent
        note(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping it")
        return False
    finally:
        admin.dispose()


def make_app(url: str) -> Any:
    from config import TestingConfig
    from saas.app import create_app

    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False)


# --- Search -----------------------------------------------------------------------------------------------------


def _pairs(spec: str) -> list[tuple[str, str]]:
    """Parse ``"query=industry; …"``: queries buyers type, each with the industry it belongs to (for filters)."""
    return [(q.strip(), ind.strip()) for q, ind in (item.split("=") for item in spec.split(";") if item.strip())]


SHORT_QUERIES = _pairs(
    "真丝=silk; 丝巾=silk; 牛皮=leather; 箱包=luggage; 经编=warp_knitting; 羊绒=garment; 面料=textile; 皮革=leather;"
    "拉杆=luggage; 实木=wood; 纯棉=textile; 印花=textile; 围巾=silk; 毛毯=warp_knitting; 板材=wood; 双绉=silk"
)
LONG_QUERIES = _pairs(
    "真丝围巾=silk; 头层牛皮手提包=luggage; 拉杆箱=luggage; 羊绒衫=garment; 珊瑚绒毯=warp_knitting;"
    "19姆米 真丝=silk; E0级 胶合板=wood; 双肩包 防水=luggage; 纯棉 床品套件=textile; 经编蕾丝=warp_knitting;"
    "桑蚕丝被=silk; 头层牛皮=leather"
)
LATIN_QUERIES = _pairs("PU=leather; silk=silk; PU 革=leather; cashmere=garment; oxford=textile; PC=luggage")


@dataclass(frozen=True)
class Probe:
    params: Any  # SearchParams
    kind: str  # q2, qlong, qlatin, browse

    def tags(self) -> list[str]:
        """The groups this search is reported in (its kind, its filters, its sort, its depth)."""
        p = self.params
        filters = [name for name in ("category", "industry", "county", "verified", "moq", "attrs") if getattr(p, name)]
        tags = [self.kind, "filtered" if filters else "unfiltered", *filters, f"sort_{p.sort}"]
        tags.append("page1" if p.page == 1 else ("page2_3" if p.page <= 3 else "deep_page"))
        return tags

    def describe(self) -> str:
        p = self.params
        bits = [f"q={p.q!r}"]
        bits += [f"{k}={getattr(p, k)}" for k in ("industry", "category", "county", "moq", "attrs") if getattr(p, k)]
        bits += ["verified"] * p.verified + [f"sort={p.sort}", f"page={p.page}"]
        return f"{self.kind}: " + " ".join(bits)


def search_mix(n: int) -> list[Probe]:
    """A deterministic, realistic mix: short, long and Latin queries, facet filters, sorts, pages, and browsing."""
    from saas.marketplace.catalog import default_catalog
    from saas.marketplace.search import MOQ_VALUES, SearchParams, filterable, number_ranges
    from saas.reference import COUNTIES

    catalog = default_catalog()
    rng = random.Random(7)
    counties = list(COUNTIES)
    probes = []
    for _ in range(n):
        kind = rng.choices(["q2", "qlong", "qlatin", "browse"], weights=[35, 25, 10, 30])[0]
        pool = {"q2": SHORT_QUERIES, "qlong": LONG_QUERIES, "qlatin": LATIN_QUERIES}.get(kind)
        q, industry = rng.choice(pool) if pool else ("", rng.choice(INDUSTRIES))
        cats = catalog.categories(industry)
        args: dict[str, Any] = {"q": q}
        if kind == "browse":  # the category pages' sibling: empty query, a category or an industry chosen
            if rng.random() < 0.75:
                args["category"] = rng.choice(cats).slug
            else:
                args["industry"] = industry
        else:
            if rng.random() < 0.25:
                args["industry"] = industry
            if rng.random() < 0.3:
                args["category"] = rng.choice(cats).slug
        if rng.random() < 0.25:
            args["county"] = rng.choice(counties)
        if rng.random() < 0.25:
            args["verified"] = True
        if rng.random() < 0.1:
            args["moq"] = tuple(rng.sample(MOQ_VALUES, rng.randint(1, 2)))
        attributes = filterable(SearchParams(category=args.get("category")))
        if attributes and rng.random() < 0.3:  # a click on an attribute facet of the chosen category
            attr = rng.choice(attributes)
            choices = [r[0] for r in number_ranges(attr)] if attr.type == "number" else [o.id for o in attr.options]
            if choices:
                args["attrs"] = ((attr.id, tuple(rng.sample(choices, min(len(choices), rng.randint(1, 2))))),)
        args["sort"] = rng.choices(["relevance", "newest", "moq"], weights=[70, 15, 15])[0]
        args["page"] = rng.choices([1, rng.randint(2, 3), rng.randint(5, 25)], weights=[75, 15, 10])[0]
        probes.append(Probe(SearchParams(**args), kind))
    return probes


class StatementTimer:
    """Time each SQL statement of a search and name it after its role in ``search()`` (by its text)."""

    def __init__(self, engine: Engine) -> None:
        self.parts: dict[str, float] = defaultdict(float)
        self._starts: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.parts = defaultdict(float)

    def _before(self, *_args: Any) -> None:
        self._starts.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        elapsed = (time.perf_counter() - self._starts.pop()) * 1000
        self.parts[self.role(statement)] += elapsed

    @staticmethod
    def role(statement: str) -> str:
        """The statement's role in ``search()`` (saas/marketplace/search.py, listing_index.py)."""
        if "set_config" in statement:
            return "rls_context"
        if "listing_changes" in statement or "pg_current_snapshot" in statement:
            return "index_sync"
        if "group_concat(rowid)" in statement or "string_agg(listing_key" in statement:
            return "text_match"
        if "json_extract(attributes" in statement or "json_to_record(attributes)" in statement:
            return "attribute_table"
        if "FROM product_listings" in statement:
            return "index_load"
        if "products.title_zh" in statement:
            return "page_rows"
        if "search_misses" in statement:
            return "search_miss"
        return "other"


@dataclass
class SearchFigures:
    times: list[float] = field(default_factory=list)
    tags: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    parts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    slowest: list[tuple[float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    load: float = 0.0  # the 1-minute load average at the end: other work on the machine skews the figures
    index_load_ms: float = 0.0  # a fresh full load of the listing index (each process pays it once)
    index_mb: float = 0.0  # the memory that load allocated (tracemalloc: Python objects and numpy arrays)


def bench_search(url: str, probes: list[Probe], warmup: int, budget_s: float) -> SearchFigures:
    """Warm up with the first ``warmup`` searches, then time every search (a fresh session each, as one request
    has) until ``budget_s`` seconds have passed. A search that raises is counted in ``errors``, not timed.
    """
    from saas.core.extensions import db
    from saas.marketplace.search import search

    app = make_app(url)
    engine = app.extensions["database"][0]
    timer = StatementTimer(engine)
    figures = SearchFigures()
    try:
        for timed, batch in ((False, probes[:warmup]), (True, probes)):
            deadline = time.perf_counter() + budget_s
            for probe in batch:
                if timed and time.perf_counter() > deadline:
                    note(f"search time budget of {budget_s:.0f} s spent after {len(figures.times)} searches")
                    break
                with app.test_request_context("/market/search"):  # labels are translated per request
                    timer.reset()
                    start = time.perf_counter()
                    try:
                        result = search(db.session, probe.params, PAGE_SIZE, "zh_CN")
                    except Exception as exc:  # noqa: BLE001 - reported, not fatal for the benchmark
                        if timed:
                            first_line = str(exc).splitlines()[0][:160]
                            figures.errors.append(f"{probe.describe()} -> {type(exc).__name__}: {first_line}")
                        continue
                    elapsed = (time.perf_counter() - start) * 1000
                if not timed:
                    continue
                figures.times.append(elapsed)
                for tag in probe.tags():
                    figures.tags[tag].append(elapsed)
                for part, ms in timer.parts.items():
                    figures.parts[part].append(ms)
                figures.slowest.append((elapsed, f"{probe.describe()} -> {result.total} hits"))
        figures.index_load_ms, figures.index_mb = measure_index_load(app)
    finally:
        engine.dispose()
    figures.load = os.getloadavg()[0]
    figures.slowest.sort(reverse=True)
    return figures


def measure_index_load(app: Any) -> tuple[float, float]:
    """Load a fresh listing index: the time (untraced) and the memory it holds (a second, traced load)."""
    import gc
    import tracemalloc

    from saas.core.extensions import db
    from saas.marketplace.listing_index import ListingIndex

    with app.test_request_context("/"):
        start = time.perf_counter()
        ListingIndex().current(db.session)
        elapsed = (time.perf_counter() - start) * 1000
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            index = ListingIndex()
            index.current(db.session)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        del index
    return elapsed, held / 1024 / 1024


def search_lines(backend: str, figures: SearchFigures) -> list[str]:
    """The p95 and p50 of the mix, the p95 per kind of search (slowest first) and per statement of ``search()``."""
    lines = [
        f"search_p95_ms_{backend}: {percentile(figures.times, 95):.1f} ms",
        f"search_p50_ms_{backend}: {percentile(figures.times, 50):.1f} ms",
        f"search_max_ms_{backend}: {max(figures.times, default=float('nan')):.1f} ms",
        f"search_count_{backend}: {len(figures.times)} searches",
        f"search_errors_{backend}: {len(figures.errors)} searches",
        f"search_load_average_{backend}: {figures.load:.1f} load",
        f"listing_index_load_ms_{backend}: {figures.index_load_ms:.0f} ms",
        f"listing_index_mb_{backend}: {figures.index_mb:.1f} MB",
    ]
    for tag, times in sorted(figures.tags.items(), key=lambda kv: -percentile(kv[1], 95)):
        if len(times) >= 5:
            lines.append(f"search_p95_ms_{backend}_{tag}: {percentile(times, 95):.1f} ms")
    for part, times in sorted(figures.parts.items(), key=lambda kv: -percentile(kv[1], 95)):
        lines.append(f"search_part_p95_ms_{backend}_{part}: {percentile(times, 95):.1f} ms")
    for elapsed, what in figures.slowest[:8]:
        note(f"slowest {backend} search {elapsed:.1f} ms: {what}")
    for error in figures.errors[:5]:
        note(f"{backend} search failed: {error}")
    return lines


# --- Throughput under gunicorn ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 30.0) -> tuple[int, int]:
    """One GET over a new connection (gunicorn's sync workers close it after each response): (status, bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    body = b"".join(chunks)
    status = int(body.split(b" ", 2)[1]) if body.startswith(b"HTTP/") else 0
    return status, len(body)


@contextmanager
def gunicorn(app_spec: str, chdir: Path, env: dict[str, str], log: Path) -> Iterator[int]:
    """Run ``gunicorn -w 2`` (sync workers) on a free port; yield the port once it answers; stop it afterwards."""
    port = free_port()
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "--workers", "2", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--chdir", str(chdir), "--log-level", "warning", app_spec]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=chdir, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn {app_spec} exited with {proc.returncode}; see {log}")
            try:
                http_get(port, "/", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _load_worker(port: int, path: str, seconds: float, out: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ok = bad = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            status, _size = http_get(port, path)
        except OSError:
            status = 0
        if status == 200:
            ok += 1
        else:
            bad += 1
    out.put((ok, bad))


def load(port: int, path: str, seconds: float, concurrency: int) -> float:
    """Requests per second with ``concurrency`` client processes, each one request at a time."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    args = (port, path, seconds, queue)
    procs = [ctx.Process(target=_load_worker, args=args, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.join()
    ok = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    if bad:
        note(f"{bad} non-200 answers from {path} (not counted)")
    return ok / elapsed


def bench_throughput(sqlite_url: str, tmp: Path, seconds: float, concurrency: int) -> list[str]:
    """The catalogue page of the real app (on the seeded SQLite database, the default embedded one) against
    a hello-world Flask app, both under gunicorn with 2 sync workers, loaded by the same client."""
    env = {"APP_ENV": "development", "DATABASE_URL": sqlite_url, "RATELIMIT_STORAGE": "memory"}
    env |= {"SECRET_KEY": "bench-not-secret", "PRODUCT_IMAGE_DIR": str(tmp / "images")}
    log = tmp / "gunicorn.log"
    figures = {}
    with gunicorn("hello_app:app", ROOT / "bench", env, log) as port:
        load(port, "/", min(3.0, seconds), concurrency)  # warm-up
        figures["hello"] = load(port, "/", seconds, concurrency)
    with gunicorn("wsgi:app", ROOT, env, log) as port:
        status, size = http_get(port, CATALOGUE_PATH)
        if status != 200:
            raise RuntimeError(f"{CATALOGUE_PATH} answered {status}; see {log}")
        note(f"catalogue page {CATALOGUE_PATH}: {size / 1000:.1f} kB")
        # The app's floor: /healthz runs every request hook and one SELECT 1, so the gap to the catalogue page is
        # the catalogue's own queries and template.
        for name, path in (("healthz", "/healthz"), ("catalogue", CATALOGUE_PATH)):
            load(port, path, min(3.0, seconds), concurrency)  # warm-up: imports, caches, page cache
            figures[name] = load(port, path, seconds, concurrency)
        figures["load"] = os.getloadavg()[0]
    return [
        f"catalogue_throughput_ratio: {figures['catalogue'] / figures['hello']:.3f} ratio",
        f"catalogue_rps: {figures['catalogue']:.1f} req/s",
        f"hello_rps: {figures['hello']:.1f} req/s",
        f"app_healthz_rps: {figures['healthz']:.1f} req/s",
        f"throughput_load_average: {figures['load']:.1f} load",
    ]


# --- Bulk import ------------------------------------------------------------------------------------------------


def import_rows(n: int) -> list[dict[str, Any]]:
    """``n`` valid crêpe de chine rows (they pass ``services.clean``), keyed by product field or ``attr:<id>``."""
    from saas.marketplace.services import ProductInput, clean

    rng = random.Random(11)
    rows = []
    for i in range(n):
        moq = rng.choice((50, 100, 200, 500))
        price = Decimal(f"{rng.uniform(40, 160):.2f}")
        fibres = rng.choice(["桑蚕丝", "桑蚕丝、氨纶", "mulberry-silk"])
        row = {
            "sku": f"IMP-{i:06d}",
            "category_slug": IMPORT_CATEGORY,
            "title_zh": make_title(rng, "双绉", "silk", "tongxiang"),
            "title_en": "Silk crepe de chine",
            "description_zh": "桐乡工厂直供，支持来样定制。",
            "description_en": "",
            "sale_unit": rng.choice(("m", "yd")),
            "moq": str(moq),
            "order_multiple": "1",
            "tier1_qty": str(moq),
            "tier1_price": str(price),
            "tier2_qty": str(moq * 10),
            "tier2_price": str((price * Decimal("0.9")).quantize(Decimal("0.01"))),
            "price_on_request": "",
            "samples_available": rng.choice(("是", "否")),
            "lead_time_days": str(rng.choice((7, 15, 30))),
            "attr:fibre_composition": fibres,
            "attr:momme": f"{rng.choice((12, 14, 16, 19, 22))}",
            "attr:fabric_width": f"{rng.choice((114, 140))}",
            "attr:colour_family": rng.choice(["白色", "黑色", ""]),
        }
        if i < 20:  # the rows are valid for the app's own validation
            attrs = {k[5:]: v for k, v in row.items() if k.startswith("attr:")}
            tiers = [(row["tier1_qty"], row["tier1_price"]), (row["tier2_qty"], row["tier2_price"])]
            fields = {k: row[k] for k in ("category_slug", "title_zh", "title_en", "sale_unit", "moq")}
            data = ProductInput(**fields, tiers=tiers, lead_time_days=row["lead_time_days"], attributes=attrs)
            assert not clean(data).errors, clean(data).errors
        rows.append(row)
    return rows


def template_rows(data: bytes, n: int = 2) -> list[list[str]]:
    """The first ``n`` rows of the first sheet of ``build_template``'s XLSX: the machine keys and the headings."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [[str(v or "") for v in row] for row in sheet.iter_rows(max_row=n, values_only=True)]


def import_csv(n: int, template: bytes) -> bytes:
    """The template's two heading rows saved as CSV (UTF-8 with BOM, as Excel writes it) and ``n`` products."""
    rows = import_rows(n)
    headings = template_rows(template)
    keys = [cell.split()[0] if cell.strip() else "" for cell in headings[0]]  # "category_slug <default slug>"
    missing = set(rows[0]) - set(keys)
    if missing:
        note(f"import: the template has no column for {sorted(missing)}; left out")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(headings)
    for row in rows:
        writer.writerow([row.get(k, "") for k in keys])
    return out.getvalue().encode("utf-8-sig")


def bench_import(sqlite_url: str, n_rows: int, n_firms: int) -> list[str]:
    """Time ``run_import`` of ``n_rows`` new products (parse + validate + write) and the commit, into a firm with
    an owner on the seeded SQLite database (100,000 products, so the FTS5 triggers work on a full index)."""
    try:
        from saas.marketplace import bulk
    except ImportError as exc:
        note(f"saas.marketplace.bulk is not available ({exc}); import_10k_rows_s not measured")
        return ["import_10k_rows_s: n/a s"]
    from saas.auth.services import register_firm
    from saas.core.extensions import db
    from saas.core.tenancy import set_tenant
    from saas.models import Product

    data = import_csv(n_rows, bulk.build_template(IMPORT_CATEGORY, "zh_CN"))
    logging.getLogger("saas.core.mail").setLevel(logging.WARNING)  # the owner's verification email is logged otherwise
    app = make_app(sqlite_url)
    try:
        with app.test_request_context(), redirect_stdout(io.StringIO()):
            dbs = db.session
            firm, owner = register_firm(
                dbs,
                firm_name="桐乡基准丝绸有限公司",
                uscc=bench_uscc(n_firms + 1, "tongxiang"),
                industry="silk",
                county="tongxiang",
                park=None,
                employees=120,
                revenue_wan=3000,
                contact_name="沈立新",
                contact_phone=None,
                owner_name="沈立新",
                email="import-bench@bench.example",
                password="bench password 2026",
            )
            dbs.commit()
            set_tenant(dbs, firm.id, owner.id)
            start = time.perf_counter()
            report = bulk.run_import(dbs, firm, owner, "products.csv", data, dry_run=False)
            if report.committed:  # run_import flushes inside a savepoint; the caller commits
                dbs.commit()
            elapsed = time.perf_counter() - start
            stored = dbs.scalar(select(func.count()).select_from(Product).where(Product.firm_id == firm.id))
        note(f"import: {len(data) / 1e6:.1f} MB CSV, {report.rows} rows, {report.created} created, "
             f"{len(report.errors)} errors, {stored} stored, {elapsed:.2f} s")  # fmt: skip
    finally:
        app.extensions["database"][0].dispose()
    if not report.committed:
        for error in report.errors[:5]:
            note(f"import error: row {error.row} {error.column} {error.code}: {error.message}")
        return ["import_10k_rows_s: n/a s"]
    return [
        f"import_10k_rows_s: {elapsed * 10_000 / n_rows:.2f} s",
        f"import_rows_per_s: {n_rows / elapsed:.0f} rows/s",
    ]


# --- Main -------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--firms", type=int, default=10_000)
    parser.add_argument("--searches", type=int, default=240, help="timed searches per backend (after a warm-up)")
    parser.add_argument("--warmup", type=int, default=30, help="searches run before timing")
    parser.add_argument("--search-budget", type=float, default=600.0, help="seconds of timed searches per backend")
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration per server")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes of the load generator")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    # A plain `kill` still stops gunicorn, drops the PostgreSQL database and removes the temporary directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from saas.tools import migrate

    timings: dict[str, float] = {}
    probes = search_mix(args.searches)
    with tempfile.TemporaryDirectory(prefix="jx-bench-market-") as tmp_name:
        tmp = Path(tmp_name)
        sqlite_url = f"sqlite:///{tmp}/market.db"
        start = time.perf_counter()
        migrate.upgrade(sqlite_url)
        data = seed_sqlite_and_generate(sqlite_url, args.products, args.firms, timings)
        print(f"seed_sqlite_s: {timings['seed_sqlite_s']:.1f} s", flush=True)
        note(f"SQLite: migrate + generate + insert {len(data.products)} products, {len(data.firms)} firms "
             f"in {time.perf_counter() - start:.1f} s")  # fmt: skip

        for line in search_lines("sqlite", bench_search(sqlite_url, probes, args.warmup, args.search_budget)):
            print(line, flush=True)

        if args.skip_postgres or not postgres_reachable(PG_URL):
            note("PostgreSQL skipped: search_p95_ms_postgres not measured")
            print("search_p95_ms_postgres: n/a ms", flush=True)
        else:
            with postgres_database(PG_URL) as app_url:
                seed_postgres(PG_URL, data, timings)
                print(f"seed_postgres_s: {timings['seed_postgres_s']:.1f} s", flush=True)
                for line in search_lines("postgres", bench_search(app_url, probes, args.warmup, args.search_budget)):
                    print(line, flush=True)
        del data

        for line in bench_throughput(sqlite_url, tmp, args.seconds, args.concurrency):
            print(line, flush=True)
        for line in bench_import(sqlite_url, args.import_rows, args.firms):
            print(line, flush=True)


if __name__ == "__main__":
    main()
