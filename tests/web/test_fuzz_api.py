"""Fuzzing the JSON API from its own OpenAPI description (schemathesis + Hypothesis).

Every documented operation gets schema-conforming (positive) and schema-violating (negative)
requests, with a valid Bearer token of a secretariat member and, separately, of Guatemala's focal
point; path ids are sometimes real records so that updates reach the use cases. Every answer must
be below 500; every 4xx must be ``{"error": …, "message": …}`` with a non-empty message; and a
rejected request must leave the database exactly as it was (a digest of every table is compared
before and after). Failures are collected over the whole run and reported together.

``FUZZ_EXAMPLES`` (environment) raises the number of examples per operation for long runs, and
``FUZZ_SEED`` makes the examples random from that seed instead of the fixed, repeatable set the
suite uses (``scripts/fuzz`` sets both).
"""

from __future__ import annotations

import hashlib
import os
import traceback
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask, got_request_exception
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from sscmatch.bundle import import_bundle
from sscmatch.models import Capacity, Commitment, Need, Proposal, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.accounts import issue_api_token
from sscmatch.workflow.matchruns import run_and_store
from sscmatch.workflow.tours import draft_from_proposal

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))
SEED = os.environ.get("FUZZ_SEED")


def seeded(test: Any) -> Any:
    """``test`` drawn at random from ``FUZZ_SEED`` when set (else derandomized)."""
    return seed(int(SEED))(test) if SEED else test


# --------------------------------------------------------------------------- shared helpers


def build_world(app: Flask, users: dict[str, int]) -> dict[str, Any]:
    """The knowledge base, a Guatemalan need and capacity, a run for the need, a proposal that
    involves Guatemala but not Brazil, a tour drafted from another (accepted) proposal with a
    commitment, and an API token for every user of the ``users`` fixture. Shared by the
    fuzzers, the hardening, concurrency and authorization tests."""
    engine = app.extensions["sscmatch.engine"]
    vocab = load_vocabulary()
    with Session(engine, expire_on_commit=False) as s:
        import_bundle(s, ROOT / "data", vocab)
        s.add(
            Need(
                id="N-GTM-1",
                country="GTM",
                title="Labour inspection in agriculture",
                themes=["labour-inspection"],
                languages=["es"],
                status="open",
            )
        )
        s.add(
            Capacity(
                id="C-GTM-1",
                country="GTM",
                title="Municipal child labour offices",
                themes=["local-government"],
                languages=["es"],
                status="published",
            )
        )
        s.commit()
        result = run_and_store(s, vocab, need_ids=["N-GTM-1"], top_k=5)
        s.commit()
        proposals = s.exec(select(Proposal).where(Proposal.run_id == result.run_id)).all()
        proposal = next(p for p in proposals if p.provider != "BRA")
        # the tour involves neither Brazil nor, as provider, Guatemala's focal point's country
        other = next(p for p in proposals if p.id != proposal.id and p.provider != "BRA")
        other.status = "accepted"
        tour = draft_from_proposal(s, other, users["secretariat"])
        s.add(
            Commitment(
                id="K-GTM-1",
                owner_country="GTM",
                description="Adopt a protocol",
                study_tour=tour.id,
            )
        )
        tokens = {}
        for key, user_id in users.items():
            user = s.get(User, user_id)
            assert user is not None
            tokens[key] = issue_api_token(s, user)
        s.commit()
        return {
            "ids": {
                "id": ["N-GTM-1", "C-GTM-1", "s000-e02", "bra-abc", proposal.id, result.run_id],
                "tour_id": [tour.id],
                "commitment_id": ["K-GTM-1"],
            },
            "proposal_id": proposal.id,
            "run_id": result.run_id,
            "tour_id": tour.id,
            "tokens": tokens,
        }


JOB_TABLES = frozenset({"job", "job_payload", "job_worker"})
"""The job queue's bookkeeping: a refused bundle's import job keeps its problems there for the
page that shows them (the records are what must stay unchanged)."""


