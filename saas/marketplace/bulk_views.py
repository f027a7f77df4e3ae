"""Bulk catalogue import and export for suppliers (routes on the products blueprint, so every one needs a firm member).

``GET /firm/products/import``: the page with the template picker and the upload form; ``POST`` to the same URL
checks the file (dry run) or imports it. A checked file is kept server-side under ``IMPORT_UPLOAD_DIR`` (default
``instance/imports``) as ``<firm id>/<user id>.<random token>.upload``, so "import now" and the full error list need
no second upload; only the member who uploaded it can use it, one pending file per member, removed after the import
or after a day. ``GET /firm/products/import/errors.csv?token=…``: every error of a checked file.
``GET /firm/products/template.xlsx?category=<slug>&lang=zh|en`` and ``GET /firm/products/export.xlsx?lang=zh|en``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from saas import billing
from saas.core.extensions import db
from saas.marketplace import bulk
from saas.marketplace.catalog import default_catalog
from saas.marketplace.catalog.attributes import format_number
from saas.marketplace.supplier_views import bp
from saas.models import utcnow
from saas.web.forms import ConfirmForm
from saas.web.lang import ui_lang

ERRORS_SHOWN = 200  # errors listed on the results page; the rest are in the CSV download
UPLOAD_TTL_S = 24 * 3600
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}\Z")


def _lang() -> str:
    chosen = request.args.get("lang", "")
    return chosen if chosen in ("zh", "en") else ui_lang()


def _limit_texts() -> dict[str, Any]:
    limits = bulk.ImportLimits.from_config()
    return {
        "max_mb": format_number(limits.max_bytes / (1024 * 1024)),
        "max_rows": limits.max_rows,
        "max_columns": limits.max_columns,
    }


# --- the uploaded file, kept for the second step ---------------------------------------------------------------------


def _upload_dir() -> Path:
    return Path(current_app.config["IMPORT_UPLOAD_DIR"]) / str(g.tenant.id)


def _store(data: bytes, filename: str) -> str:
    """Keep a checked file for this member (replacing their previous one); return its random token."""
    folder = _upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():
        try:
            if old.name.startswith(f"{g.user.id}.") or now - old.stat().st_mtime > UPLOAD_TTL_S:
                old.unlink(missing_ok=True)
        except FileNotFoundError:  # another member's request cleaned it up meanwhile
            continue
    token = secrets.token_urlsafe(24)
    (folder / f"{g.user.id}.{token}.upload").write_bytes(data)
    (folder / f"{g.user.id}.{token}.json").write_text(json.dumps({"filename": filename[:200]}), "utf-8")
    return token


def _load(token: str) -> tuple[str, bytes] | None:
    if not _TOKEN_RE.match(token):
        return None
    path = _upload_dir() / f"{g.user.id}.{token}.upload"
    try:
        if time.time() - path.stat().st_mtime > UPLOAD_TTL_S:
            return None
        data = path.read_bytes()
    except OSError:  # gone (expired and swept, or never there)
        return None
    try:
        meta = json.loads(path.with_suffix(".json").read_text("utf-8"))
    except (OSError, ValueError):
        meta = {}
    return str(meta.get("filename") or "upload"), data


def _discard(token: str) -> None:
    if _TOKEN_RE.match(token):
        for suffix in (".upload", ".json"):
            (_upload_dir() / f"{g.user.id}.{token}{suffix}").unlink(missing_ok=True)


# --- pages -----------------------------------------------------------------------------------------------------------


def _import_page(status: int = 200) -> Any:
    catalog = default_catalog()
    industries = sorted(catalog.industries, key=lambda ind: ind.id != g.tenant.industry)  # the firm's own first
    return render_template(
        "market/import.html",
        catalog=catalog,
        industries=industries,
        category_label=bulk.category_label,
        confirm=ConfirmForm(),
        lang=_lang(),
        **_limit_texts(),
    ), status


@bp.route("/import")
def bulk_import() -> Any:
    """The import page: template picker, upload form, export link."""
    return _import_page()


@bp.route("/import", methods=["POST"])
def import_file() -> Any:
    """Check (``action=check``, a dry run) or import (``action=import``) an uploaded or kept file, all or nothing."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not billing.entitlements(g.tenant, utcnow()).bulk_import:
        flash(_("Bulk import is part of Pro. Add products one by one, or upgrade to Pro."), "error")
        return redirect(url_for("billing.index"), code=303)
    action = request.form.get("action", "check")
    submit = request.form.get("submit_for_review") == "1"
    token = request.form.get("token", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            data = upload.stream.read(bulk.ImportLimits.from_config().max_bytes + 1)
        finally:
            upload.close()
        filename, token = upload.filename, ""
    elif token:
        stored = _load(token)
        if stored is None:
            flash(_("The checked file is no longer available. Please upload it again."), "error")
            return redirect(url_for("products.bulk_import"))
        filename, data = stored
    else:
        flash(_("Choose a file to upload."), "error")
        return redirect(url_for("products.bulk_import"))
    report = bulk.run_import(db.session, g.tenant, g.user, filename, data, dry_run=action != "import", submit=submit)
    if report.committed:
        db.session.commit()
        if token:
            _discard(token)
        flash(
            _(
                "Imported. Rows: %(rows)d; new drafts: %(created)d; updated: %(updated)d; unchanged: %(unchanged)d.",
                rows=report.rows,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
            ),
            "success",
        )
        if report.submitted:
            flash(_("Products submitted for review: %(n)d.", n=report.submitted), "info")
        return redirect(url_for("products.index"))
    db.session.rollback()
    if not token and not report.file_errors:
        token = _store(data, filename)
    return render_template(
        "market/import_result.html",
        report=report,
        errors=report.errors[:ERRORS_SHOWN],
        token=token,
        submit=submit,
        confirm=ConfirmForm(),
        **_limit_texts(),
    ), (400 if report.errors else 200)


@bp.route("/import/errors.csv")
def import_errors() -> Any:
    """Every error of the member's checked file as CSV (UTF-8 with BOM, so that Excel opens it as such)."""
    stored = _load(request.args.get("token", ""))
    if stored is None:
        abort(404)
    filename, data = stored
    report = bulk.run_import(db.session, g.tenant, g.user, filename, data, dry_run=True)
    db.session.rollback()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Sheet"), _("Row"), _("Column"), _("Problem")])
    for row in bulk.iter_error_rows(report):
        writer.writerow(["'" + cell if cell[:1] in ("=", "+", "-", "@") else cell for cell in row])
    return Response(
        out.getvalue().encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=import-errors.csv"},
    )


def _xlsx(data: bytes, name: str) -> Any:
    return send_file(io.BytesIO(data), mimetype=bulk.XLSX_MIME, as_attachment=True, download_name=name)


@bp.route("/template.xlsx")
def import_template() -> Any:
    """The XLSX template of one category (``?category=<slug>``), with drop-down lists and instructions."""
    slug = request.args.get("category", "")
    try:
        data = bulk.build_template(slug, _lang())
    except KeyError:
        abort(404)
    return _xlsx(data, f"products-template-{slug.rsplit('/', 1)[-1]}.xlsx")


@bp.route("/export.xlsx")
def export() -> Any:
    """The firm's catalogue in the import format (one sheet per category)."""
    data = bulk.export_catalogue(db.session, g.tenant, _lang())
    return _xlsx(data, f"products-{utcnow():%Y%m%d}.xlsx")
