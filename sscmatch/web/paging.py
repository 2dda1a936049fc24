"""Paging a list page: its ``page`` argument and, for a list computed whole (a few hundred
rows at most, such as the countries with activity), the page of it to show. The pages draw
the ``pager`` macro of ``_macros.html`` from the :class:`~sscmatch.workflow.base.Page`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from flask import abort, current_app, request

from sscmatch.schemas import MAX_PAGE, whole_number
from sscmatch.web.translate import gettext as _
from sscmatch.workflow.base import Page

T = TypeVar("T")


def page_arg() -> int:
    """The list's ``page`` argument (1 when absent); 400 in the reader's language when it is
    not a page number (it was page 1 silently)."""
    page = whole_number(request.args.get("page", "1") or "1", 1, MAX_PAGE)
    if page is None:
        abort(400, description=_("page must be a whole number from 1"))
    return page


def page_size() -> int:
    """Rows a list page shows (``PAGE_SIZE``)."""
    return int(current_app.config["PAGE_SIZE"])


def page_of(items: Sequence[T], number: int, size: int) -> Page[T]:
    """Page ``number`` of ``size`` of a list computed whole (a page past the end is empty)."""
    start = (number - 1) * size
    return Page(items=list(items[start : start + size]), number=number, size=size, total=len(items))


def link_args(values: Mapping[str, Any] | None = None, drop: Iterable[str] = ()) -> dict[str, Any]:
    """The query arguments a link to the same list carries (a pager's, an export's, "show every
    country"): the request's own, every value of each (a filter may repeat), less ``drop`` and
    the names ``url_for`` keeps for itself (``endpoint``, ``_anchor``, ``_external``…: from the
    query string they made every list page a 500), then ``values``, which win (a run page's
    ``run_id`` is its path, whatever the query string says)."""
    dropped = set(drop)
    out: dict[str, Any] = {
        name: given
        for name, given in request.args.to_dict(flat=False).items()
        if name not in dropped and name != "endpoint" and not name.startswith("_")
    }
    out.update(values or {})
    return out