def table_digest(engine: Engine, skip: frozenset[str] = frozenset()) -> str:
    """A digest of every row of every table but ``skip`` (a change anywhere changes it).

    Raw driver rows (no type conversion) keep it cheap enough to take around every request. On
    PostgreSQL the server digests each table (the md5 of its rows' text in key order: every
    column of every row), in one statement: fetching and converting every row in Python took
    about 35 ms a digest there (a third of the API fuzzer's time).
    """
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in skip]
    digest = hashlib.sha256()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            rows = (
                f"string_agg(r::text, E'\\n' ORDER BY {_order(table, 'r.', 'r::text')})"
                for table in tables
            )
            cursor.execute(
                " UNION ALL ".join(
                    f"""(SELECT {i}, md5(coalesce({agg}, '')) FROM "{table.name}" r)"""
                    for i, (table, agg) in enumerate(zip(tables, rows, strict=True))
                )
                + " ORDER BY 1"
            )
            for (_, table_md5), table in zip(cursor.fetchall(), tables, strict=True):
                digest.update(table.name.encode())
                digest.update(table_md5.encode())
        else:
            for table in tables:
                cursor.execute(f'SELECT * FROM "{table.name}" ORDER BY {_order(table)}')
                digest.update(table.name.encode())
                digest.update(repr(cursor.fetchall()).encode())
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return digest.hexdigest()


def _order(table: Any, prefix: str = "", otherwise: str = "1") -> str:
    """The table's primary key columns, to read its rows in one order (none: ``otherwise``)."""
    return ", ".join(f'{prefix}"{c.name}"' for c in table.primary_key.columns) or otherwise


def error_shape_problem(response: Any) -> str | None:
    """None when a 4xx answer is ``{"error": str, "message": non-empty str}``."""
    try:
        body = response.json()
    except ValueError:
        return "not JSON"
    if not isinstance(body, dict):
        return "not a JSON object"
    if not isinstance(body.get("error"), str) or not body["error"]:
        return "no 'error' code"
    if not isinstance(body.get("message"), str) or not body["message"].strip():
        return "no 'message'"
    return None


# --------------------------------------------------------------------------- the fuzzer


def _with_ids(operation: Any, mode: Any, fixed: dict[str, Any]) -> Any:
    return operation.as_strategy(generation_mode=mode, path_parameters=fixed)


def _variants(ids: list[Any]) -> list[Any]:
    """Real ids with whitespace around them (text ids) and numbers beyond any id (integers)."""
    out: list[Any] = []
    for value in ids:
        if isinstance(value, int):
            out += [2**31, 10**17, -value]
        else:
            out += [f" {value}", f"{value} ", f"{value}\t", f"\u00a0{value}", value.lower()]
    return out


