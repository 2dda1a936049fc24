"""what the database refuses: check constraints on every restricted value

A value the domain restricts was checked by Python alone (the forms, the API's schemas, the use
cases), so a write that went around them (plain SQL, the bulk writer of bundle imports, a
restore, a later migration) could store a status no lifecycle knows, a role that signs in as
nothing, a language code no vocabulary has, a year 9999, a precision without its day or a
negative count. Each is now a named check constraint (``ck_<table>_<column>``), as the models
declare them (:func:`sscmatch.schema.restrictions`): every enumerated column takes only the
values of :mod:`sscmatch.enums` (a user's language: one of the interface's, or "" for each
browser's), a language code is two or three small letters (ISO 639-1, else 639-3, as the
vocabulary keys them), a count, position or version is never negative (a version, rank, top,
window or number of attempts never below one), a proposal's score is in [0, 1], and each partial
date's day is in the years 1900 to 2100 and comes with its precision (both or neither).

The constraints are written out here, not read from the code: what this migration builds must
not change when an enumeration gains a value (that takes a migration of its own, which
``tests/test_schema_restricted.py`` asks for). Rows already stored are checked first: one that a
constraint would refuse stops the upgrade with the table, the row and the rule, and the database
stays at 0024 (nothing half done); corrected, the upgrade goes through. On SQLite a constraint is
added by copying the table (batch mode): its triggers (the change counter's) are put back as
they were, and the association tables stay WITHOUT ROWID.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 18:05:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

CHECKS: dict[str, tuple[tuple[str, str], ...]] = {
    "data_change": (
        ("ck_data_change_changes", '"changes" >= 0'),
        ("ck_data_change_last_txid", '"last_txid" >= 0'),
        ("ck_data_change_records", '"records" >= 0'),
        ("ck_data_change_records_txid", '"records_txid" >= 0'),
    ),
    "id_counter": (("ck_id_counter_last", '"last" >= 0'),),
    "job_worker": (("ck_job_worker_job_id", '"job_id" >= 0'),),
    "sign_in_throttle": (
        ("ck_sign_in_throttle_failures", '"failures" >= 0'),
        ("ck_sign_in_throttle_window_start", '"window_start" >= 0'),
    ),
    "user": (
        ("ck_user_version", '"version" >= 1'),
        ("ck_user_role", "\"role\" IN ('focal_point', 'secretariat', 'analyst', 'admin')"),
        (
            "ck_user_constituency",
            "\"constituency\" IN ('government', 'employers', 'workers', 'un_agency', 'cooperation_agency', 'ngo', 'academia', 'other')",
        ),
        ("ck_user_language", "\"language\" IN ('', 'en', 'es', 'pt', 'fr')"),
        ("ck_user_auth_version", '"auth_version" >= 0'),
    ),
    "calibration": (
        ("ck_calibration_window", '"window" >= 1'),
        ("ck_calibration_cases", '"cases" >= 0'),
        ("ck_calibration_projects", '"projects" >= 0'),
    ),
    "institution": (
        ("ck_institution_version", '"version" >= 1'),
        (
            "ck_institution_constituency",
            "\"constituency\" IN ('government', 'employers', 'workers', 'un_agency', 'cooperation_agency', 'ngo', 'academia', 'other')",
        ),
    ),
    "job": (
        ("ck_job_attempts", '"attempts" >= 0'),
        ("ck_job_max_attempts", '"max_attempts" >= 1'),
        ("ck_job_done", '"done" >= 0'),
        ("ck_job_total", '"total" >= 0'),
    ),
    "match_run": (
        ("ck_match_run_top_k", '"top_k" >= 1'),
        ("ck_match_run_needs_total", '"needs_total" >= 0'),
        ("ck_match_run_needs_done", '"needs_done" >= 0'),
        ("ck_match_run_proposal_count", '"proposal_count" >= 0'),
    ),
    "capacity": (
        ("ck_capacity_version", '"version" >= 1'),
        (
            "ck_capacity_maturity",
            "\"maturity\" IN ('pilot', 'operational', 'scaled', 'institutionalised')",
        ),
        ("ck_capacity_max_per_year", '"max_per_year" >= 0'),
        (
            "ck_capacity_available_from_date",
            "\"available_from_date\" BETWEEN '1900-01-01' AND '2100-12-31'",
        ),
        (
            "ck_capacity_available_from_period",
            '("available_from_date" IS NULL) = ("available_from_precision" IS NULL)',
        ),
        (
            "ck_capacity_available_from_precision",
            "\"available_from_precision\" IN ('year', 'month', 'day')",
        ),
        (
            "ck_capacity_available_to_date",
            "\"available_to_date\" BETWEEN '1900-01-01' AND '2100-12-31'",
        ),
        (
            "ck_capacity_available_to_period",
            '("available_to_date" IS NULL) = ("available_to_precision" IS NULL)',
        ),
        (
            "ck_capacity_available_to_precision",
            "\"available_to_precision\" IN ('year', 'month', 'day')",
        ),
        ("ck_capacity_status", "\"status\" IN ('draft', 'published', 'archived')"),
    ),
    "institution_language": (
        (
            "ck_institution_language_language",
            'length("language") IN (2, 3) AND "language" = lower("language") AND substr("language", 1, 1) BETWEEN \'a\' AND \'z\' AND substr("language", 2, 1) BETWEEN \'a\' AND \'z\' AND (length("language") = 2 OR substr("language", 3, 1) BETWEEN \'a\' AND \'z\')',
        ),
        ("ck_institution_language_position", '"position" >= 0'),
    ),
    "need": (
        ("ck_need_version", '"version" >= 1'),
        ("ck_need_priority", "\"priority\" IN ('high', 'medium', 'low')"),
        (
            "ck_need_desired_from_date",
            "\"desired_from_date\" BETWEEN '1900-01-01' AND '2100-12-31'",
        ),
        (
            "ck_need_desired_from_period",
            '("desired_from_date" IS NULL) = ("desired_from_precision" IS NULL)',
        ),
        (
            "ck_need_desired_from_precision",
            "\"desired_from_precision\" IN ('year', 'month', 'day')",
        ),
        ("ck_need_desired_to_date", "\"desired_to_date\" BETWEEN '1900-01-01' AND '2100-12-31'"),
        (
            "ck_need_desired_to_period",
            '("desired_to_date" IS NULL) = ("desired_to_precision" IS NULL)',
        ),
        ("ck_need_desired_to_precision", "\"desired_to_precision\" IN ('year', 'month', 'day')"),
        ("ck_need_status", "\"status\" IN ('draft', 'open', 'matched', 'closed')"),
    ),
    "capacity_language": (
        (
            "ck_capacity_language_language",
            'length("language") IN (2, 3) AND "language" = lower("language") AND substr("language", 1, 1) BETWEEN \'a\' AND \'z\' AND substr("language", 2, 1) BETWEEN \'a\' AND \'z\' AND (length("language") = 2 OR substr("language", 3, 1) BETWEEN \'a\' AND \'z\')',
        ),
        ("ck_capacity_language_position", '"position" >= 0'),
    ),
    "capacity_theme": (("ck_capacity_theme_position", '"position" >= 0'),),
    "need_language": (
        (
            "ck_need_language_language",
            'length("language") IN (2, 3) AND "language" = lower("language") AND substr("language", 1, 1) BETWEEN \'a\' AND \'z\' AND substr("language", 2, 1) BETWEEN \'a\' AND \'z\' AND (length("language") = 2 OR substr("language", 3, 1) BETWEEN \'a\' AND \'z\')',
        ),
        ("ck_need_language_position", '"position" >= 0'),
    ),
    "need_theme": (("ck_need_theme_position", '"position" >= 0'),),
    "proposal": (
        ("ck_proposal_version", '"version" >= 1'),
        ("ck_proposal_rank", '"rank" >= 1'),
        ("ck_proposal_score", '"score" BETWEEN 0 AND 1'),
        (
            "ck_proposal_status",
            "\"status\" IN ('proposed', 'provider_confirmed', 'provider_declined', 'accepted', 'rejected', 'superseded')",
        ),
    ),
    "study_tour": (
        ("ck_study_tour_version", '"version" >= 1'),
        (
            "ck_study_tour_modality",
            "\"modality\" IN ('study_tour', 'technical_assistance', 'expert_exchange', 'virtual_exchange')",
        ),
        ("ck_study_tour_start_date", "\"start_date\" BETWEEN '1900-01-01' AND '2100-12-31'"),
        ("ck_study_tour_start_period", '("start_date" IS NULL) = ("start_precision" IS NULL)'),
        ("ck_study_tour_start_precision", "\"start_precision\" IN ('year', 'month', 'day')"),
        ("ck_study_tour_end_date", "\"end_date\" BETWEEN '1900-01-01' AND '2100-12-31'"),
        ("ck_study_tour_end_period", '("end_date" IS NULL) = ("end_precision" IS NULL)'),
        ("ck_study_tour_end_precision", "\"end_precision\" IN ('year', 'month', 'day')"),
        (
            "ck_study_tour_status",
            "\"status\" IN ('draft', 'proposed', 'agreed', 'scheduled', 'completed', 'closed', 'cancelled')",
        ),
    ),
    "exchange": (
        ("ck_exchange_version", '"version" >= 1'),
        ("ck_exchange_start_date", "\"start_date\" BETWEEN '1900-01-01' AND '2100-12-31'"),
        ("ck_exchange_start_period", '("start_date" IS NULL) = ("start_precision" IS NULL)'),
        ("ck_exchange_start_precision", "\"start_precision\" IN ('year', 'month', 'day')"),
        ("ck_exchange_end_date", "\"end_date\" BETWEEN '1900-01-01' AND '2100-12-31'"),
        ("ck_exchange_end_period", '("end_date" IS NULL) = ("end_precision" IS NULL)'),
        ("ck_exchange_end_precision", "\"end_precision\" IN ('year', 'month', 'day')"),
        (
            "ck_exchange_modality",
            "\"modality\" IN ('study_tour', 'technical_assistance', 'training', 'expert_exchange', 'virtual_exchange', 'twinning', 'conference', 'project')",
        ),
        ("ck_exchange_direction", "\"direction\" IN ('one_way', 'reciprocal', 'multilateral')"),
    ),
    "commitment": (
        ("ck_commitment_version", '"version" >= 1'),
        ("ck_commitment_due_date", "\"due_date\" BETWEEN '1900-01-01' AND '2100-12-31'"),
        ("ck_commitment_due_period", '("due_date" IS NULL) = ("due_precision" IS NULL)'),
        ("ck_commitment_due_precision", "\"due_precision\" IN ('year', 'month', 'day')"),
        (
            "ck_commitment_status",
            "\"status\" IN ('pending', 'in_progress', 'fulfilled', 'dropped')",
        ),
    ),
    "exchange_country": (
        ("ck_exchange_country_role", "\"role\" IN ('provider', 'recipient', 'participant')"),
        ("ck_exchange_country_position", '"position" >= 0'),
    ),
    "exchange_language": (
        (
            "ck_exchange_language_language",
            'length("language") IN (2, 3) AND "language" = lower("language") AND substr("language", 1, 1) BETWEEN \'a\' AND \'z\' AND substr("language", 2, 1) BETWEEN \'a\' AND \'z\' AND (length("language") = 2 OR substr("language", 3, 1) BETWEEN \'a\' AND \'z\')',
        ),
        ("ck_exchange_language_position", '"position" >= 0'),
    ),
    "exchange_partner": (("ck_exchange_partner_position", '"position" >= 0'),),
    "exchange_theme": (("ck_exchange_theme_position", '"position" >= 0'),),
    "commitment_update": (
        (
            "ck_commitment_update_status",
            "\"status\" IN ('pending', 'in_progress', 'fulfilled', 'dropped')",
        ),
    ),
}
WITHOUT_ROWID = {
    "capacity_theme",
    "capacity_language",
    "need_theme",
    "need_language",
    "exchange_theme",
    "exchange_language",
    "exchange_country",
    "exchange_partner",
    "institution_language",
}


def _refused_rows(conn: Any) -> list[str]:
    """Every stored row a constraint would refuse (five per rule at most), named."""
    found = []
    inspector = sa.inspect(conn)
    for table, checks in CHECKS.items():
        key = inspector.get_pk_constraint(table)["constrained_columns"]
        columns = ", ".join(f'"{c}"' for c in key)
        for name, rule in checks:
            rows = conn.execute(
                sa.text(f'SELECT {columns} FROM "{table}" WHERE NOT ({rule}) LIMIT 5')
            ).all()
            found += [f"{table} {tuple(row)}: {name} ({rule})" for row in rows]
    return found


def _batch(table: str) -> Any:
    kwargs = {"sqlite_with_rowid": False} if table in WITHOUT_ROWID else {}
    return op.batch_alter_table(table, recreate="always", table_kwargs=kwargs)


def _change_each(alter: Any) -> None:
    """``alter(batch_op, checks)`` on each table of :data:`CHECKS`: in place on PostgreSQL, by a
    copy on SQLite. There the change counter's triggers (of every table, on ``data_change``) are
    taken off first, since renaming a copy into place checks every trigger that names a table,
    and put back as they were at the end."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    triggers = []
    if sqlite:
        found = op.get_bind().execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        )
        triggers = list(found)
        for name, _sql in triggers:
            op.execute(f'DROP TRIGGER "{name}"')
    for table, checks in CHECKS.items():
        with _batch(table) if sqlite else op.batch_alter_table(table) as batch_op:
            alter(batch_op, checks)
    for _name, sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    refused = _refused_rows(op.get_bind())
    if refused:
        raise RuntimeError(
            "rows the database is now to refuse; correct them, then upgrade again:\n"
            + "\n".join(refused)
        )

    def add(batch_op: Any, checks: tuple[tuple[str, str], ...]) -> None:
        for name, rule in checks:
            batch_op.create_check_constraint(name, sa.text(rule))

    _change_each(add)


def downgrade() -> None:
    def drop(batch_op: Any, checks: tuple[tuple[str, str], ...]) -> None:
        for name, _rule in checks:
            batch_op.drop_constraint(name, type_="check")

    _change_each(drop)
