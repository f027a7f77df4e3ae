"""A quick contention check (not a benchmark): gunicorn with several workers and threads on a seeded SQLite or
PostgreSQL database, firms autosaving answers while visitors search (hits and zero hits, web and API).

Prints the answers, the 5xx count, the lost writes (an answer acknowledged with 200 whose last value is not in the
database afterwards) and the zero-result log's rows per visitor. Loopback only, bounded in time.

    .venv/bin/python scripts/mixed_writes_check.py [--seconds 30] [--database-url sqlite:////tmp/x.db] [--root DIR]

``--root`` runs another checkout's code (e.g. an exported older commit) with this script's load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from http.cookiejar import CookieJar
from pathlib import Path

from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PASSWORD = "correct horse battery staple"


def uscc(n: int) -> str:
    sys.path.insert(0, str(HERE))
    from saas.reference import DIVISION_CODES, org_code_check_char, uscc_check_char

    body = f"{n:08d}"
    first17 = "91" + DIVISION_CODES["nanhu"] + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as r:
                return r.status, r.geturl(), r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, path, exc.read().decode(errors="replace")

    def token(self, path: str) -> str:
        match = CSRF_RE.search(self.open(path)[2])
        assert match, path
        return match.group(1)


class Firm(threading.Thread):
    """Registers, starts an assessment and autosaves random answers 50–150 ms apart until told to stop."""

    def __init__(self, base: str, n: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.b, self.n, self.stop = Browser(base), n, stop
        self.codes: Counter = Counter()
        self.acked: dict[str, str] = {}  # question id -> value of the last answer acknowledged with 200
        self.assessment = ""

    def set_up(self) -> None:
        form = {
            "csrf_token": self.b.token("/auth/register"),
            "firm_name": f"嘉兴负载测试丝绸有限公司{self.n}",
            "uscc": uscc(700000 + self.n),
            "industry": "silk",
            "county": "nanhu",
            "employees": "40",
            "revenue_wan": "500",
            "contact_name": "李四",
            "owner_name": "李四",
            "email": f"load{self.n}@load.example",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        }
        status, url, _ = self.b.open("/auth/register", form)
        assert url.endswith("/firm/"), (status, url)
        _, url, html = self.b.open("/assessments/start", {"csrf_token": self.b.token("/assessments/")})
        self.assessment = url.split("/assessments/")[1].split("/")[0]
        self.token = CSRF_RE.search(html).group(1)  # type: ignore[union-attr]
        groups: dict[str, list[str]] = {}
        for name, value in re.findall(r'type="radio" name="(q-[a-z0-9_]+)" value="([^"]+)"', html):
            groups.setdefault(name, []).append(value)
        self.groups = groups

    def run(self) -> None:
        rng = random.Random(self.n)
        while not self.stop.is_set():
            name = rng.choice(sorted(self.groups))
            value = rng.choice(self.groups[name])
            data = {"csrf_token": self.token, "question_id": name[2:], name: value}
            status, _, _ = self.b.open(f"/assessments/{self.assessment}/answer", data)
            self.codes[status] += 1
            if status == 200:
                self.acked[name[2:]] = value
            time.sleep(rng.uniform(0.05, 0.15))


class Searcher(threading.Thread):
    def __init__(self, base: str, n: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.n, self.stop = base, n, stop
        self.codes: Counter = Counter()

    def run(self) -> None:
        rng = random.Random(1000 + self.n)
        hits = ["真丝", "箱包", "面料", "羊绒", "经编"]
        while not self.stop.is_set():
            word = rng.choice(hits) if rng.random() < 0.5 else "无此商品" + str(rng.randrange(10**6))
            path = ("/api/v1/products?q=" if rng.random() < 0.5 else "/market/search?q=") + urllib.parse.quote(word)
            try:
                with urllib.request.urlopen(self.base + path, timeout=60) as r:
                    r.read()
                    self.codes[r.status] += 1
            except urllib.error.HTTPError as exc:
                self.codes[exc.code] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--firms", type=int, default=8)
    parser.add_argument("--searchers", type=int, default=8)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--root", default=str(HERE))
    args = parser.parse_args()
    root = Path(args.root)
    tmp = Path(tempfile.mkdtemp(prefix="jx_mixed_"))
    url = args.database_url or f"sqlite:///{tmp}/mixed.db"
    env = dict(
        os.environ,
        APP_ENV="development",
        DATABASE_URL=url,
        MIGRATIONS_DATABASE_URL=os.environ.get("MIGRATIONS_DATABASE_URL", url),
        RATELIMIT_STORAGE="memory",
        RATELIMIT_SENSITIVE="100000 per minute",
        RATELIMIT_LOGIN_PER_IP="100000 per minute",
        REPORTS_SYNC="1",
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST="8192",
        ARGON2_PARALLELISM="1",
    )
    py = str(HERE / ".venv/bin/python")
    subprocess.run([py, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=root, env=env, check=True)
    subprocess.run(
        [py, "-m", "flask", "--app", "wsgi", "seed-demo", "--firms", "30"],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(HERE / ".venv/bin/gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "gunicorn.log", "w"),  # noqa: SIM115 - closed with the process
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        stop = threading.Event()
        firms = [Firm(base, i, stop) for i in range(args.firms)]
        for firm in firms:
            firm.set_up()
        searchers = [Searcher(base, i, stop) for i in range(args.searchers)]
        for t in [*firms, *searchers]:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in [*firms, *searchers]:
            t.join(60)
        time.sleep(3)  # the zero-result log's batches
    finally:
        server.terminate()
        server.wait(30)
    answers = sum((f.codes for f in firms), Counter())
    searches = sum((s.codes for s in searchers), Counter())
    lost = 0
    engine = create_engine(os.environ.get("MIGRATIONS_DATABASE_URL", url))
    with engine.connect() as conn:
        for firm in firms:
            aid = firm.assessment if engine.dialect.name == "postgresql" else firm.assessment.replace("-", "")
            stored = dict(
                conn.execute(
                    text("SELECT question_id, value FROM assessment_answers WHERE assessment_id = :a"), {"a": aid}
                ).all()
            )
            for qid, value in firm.acked.items():
                got = stored.get(qid)
                got = json.loads(got) if engine.dialect.name == "sqlite" and got is not None else got
                lost += got != value
        try:
            per_visitor = conn.execute(text("SELECT visitor, count(*) FROM search_gap_visits GROUP BY visitor")).all()
            gap_rows = f"search_gap_rows_per_visitor: {sorted(n for _v, n in per_visitor)}"
        except Exception:  # noqa: BLE001 - the old schema
            conn.rollback()
            gap_rows = "search_miss_rows: " + str(conn.execute(text("SELECT count(*) FROM search_misses")).scalar())
    engine.dispose()
    print(f"answers: {sum(answers.values())} {dict(answers)}")
    print(f"searches: {sum(searches.values())} {dict(searches)}")
    five = sum(n for c, n in (answers + searches).items() if c >= 500)
    print(f"mixed_5xx: {five}")
    print(f"mixed_lost_writes: {lost}")
    print(gap_rows)


if __name__ == "__main__":
    main()
