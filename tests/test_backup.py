"""``flask backup`` → ``flask restore`` into an empty instance: equal row counts, equal files, the same pages.

Runs on the backend of the pass (SQLite, or PostgreSQL with the app on its non-owner role). The two instances are
separate databases and store folders with real commits (not the per-test rollback), seeded through the services and
the web routes: firms, submitted assessments with snapshots, a draft with answers and an evidence file, a published
product with a photo, a rendered PDF report and a file awaiting import.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from config import TestingConfig
from saas.app import create_app
from saas.core.extensions import db, limiter
from saas.tools.backup import STORES, _target_rows, owner_url
from tests.conftest import BACKEND, PASSWORD, Client, fill_answers, fresh_database, grant_pro, valid_uscc


@pytest.fixture()
def instances(app: Flask, tmp_path: Path):
    """A source and an empty target instance (own databases and folders); the session app is restored after."""
    bound, engine, factory = db._test_connection, db.engine, db._factory
    db.bind_to_connection(None)
    made: list[Flask] = []

    def instance(name: str) -> Flask:
        urls = fresh_database(f"jx_test_{name}")
        folders = {store: str(tmp_path / name / store.lower()) for store in STORES}
        other = create_app(
            TestingConfig,
            SQLALCHEMY_DATABASE_URI=urls.app,
            MIGRATIONS_DATABASE_URI=urls.owner,
            **folders,
        )
        made.append(other)
        return other

    try:
        yield instance("backup_src"), instance("backup_dst")
    finally:
        for other in made:
            other.extensions["database"][0].dispose()
        db.bind_to_connection(bound)
        db.engine, db._factory = engine, factory
        limiter.init_app(app)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 60)).save(buf, "JPEG")
    return buf.getvalue()


def _client(app: Flask, email: str) -> Client:
    client = Client(app.test_client())
    assert client.login(email).status_code == 302
    return client


def _multipart(client: Client, url: str, fields: dict[str, Any]) -> Any:
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.raw.post(url, data=stream.getvalue(), content_type=f"multipart/form-data; boundary={boundary}")


def seed(app: Flask) -> dict[str, Any]:
    """Fill the source instance; return the ids the page comparison needs."""
    from saas.assessments import services as assessments
    from saas.auth.services import register_firm
    from saas.core.tenancy import set_tenant
    from saas.marketplace.services import ProductInput, add_image, clean, save_product
    from saas.models import Assessment, Evidence, Firm, User, utcnow
    from tests.conftest import DEFAULT_SILK_ATTRIBUTES

    ids: dict[str, Any] = {}
    firms = []
    with app.test_request_context():
        s = db.session
        for n, (name, county) in enumerate((("嘉兴备份丝绸有限公司", "nanhu"), ("海宁备份箱包有限公司", "haining"))):
            firm, user = register_firm(
                s,
                firm_name=name,
                uscc=valid_uscc(900 + n, county),
                industry="silk",
                county=county,
                park=None,
                employees=60,
                revenue_wan=900,
                contact_name="李四",
                contact_phone=None,
                owner_name="李四",
                email=f"backup{n}@firm.example",
                password=PASSWORD,
            )
            firms.append((firm.id, user.id, user.email))
        s.commit()
        # firm 0: a submitted assessment (score snapshot, cohort statistics) and a published product with a photo
        firm_id, user_id, _email = firms[0]
        set_tenant(s, firm_id, user_id)
        firm, user = s.get(Firm, firm_id), s.get(User, user_id)
        assessment = assessments.start_assessment(s, firm, user, utcnow().date())
        fill_answers(s, assessment, 0.55, random.Random(7))
        assessments.submit_assessment(s, firm, user, assessment)
        ids["submitted"] = assessment.id
        cleaned = clean(
            ProductInput(
                category_slug="silk/silk-fabric/crepe-de-chine",
                title_zh="备份恢复测试真丝双绉面料",
                sale_unit="m",
                moq="100",
                tiers=[("100", "88")],
                lead_time_days="15",
                attributes=DEFAULT_SILK_ATTRIBUTES,
            )
        )
        assert not cleaned.errors
        product = save_product(s, firm, user, None, cleaned)
        product.status, product.published_at = "published", utcnow()
        s.flush()
        image = add_image(s, firm, user, product, _jpeg())
        ids["product"], ids["image"], ids["supplier"] = product.id, image.id, firm_id
        s.commit()
        set_tenant(s, None)
    # firm 0 (on Pro) renders its PDF report through the route (REPORTS_SYNC: inside the request)
    grant_pro(app, firms[0][0])
    owner = _client(app, firms[0][2])
    response = owner.post(f"/benchmarking/{ids['submitted']}/pdf")
    assert response.status_code == 302
    ids["report"] = response.headers["Location"] + "/file"
    pdf = owner.get(ids["report"])
    assert pdf.data.startswith(b"%PDF")
    pdf.close()
    # firm 1: a draft with autosaved answers and an evidence file
    member = _client(app, firms[1][2])
    assert member.post("/assessments/start").status_code == 302
    with app.test_request_context():
        set_tenant(db.session, firms[1][0])
        draft = db.session.scalar(select(Assessment))
        version = assessments.active_instrument(db.session)
        instrument = assessments.engine_instrument(version)
        import scoring

        questions = [
            q for dim in scoring.questions_for(instrument, draft.industry) for q in dim.questions if q.type == "single"
        ][:3]
    for q in questions:
        form = {"question_id": q.id, f"q-{q.id}": q.options[0].id, f"conf-{q.id}": "4"}
        assert member.post(f"/assessments/{draft.id}/answer", form).get_json()["ok"] is True
    fields = {
        "csrf_token": member.csrf_token(),
        "question_id": questions[0].id,
        "step": "1",
        "file": FileStorage(stream=io.BytesIO(_png()), filename="现场照片.png"),
    }
    assert _multipart(member, f"/assessments/{draft.id}/evidence", fields).status_code == 302
    with app.test_request_context():
        set_tenant(db.session, firms[1][0])
        ids["evidence"] = db.session.scalar(select(Evidence.id))
    ids["draft"], ids["owners"] = draft.id, [f[2] for f in firms]
    # a checked file awaiting import
    pending = Path(app.config["IMPORT_UPLOAD_DIR"]) / str(firms[0][0]) / f"{uuid.uuid4().hex}.csv"
    pending.parent.mkdir(parents=True)
    pending.write_text("sku,title_zh\nA1,真丝\n", encoding="utf-8")
    return ids


def _files(app: Flask) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for store in STORES:
        root = Path(app.config[store])
        found[store] = {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
    return found


_VOLATILE = (
    re.compile(r'name="csrf_token" (?:type="hidden" )?value="[^"]+"'),
    re.compile(r'nonce="[^"]+"'),
)


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    data = response.get_data()
    response.close()  # files are sent from disk
    assert response.status_code == 200, url
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False, sort_keys=True)
    if not response.mimetype.startswith("text/"):
        return hashlib.sha256(data).hexdigest()
    body = data.decode()
    for pattern in _VOLATILE:
        body = pattern.sub("", body)
    main = re.search(r"<main.*?</main>", body, re.S)
    return main.group(0) if main else body


def _pages(app: Flask, ids: dict[str, Any]) -> dict[str, str]:
    visitor = Client(app.test_client())
    q = "/market/search?q=%E5%A4%87%E4%BB%BD%E6%81%A2%E5%A4%8D"  # 备份恢复
    pages = {
        url: _page(visitor, url)
        for url in (
            q,
            "/api/v1/products?q=%E5%A4%87%E4%BB%BD%E6%81%A2%E5%A4%8D",
            f"/api/v1/products/{ids['product']}",
            f"/market/products/{ids['product']}",
            f"/market/suppliers/{ids['supplier']}",
            f"/market/images/{ids['supplier']}/{ids['image']}/medium",
        )
    }
    first, second = (_client(app, email) for email in ids["owners"])
    for url in (f"/assessments/{ids['submitted']}/results", ids["report"], f"/benchmarking/{ids['submitted']}"):
        pages[url] = _page(first, url)
    for url in (f"/assessments/{ids['draft']}/step/1", f"/assessments/{ids['draft']}/evidence/{ids['evidence']}"):
        pages[url] = _page(second, url)
    return pages


def _schema(app: Flask) -> dict[str, Any]:
    """The objects a restore must bring back besides rows: triggers, indexes, the FTS5 table, RLS and grants."""
    from sqlalchemy import create_engine, text

    engine = create_engine(owner_url(app))
    try:
        with engine.connect() as conn:
            if BACKEND != "postgres":
                rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
                return {"objects": sorted(tuple(r) for r in rows)}
            queries = {
                "policies": "SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies",
                "rls": "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'",
                "triggers": "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal",
                "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
                "functions": "SELECT proname, prosecdef, proacl::text FROM pg_proc p JOIN pg_namespace n "
                "ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
                "grants": "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = :role",
            }
            role = {"role": app.config["APP_DB_ROLE"]}
            return {k: sorted(tuple(r) for r in conn.execute(text(q), role)) for k, q in queries.items()}
    finally:
        engine.dispose()


def _archive_rewritten(source: Path, target: Path, change: Any) -> None:
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old:
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            data = change(member.name, data)
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


def test_backup_then_restore_into_an_empty_instance_gives_the_same_data_files_and_pages(instances, tmp_path):
    source, target = instances
    ids = seed(source)
    archive = tmp_path / "jx-backup.tar.gz"
    result = source.test_cli_runner().invoke(args=["backup", "--output", str(archive)])
    assert result.exit_code == 0, result.output
    assert (archive.stat().st_mode & 0o077) == 0  # personal data and password hashes: owner only

    manifest = json.loads(tarfile.open(archive, "r:gz").extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["dialect"] == ("postgresql" if BACKEND == "postgres" else "sqlite")
    source_rows = _target_rows(owner_url(source))
    assert manifest["tables"] == source_rows
    for table in ("firms", "assessments", "assessment_answers", "score_snapshots", "evidence_files", "products"):
        assert source_rows[table] > 0, table
    assert source_rows["product_images"] == 1 and source_rows["report_jobs"] == 1
    source_files = _files(source)
    assert all(source_files[store] for store in STORES), source_files
    assert {(f["store"], f["path"]) for f in manifest["files"]} == {
        (store, path) for store, files in source_files.items() for path in files
    }

    from saas.models import Base

    assert not any(n for t, n in _target_rows(owner_url(target)).items() if t in Base.metadata.tables)  # empty
    result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output

    assert _target_rows(owner_url(target)) == source_rows
    assert _files(target) == source_files
    source_schema = _schema(source)
    assert _schema(target) == source_schema
    if BACKEND == "postgres":
        assert source_schema["policies"] and source_schema["grants"] and source_schema["triggers"]
        assert all(forced for name, _rls, forced in source_schema["rls"] if name == "products")
    else:
        assert ("table", "product_fts") in {o[:2] for o in source_schema["objects"]}
    source_pages, target_pages = _pages(source, ids), _pages(target, ids)
    assert source_pages == target_pages
    assert "备份恢复测试真丝双绉面料" in source_pages[f"/market/products/{ids['product']}"]

    # a second restore finds a non-empty instance and changes nothing
    before = _target_rows(owner_url(target))  # the page visits logged in: sessions and audit events
    again = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert again.exit_code != 0 and "not empty" in again.output
    assert _target_rows(owner_url(target)) == before


@pytest.mark.parametrize("damage", ["checksum", "extra", "missing"])
def test_a_damaged_archive_is_refused_before_anything_changes(instances, tmp_path, damage):
    source, target = instances
    seed(source)
    archive, bad = tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz"
    assert source.test_cli_runner().invoke(args=["backup", "--output", str(archive)]).exit_code == 0

    def change(name: str, data: bytes) -> bytes:
        if damage == "checksum" and name.startswith("files/EVIDENCE_DIR/"):
            return data[:-1] + bytes([data[-1] ^ 1])
        if damage == "missing" and name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"].append({"store": "REPORTS_DIR", "path": "x/ghost.pdf", "sha256": "0" * 64, "size": 1})
            return json.dumps(manifest).encode()
        return data

    _archive_rewritten(archive, bad, change)
    if damage == "extra":
        with tarfile.open(bad, "r:gz") as old:
            members = [(m, old.extractfile(m).read()) for m in old]  # type: ignore[union-attr]
        with tarfile.open(bad, "w:gz") as new:
            for member, data in members:
                new.addfile(member, io.BytesIO(data))
            extra = tarfile.TarInfo("files/EVIDENCE_DIR/../../escape.txt")
            extra.size = 3
            new.addfile(extra, io.BytesIO(b"bad"))
    before = _target_rows(owner_url(target))
    result = target.test_cli_runner().invoke(args=["restore", "--force", str(bad)])
    assert result.exit_code != 0
    assert {"checksum": "checksum mismatch", "extra": "unsafe path", "missing": "lacks"}[damage] in result.output
    assert _target_rows(owner_url(target)) == before
    assert not any(_files(target).values())
    assert not (tmp_path / "escape.txt").exists()
