"""Counts kept per data version and statement (sscmatch.workflow.counts)."""

from __future__ import annotations

from types import SimpleNamespace

from sqlmodel import Session, col, select

from sscmatch.models import Capacity, User
from sscmatch.workflow import visibility
from sscmatch.workflow.counts import kept_count


def _capacity(session: Session, id_: str, country: str, status: str) -> None:
    session.add(Capacity(id=id_, country=country, title=id_, status=status))


def test_counts_kept_per_statement_and_version(session: Session) -> None:
    _capacity(session, "C-1", "GTM", "published")
    _capacity(session, "C-2", "GTM", "draft")
    _capacity(session, "C-3", "BRA", "draft")
    session.commit()

    def seen(role: str, country: str | None = None) -> int:
        viewer = SimpleNamespace(role=role, country=country)
        return kept_count(session, select(Capacity).where(visibility.visible(Capacity, viewer)))

    # each viewer's visibility is in the statement: no count is handed to another scope
    assert [seen("analyst"), seen("focal_point", "GTM"), seen("focal_point", "BRA")] == [3, 2, 2]
    assert [seen("focal_point", "BRA"), seen("focal_point", "GTM"), seen("analyst")] == [2, 2, 3]
    drafts = select(Capacity).where(col(Capacity.status) == "draft")
    assert kept_count(session, drafts) == 2
    _capacity(session, "C-4", "BRA", "draft")
    session.flush()
    assert kept_count(session, drafts) == 3  # uncommitted: counted, not kept
    session.rollback()
    assert kept_count(session, drafts) == 2
    _capacity(session, "C-4", "BRA", "draft")
    session.commit()
    assert kept_count(session, drafts) == 3 and seen("focal_point", "BRA") == 3


def test_tables_outside_the_data_version_are_counted_each_time(session: Session) -> None:
    """Users (or countries) change without moving the data version: never kept."""
    before = kept_count(session, select(User))
    session.add(User(email="new@t.org", password_hash="x", role="analyst"))
    session.commit()
    assert kept_count(session, select(User)) == before + 1


def test_statements_alike_but_for_their_values_are_kept_apart(session: Session) -> None:
    """The key is the statement's shape and its values: an IN over other countries, or one
    country more, is another count (the shape alone would hand out the first one's)."""
    for n, (country, status) in enumerate(
        [("GTM", "published"), ("BRA", "draft"), ("MEX", "draft")]
    ):
        _capacity(session, f"C-{n}", country, status)
    session.commit()

    def among(*codes: str) -> int:
        return kept_count(session, select(Capacity).where(col(Capacity.country).in_(codes)))

    assert [among("GTM"), among("GTM", "BRA"), among("BRA"), among("GTM", "BRA", "MEX")] == [
        1,
        2,
        1,
        3,
    ]
    assert [among("MEX"), among("GTM"), among("BRA", "MEX")] == [1, 1, 2]