def _fuzz(
    app: Flask, world: dict[str, Any], who: str, examples: int, *, writes_only: bool = False
) -> tuple[Counter[int], list[str]]:
    """Fuzz every operation as ``who``: the statuses seen, and a report of every failing example.

    Every failure is reported by the test with its example (cut short) and the answer, not by
    Hypothesis: an exception in an example is caught and recorded like a broken property, so
    Hypothesis never replays an example to print its draws (a negative example's body holds
    strings of tens of thousands of characters: Hypothesis warns of an overly large repr, and
    ``filterwarnings = error`` would report that warning in place of the real failure)."""
    # A crash answers 500 (instead of raising in the test) so that every failure is collected.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    crashes: list[str] = []

    def remember(_sender: Any, exception: BaseException, **_extra: Any) -> None:
        crashes.append(f"{type(exception).__name__}: {str(exception)[:300]}")

    got_request_exception.connect(remember, app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    engine = app.extensions["sscmatch.engine"]
    headers = {"Authorization": f"Bearer {world['tokens'][who]}"}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    state = {"digest": table_digest(engine)}

    for result in schema.get_all_operations():
        operation = result.ok()
        if writes_only and operation.method.upper() == "GET":
            continue
        names = {p.name for p in operation.path_parameters}
        strategies = []
        for mode in (
            schemathesis.GenerationMode.POSITIVE,
            schemathesis.GenerationMode.NEGATIVE,
        ):
            strategies.append(operation.as_strategy(generation_mode=mode))
            if names:
                real = {n: world["ids"].get(n, world["ids"]["id"]) for n in names}
                strategies.append(
                    st.fixed_dictionaries({n: st.sampled_from(v) for n, v in real.items()}).flatmap(
                        partial(_with_ids, operation, mode)
                    )
                )
                # the same records' ids with whitespace around them, and huge numbers
                strategies.append(
                    st.fixed_dictionaries(
                        {n: st.sampled_from(_variants(v)) for n, v in real.items()}
                    ).flatmap(partial(_with_ids, operation, mode))
                )

        @settings(
            max_examples=examples * len(strategies),
            deadline=None,
            database=None,
            derandomize=SEED is None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def run(case: Any) -> None:
            response = None
            try:
                response = case.call(headers=headers)
                found = problems(response)
            except Exception:  # the test's own failure, reported below with its example
                found = [traceback.format_exc(limit=-6).rstrip()]
                state["digest"] = table_digest(engine)
            if found:
                status = response.status_code if response is not None else "no answer"
                where = f"{case.method} {case.formatted_path} as {who} ({status})"
                query = f" query {_shown(case.query)}" if case.query else ""
                body = f" body {_shown(case.body)}" if case.body is not None else ""
                failures.extend(
                    f"{where}:{query}{body}\n    " + problem.replace("\n", "\n    ")
                    for problem in found
                )

        def problems(response: Any) -> list[str]:
            """What is wrong with one answer (the properties of the module's docstring)."""
            status = response.status_code
            statuses[status] += 1
            found = []
            if status >= 500:
                cause = crashes.pop() if crashes else response.text[:200]
                found.append(f"server error {cause}")
                state["digest"] = table_digest(engine)
                return found
            if status >= 400:
                problem = error_shape_problem(response)
                if problem:
                    found.append(f"error answer {problem}: {_shown(response.text, 200)}")
                after = table_digest(engine)
                if after != state["digest"]:
                    found.append("rejected but the database changed")
                state["digest"] = after
            else:
                state["digest"] = table_digest(engine)
            return found

        seeded(run)()
    return statuses, failures


def _shown(value: Any, limit: int = 300) -> str:
    """A value as a failure report shows it: its repr, cut to ``limit`` characters with the
    length it had (a negative example's body holds strings of tens of thousands)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _fail_on(failures: list[str]) -> None:
    """Every failing example, reported by the test itself (see :func:`_fuzz`)."""
    if failures:
        unique = sorted(set(failures))
        pytest.fail(
            f"{len(unique)} failing example(s) (FUZZ_SEED={SEED}):\n" + "\n".join(unique),
            pytrace=False,
        )


def test_api_fuzz_as_secretariat(app: Flask, users: dict[str, int]) -> None:
    world = build_world(app, users)
    statuses, failures = _fuzz(app, world, "secretariat", EXAMPLES)
    print(
        f"secretariat: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}"
    )
    _fail_on(failures)
    assert sum(statuses.values()) > 100 * EXAMPLES
    # Meaningful input: some requests were accepted (reads and writes), many refused.
    assert sum(n for code, n in statuses.items() if code < 300) >= 10
    assert {201, 400, 404, 409, 422} <= set(statuses)


def test_api_fuzz_as_focal_point(app: Flask, users: dict[str, int]) -> None:
    world = build_world(app, users)
    statuses, failures = _fuzz(app, world, "focal_gtm", EXAMPLES, writes_only=True)
    print(
        f"focal point: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}"
    )
    _fail_on(failures)
    assert sum(statuses.values()) > 40 * EXAMPLES
    assert 403 in statuses  # the other side's records and the staff's operations


def test_every_operation_is_fuzzed_with_a_body_when_it_takes_one(app: Flask) -> None:
    """Writes that read a JSON body describe it, so the fuzzer sends meaningful bodies."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    missing = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() in ("POST", "PUT", "PATCH") and not operation.body:
            missing.append(f"{operation.method.upper()} {operation.path}")
    assert missing == [], f"declare the request body (@operation(body=...)): {missing}"
