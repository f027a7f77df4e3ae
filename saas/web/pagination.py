"""Pagination, once: the page number from the query string, the page count, and the redirect past the last page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import redirect, request

MAX_PAGE = 100_000  # a page number beyond is read as this one (and redirected to the last page): OFFSET stays a bigint


def page_number() -> int:
    """Return the ``page`` query argument as a page number (1 for anything missing or malformed, at most MAX_PAGE)."""
    raw = request.args.get("page", "1")
    if len(raw) > 12:  # int() of thousands of digits is slow, and no list has that many pages
        return MAX_PAGE if raw.strip().isdigit() else 1
    try:
        return min(MAX_PAGE, max(1, int(raw)))
    except ValueError:
        return 1


def page_count(total: int, per_page: int) -> int:
    """The number of pages of ``total`` rows, at least 1 (an empty list has one, empty, page)."""
    return max(1, -(-total // per_page))


def past_last_page(page: int, total: int, per_page: int) -> Any | None:
    """A redirect to the last page when ``page`` lies beyond it (a stale link, or a list that shrank), else None.

    Without it a list would show its empty state ("nothing here yet") while it holds rows on earlier pages. The other
    query arguments are kept; page 1 is the URL without ``page``.
    """
    last = page_count(total, per_page)
    if page <= last:
        return None
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    if last > 1:
        args.append(("page", str(last)))
    return redirect(request.script_root + request.path + (f"?{urlencode(args)}" if args else ""))


@dataclass(frozen=True)
class Pager:
    """One page of a list: its number, size and the total; ``redirect`` is set when the page lies past the end."""

    page: int
    per_page: int
    total: int
    redirect: Any | None

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def paginate(page: int, total: int, per_page: int) -> Pager:
    """Return the ``Pager`` of page ``page``; the view returns ``pager.redirect`` when it is set."""
    return Pager(page, per_page, total, past_last_page(page, total, per_page))
