"""Benchmark what one import file can cost: hostile files are refused fast, large legitimate files stay in bounds.

Every figure is the time ``marketplace.bulk.run_import`` (dry run, as "check the file" does) takes on a fresh SQLite
database, best of three:

* ``import_zip_bomb_refusal_ms``: the issue's shape, a ~250 KB XLSX whose sheet unpacks to ~120 MB (refused from the
  zip directory: compression ratio; it held a worker for 62 s before);
* ``import_column_bomb_refusal_ms``: a ~200 KB XLSX with one value in column XFD on each of 41,000 rows (openpyxl
  padded every row to 16,384 cells);
* ``import_far_row_refusal_ms``: a row numbered 1,048,576;
* ``import_wide_csv_refusal_ms``: a CSV with 18,285 columns (a 500 before);
* ``import_csv_20k_rows_check_s`` and ``import_xlsx_20k_rows_check_s``: a valid 20,000-row file (the row limit), the
  XLSX unpacking to ~26 MB (under the 32 MB limit); both must stay under ``IMPORT_TIME_LIMIT_S`` (30 s);
* ``xlsx_reader_speedup``: openpyxl's read-only mode ÷ ``marketplace.bulk.xlsx`` on the same 5,000-row sheet, same run.

Run with the project's virtualenv: ``.venv/bin/python bench/imports.py``.
"""

from __future__ import annotations

import csv
import io
import logging
import sys
import time
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_app  # noqa: E402

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = [
    "category_slug silk/silk-fabric/crepe-de-chine",
    "sku",
    "title_zh",
    "title_en",
    "description_zh",
    "sale_unit",
    "moq",
    "order_multiple",
    "tier1_qty",
    "tier1_price",
    "tier2_qty",
    "tier2_price",
    "samples_available",
    "lead_time_days",
    "attr:fibre_composition",
    "attr:momme",
    "attr:fabric_width",
]


def _row(i: int) -> list[object]:
    return [
        "",
        f"SKU-{i:06d}",
        f"19姆米重磅真丝双绉面料第{i}号",
        f"19 momme silk crepe de chine no. {i}",
        "桐乡自有织机生产，门幅114厘米，手感柔软，适合高端女装。" * 2,
        "米",
        100,
        1,
        100,
        88.5,
        1000,
        79.5,
        "是",
        15,
        "桑蚕丝、氨纶",
        19,
        114,
    ]


def legit_xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("双绉")
    sheet.append(HEAD)
    for i in range(rows):
        sheet.append(_row(i))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def legit_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEAD)
    for i in range(rows):
        writer.writerow(_row(i))
    return out.getvalue().encode()


def raw_book(sheet_body: str) -> bytes:
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>{sheet_body}'
        "</sheetData></worksheet>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def unpacked_mb(data: bytes) -> float:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(i.file_size for i in archive.infolist()) / 1e6


def best(run, times: int = 3) -> tuple[float, object]:
    results = []
    outcome = None
    for _ in range(times):
        start = time.perf_counter()
        outcome = run()
        results.append(time.perf_counter() - start)
    return min(results), outcome


def reader_speedup() -> str:
    """openpyxl's read-only mode ÷ ``marketplace.bulk.xlsx`` on one 5,000-row sheet, best of three, interleaved."""
    from openpyxl import load_workbook

    from saas.marketplace.bulk import xlsx

    sample = legit_xlsx(5_000)
    limits = xlsx.Limits(max_unpacked=10**9, max_ratio=10**6, max_columns=200, max_row=10**6)

    def with_openpyxl():
        book = load_workbook(io.BytesIO(sample), read_only=True, data_only=True)
        count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
        book.close()
        return count

    def with_ours():
        return xlsx.read_workbook(sample, limits, tick=lambda: None)

    runs: dict[str, list[float]] = {"openpyxl": [], "ours": []}
    for _ in range(3):
        for name, run in (("openpyxl", with_openpyxl), ("ours", with_ours)):
            runs[name].append(best(run, 1)[0])
    theirs, ours = min(runs["openpyxl"]), min(runs["ours"])
    return f"xlsx_reader_speedup: {theirs / ours:.1f} x  # openpyxl {theirs:.2f} s, bulk.xlsx {ours:.2f} s"


def main() -> None:
    logging.getLogger("saas.core.mail").setLevel(logging.WARNING)  # the outbox logs every mail
    from saas.auth.services import register_firm
    from saas.core.extensions import db
    from saas.core.tenancy import set_tenant
    from saas.marketplace import bulk
    from tests.conftest import valid_uscc

    print(reader_speedup())  # first, on a small heap, runs interleaved
    cells = "<c><v>1</v></c>" * 250
    zip_bomb = raw_book("".join(f'<row r="{r}">{cells}</row>' for r in range(1, 32_001)))
    column_bomb = raw_book("".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(1, 41_001)))
    far_row = raw_book('<row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c></row><row r="1048576"/>')
    wide_csv = ",".join(HEAD[1:7] + [f"colour {i}" for i in range(18_279)]).encode() + b"\n" + b"A,1,2,3,4,5\n"
    big_xlsx, big_csv = legit_xlsx(20_000), legit_csv(20_000)
    print(
        f"# files: zip bomb {len(zip_bomb) / 1024:.0f} KB -> {unpacked_mb(zip_bomb):.0f} MB; column bomb "
        f"{len(column_bomb) / 1024:.0f} KB; 20,000-row XLSX {len(big_xlsx) / 1e6:.1f} MB -> "
        f"{unpacked_mb(big_xlsx):.1f} MB; CSV {len(big_csv) / 1e6:.1f} MB",
        file=sys.stderr,
    )
    with bench_app() as app, app.test_request_context(), redirect_stdout(io.StringIO()):  # the outbox logs mail
        firm, user = register_firm(
            db.session,
            firm_name="基准导入丝绸有限公司",
            uscc=valid_uscc(1),
            industry="silk",
            county="nanhu",
            park=None,
            employees=50,
            revenue_wan=800,
            contact_name="张三",
            contact_phone=None,
            owner_name="张三",
            email="bench@imports.example",
            password="correct horse battery staple",
        )
        db.session.commit()
        set_tenant(db.session, firm.id, user.id)
        results = []

        def check(data: bytes, name: str):
            def run():
                report = bulk.run_import(db.session, firm, user, name, data, dry_run=True)
                db.session.rollback()
                set_tenant(db.session, firm.id, user.id)
                return [e.code for e in report.errors if e.row == 0], report.rows

            return run

        for label, data, name, unit in (
            ("import_zip_bomb_refusal", zip_bomb, "bomb.xlsx", "ms"),
            ("import_column_bomb_refusal", column_bomb, "wide.xlsx", "ms"),
            ("import_far_row_refusal", far_row, "far.xlsx", "ms"),
            ("import_wide_csv_refusal", wide_csv, "wide.csv", "ms"),
            ("import_csv_20k_rows_check", big_csv, "big.csv", "s"),
            ("import_xlsx_20k_rows_check", big_xlsx, "big.xlsx", "s"),
        ):
            elapsed, (codes, rows) = best(check(data, name), 1 if unit == "s" else 3)
            value = elapsed * 1000 if unit == "ms" else elapsed
            results.append(f"{label}_{unit}: {value:.1f} {unit}  # {', '.join(codes) or f'{rows} rows, no file error'}")
    print("\n".join(results))


if __name__ == "__main__":
    main()
