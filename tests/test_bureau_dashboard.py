"""The bureau dashboard: aggregates in scope, small cells suppressed on the page and in the XLSX alike."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.test_bureau import staff_client


def _page_cells(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-cell="([^"]+)">([^<]*)</td>', html))


def _page_tables(html: str) -> dict[str, list[list[str]]]:
    tables = {}
    for key, body in re.findall(r'<table[^>]*id="table-([a-z_]+)".*?<tbody>(.*?)</tbody>', html, re.S):
        rows = []
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            rows.append([t.strip() for t in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)])
        tables[key] = rows
    return tables


def _same(a: str, b: str) -> bool:
    """Compare a page text and a sheet value: numbers by value (Excel drops a trailing .0), the rest as text."""
    try:
        return abs(float(a) - float(b)) < 1e-9
    except ValueError:
        return a.replace("&lt;", "<") == b


def _xlsx_cells(data: bytes) -> dict[str, list[list[str]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {
        ws.title: [[("" if v is None else str(v)) for v in row] for row in ws.iter_rows(values_only=True)]
        for ws in book.worksheets
    }


def _seed(create_firm, quick_submission, silk=6, wood=3):
    for i in range(silk):
        quick_submission(
            create_firm(name=f"桐乡丝绸{i}有限公司", county="tongxiang", industry="silk"), 0.2 + 0.1 * i, i
        )
    for i in range(wood):
        quick_submission(create_firm(name=f"嘉善木业{i}有限公司", county="jiashan", industry="wood"), 0.5, 10 + i)


def test_small_cells_are_suppressed_and_the_xlsx_holds_the_same_figures(
    make_client, create_user, create_firm, quick_submission
):
    _seed(create_firm, quick_submission)
    staff = staff_client(make_client, create_user)
    html = staff.get("/bureau/dashboard").get_data(as_text=True)
    cells = _page_cells(html)
    # six silk firms in Tongxiang: a mean is shown; three wood firms in Jiashan: suppressed
    assert re.fullmatch(r"\d+\.\d", cells["heatmap|tongxiang|silk"])
    assert cells["heatmap|jiashan|wood"] == "&lt;5"
    assert cells["dimensions|wood|strategy"] == "&lt;5"
    assert "嘉善木业" not in html and "桐乡丝绸" not in html  # aggregates only, never a firm's name
    response = staff.get("/bureau/dashboard.xlsx")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    sheets = _xlsx_cells(response.data)
    heat = sheets["heatmap"]
    header = heat[1]
    by_row = {row[0]: row for row in heat[2:]}
    silk_col = header.index("茧丝绸")
    assert _same(cells["heatmap|tongxiang|silk"], by_row["桐乡市"][silk_col])
    wood_col = header.index("木业")
    assert by_row["嘉善县"][wood_col] == "<5"
    # every table holds the same rows and cells, in the same order, on the page and in its sheet
    for key, page_rows in _page_tables(html).items():
        sheet_rows = sheets[key][2:]
        assert len(page_rows) == len(sheet_rows), key
        for page_row, sheet_row in zip(page_rows, sheet_rows, strict=True):
            assert page_row[0] == sheet_row[0]
            assert all(_same(a, b) for a, b in zip(page_row[1:], sheet_row[1:], strict=True)), (key, page_row)


def test_county_staff_see_only_their_county(make_client, create_user, create_firm, quick_submission):
    _seed(create_firm, quick_submission, silk=6, wood=6)
    jiashan = staff_client(make_client, create_user, county="jiashan")
    cells = _page_cells(jiashan.get("/bureau/dashboard").get_data(as_text=True))
    assert "heatmap|jiashan|wood" in cells and not any("tongxiang" in key for key in cells)
    sheets = _xlsx_cells(jiashan.get("/bureau/dashboard.xlsx").data)
    assert all("桐乡市" not in row[0] for row in sheets["heatmap"][2:])


def test_firm_users_cannot_open_the_dashboard(client, firm_a):
    client.login(firm_a.owner_email)
    assert client.get("/bureau/dashboard").status_code == 403
    assert client.get("/bureau/dashboard.xlsx").status_code == 403


def test_cohort_pdf_keeps_suppression_and_names_no_firm(
    make_client, create_user, create_firm, quick_submission, tmp_path
):
    import shutil
    import subprocess

    from tests.conftest import service_missing

    if shutil.which("pdftotext") is None:
        service_missing("pdftotext (poppler-utils) is not installed")
    _seed(create_firm, quick_submission)
    staff = staff_client(make_client, create_user)
    response = staff.get("/bureau/reports/cohort.pdf?industry=wood")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "cohort.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "木业" in text and "<5" in text
    assert "嘉善木业" not in text  # no firm name, only aggregates
    # three wood firms: every figure about them is suppressed, none leaks as a number in the heatmap row
    heat_line = next(line for line in text.splitlines() if line.strip().startswith("嘉善县"))
    assert not re.search(r"\d+\.\d", heat_line)
    haining = staff_client(make_client, create_user, county="haining")
    assert haining.get("/bureau/reports/cohort.pdf?county=jiashan").status_code == 404
    assert staff.get("/bureau/reports/cohort.pdf").status_code == 404
