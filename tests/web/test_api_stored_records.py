"""A stored record that today's checks would refuse (an old import: its period ends before it
starts) is still answered by the API, in the same shape as every other record: the fields of its
model, a partial date as the bundle's text (``2014-03``), never the two columns that store it
(``<name>_date``, ``<name>_precision``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from pydantic import BaseModel
from sqlmodel import Session

from sscmatch.dates import PartialDate
from sscmatch.db import session_scope
from sscmatch.models import Capacity, Exchange, Need, User
from sscmatch.schemas import CapacityPublic
from sscmatch.web.api.registry import ExchangeRecord, NeedRecord
from sscmatch.workflow.accounts import issue_api_token

# Each dated record of the registry's API: its path, its model, its row and its dates (the end
# before the start, which today's checks refuse).
THEMES = ["labour-inspection"]
RECORDS: list[tuple[str, type[BaseModel], Any, dict[str, str]]] = [
    (
        "needs",
        NeedRecord,
        lambda: Need(id="N-OLD-1", country="GTM", title="Old", themes=THEMES, status="open"),
        {"desired_from": "2014-03", "desired_to": "2013"},
    ),
    (
        "capacities",
        CapacityPublic,
        lambda: Capacity(id="C-OLD-1", country="BRA", title="Old", themes=THEMES),
        {"available_from": "2014-03-12", "available_to": "2014-02"},
    ),
    (
        "exchanges",
        ExchangeRecord,
        lambda: Exchange(id="x-old-1", themes=THEMES, providers=["BRA"], recipients=["GTM"]),
        {"start": "2014-03", "end": "2013-11-30"},
    ),
]


@pytest.mark.parametrize(("plural", "model", "make", "dates"), RECORDS, ids=[r[0] for r in RECORDS])
def test_a_record_todays_checks_refuse_is_answered_in_the_bundles_shape(
    app: Flask,
    users: dict[str, int],
    plural: str,
    model: type[BaseModel],
    make: Any,
    dates: dict[str, str],
) -> None:
    row = make()
    with Session(app.extensions["sscmatch.engine"]) as s:
        for name, text in dates.items():
            setattr(row, name, PartialDate.parse(text))
        s.add(row)
        s.commit()
        record_id = row.id
        with pytest.raises(ValueError):
            model.model_validate(s.get(type(row), record_id))  # the fallback is what answers
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, users["secretariat"])
        assert user is not None
        token = issue_api_token(s, user)
    response = app.test_client().get(
        f"/api/v1/{plural}/{record_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert set(answer) == set(model.model_fields)
    for name, text in dates.items():
        assert answer[name] == text
    stored = [k for k in answer if k.endswith(("_date", "_precision"))]
    assert stored == []
