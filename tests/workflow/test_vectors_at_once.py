"""Two rankings that make the same missing text vectors at once (two web requests asking live
matches after an edit, or a request and a worker's match run) both succeed and leave one vector
a record: the vector is written by one statement that the second writer turns into an update
(``db.upsert``). Before, each deleted then inserted: on PostgreSQL the second insert waited on
the first's key and then failed it (a 500, or a failed run)."""

from __future__ import annotations

import threading
import time

from sqlmodel import Session, select

from sscmatch.models import Need, TextVector
from sscmatch.workflow import vectors


def test_two_refreshes_at_once_both_succeed(session: Session) -> None:
    session.add(Need(id="N-AT-ONCE", country="GTM", title="Inspección laboral", status="open"))
    session.commit()
    engine = session.get_bind()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with Session(engine) as other:
                assert vectors.refresh(other).made == 1  # it did not see the first's yet
                other.commit()
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    with Session(engine) as first:
        assert vectors.refresh(first).made == 1  # written, not committed
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second reaches its write, and waits on the first's row
        first.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []
    rows = session.exec(select(TextVector).where(TextVector.record_id == "N-AT-ONCE")).all()
    assert len(rows) == 1
