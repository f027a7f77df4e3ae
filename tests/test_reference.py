"""Reference rules: the GB 32100-2015 check character and the national SME size classes."""

from __future__ import annotations

import pytest

from saas.reference import size_class, uscc_check_char, uscc_problem

# Codes known to be valid: the commonly cited worked example and codes printed on listed firms' licences.
REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_codes_pass(code, app):
    with app.test_request_context():
        assert uscc_problem(code) is None
        assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y44", "校验码"),
        ("91350100M000100Y4", "18"),
        ("9135010OM000100Y43", "O"),
        ("91ABCDEFM000100Y43", "行政区划"),
    ],
)
def test_bad_codes_get_a_chinese_reason(code, fragment, app):
    with app.test_request_context():
        problem = uscc_problem(code)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    ("employees", "revenue", "expected"),
    [
        (19, 10000, "micro"),
        (20, 299, "micro"),
        (20, 300, "small"),
        (299, 1999, "small"),
        (300, 2000, "medium"),
        (300, 1999, "small"),
        (999, 39999, "medium"),
        (1000, 40000, "large"),
        (1000, 39999, "medium"),
        (5000, 100, "micro"),
    ],
)
def test_size_class_boundaries(employees, revenue, expected):
    assert size_class(employees, revenue) == expected
