"""Running the matcher over stored records, and keeping its results as a MatchRun with Proposals.

A stored run supersedes the undecided proposals of earlier runs for the same needs; decided ones
(confirmed, declined, accepted, rejected) stay as they are. Progress is written to the run as
needs are ranked in batches, so a page can show it while a long run works.

A run begun from the pages or the API is computed by a job (:mod:`sscmatch.workflow.jobs`,
subject ``match_run:<id>``) queued in the same transaction: a worker that dies makes the job try
again, and its last failure marks the run failed with the reason. :func:`sweep_interrupted` is
the safety net for runs that no job will finish (begun before jobs existed, or whose job ended
without them), so none stays "running" forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, distinct, func, not_, or_, update
from sqlmodel import Session, col, select

from sscmatch import relations
from sscmatch.caches import Cache
from sscmatch.db import data_key
from sscmatch.enums import OPEN_PROPOSAL_STATUSES
from sscmatch.matching import PreparedCorpus, Proposal, Weights, prepare, rank
from sscmatch.matching.assignment import Assignment, assign, edges_from_proposals, offer_key
from sscmatch.models import Capacity, Institution, MatchRun, Need, ProposalComment, utcnow
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import Vocabulary
from sscmatch.workflow import notices
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import N_, DomainError, Page
from sscmatch.workflow.calibrations import current_weights
from sscmatch.workflow.encode import build_corpus
from sscmatch.workflow.jobs import FINISHED, job_beside
from sscmatch.workflow.proposals.offers import withdraw_unpublished, withdraw_vetoed
from sscmatch.workflow.workers import this_worker

BATCH = 1000
MIN_BATCH = 40
PROGRESS_STEPS = 20
UNDECIDED = ("proposed",)


def _unanswered() -> ColumnElement[bool]:
    """A proposal nobody has answered: no word from its provider (still proposed) nor from its
    recipient, and no comment by anyone (a comment is a word on it too: superseded, its thread
    stayed on a page nobody opens, the same offer proposed afresh without it). A new run
    supersedes those of earlier runs and keeps the others (:func:`store`)."""
    commented = select(ProposalComment.id).where(
        col(ProposalComment.proposal_id) == col(StoredProposal.id)
    )
    return and_(
        col(StoredProposal.status).in_(UNDECIDED),
        col(StoredProposal.recipient_fit).is_(None),
        ~commented.exists(),
    )


INTERRUPTED = (
    "interrupted: no job is computing this run any more (it was begun before jobs existed, or "
    "its job ended without it); nothing was stored. Start the run again."
)


class MatchError(DomainError):
    """Bad input for a run (unknown or closed need, bad parameter); nothing was stored."""


@dataclass(frozen=True)
class MatchResult:
    as_of: date | None
    proposals: list[Proposal]
    run_id: int | None = None
    assignment: Assignment | None = None


def check_needs(session: Session, need_ids: Sequence[str], as_of: date | None) -> None:
    """Refuse unknown needs and, for a run of today, needs that are not open."""
    for need_id in need_ids:
        need = session.get(Need, need_id)
        if need is None:
            raise MatchError(N_("unknown need %(value)s"), value=repr(need_id))
        if as_of is None and need.status != "open":
            raise MatchError(
                N_("need %(value)s is %(status)s, not open: only open needs are matched"),
                value=repr(need_id),
                status=need.status,
            )


_PREPARED: Cache[PreparedCorpus] = Cache("prepared corpus", size=1)
"""The matching corpus, indexed, as of a date: what every ranking starts from. Building it reads
every record and hashes every text (0.2 s on the knowledge base, seconds at the target scale),
while ranking one need takes milliseconds: a live ranking (``GET /api/v1/needs/<id>/matches``) or
the next run reuses it until a record changes. Kept under the data version, which moves with
every table the corpus reads (``CHANGE_TRACKED_TABLES``: records, vetoes, themes; the text
vectors are made from the records' texts, so they are the same for one version); the vocabulary
is the process's own. One entry (at the target scale a prepared corpus holds hundreds of MB in
each process that ranks): a replay as of a date takes the place of today's."""


def prepared_corpus(session: Session, vocab: Vocabulary, as_of: date | None) -> PreparedCorpus:
    """The corpus of ``session``'s records prepared as of ``as_of``, kept while no record
    changes (none kept while ``session`` has uncommitted writes: ``data_key`` is None)."""
    version = data_key(session)
    key = None if version is None else (version, id(vocab), as_of)
    return _PREPARED.get_or_make(key, lambda: prepare(build_corpus(session, vocab), as_of=as_of))


def compute(
    session: Session,
    vocab: Vocabulary,
    *,
    as_of: date | None = None,
    need_ids: Sequence[str] = (),
    top_k: int = 5,
    weights: Weights | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Proposal]:
    """Rank providers for the named needs (default: every open need), in batches, with
    ``weights`` (default: the latest calibration's, else the documented defaults)."""
    if not 1 <= top_k <= 50:
        raise MatchError(N_("top must be between 1 and 50, got %(n)s"), n=top_k)
    check_needs(session, need_ids, as_of)
    if weights is None:
        weights = current_weights(session)
    prepared = prepared_corpus(session, vocab, as_of)
    wanted = list(need_ids) or [n.id for n in prepared.corpus.needs if n.status == "open"]
    # About PROGRESS_STEPS reports whatever the size (a bar that moves), in batches of at most
    # BATCH needs and at least MIN_BATCH (each call to rank has a small fixed cost).
    size = max(MIN_BATCH, min(BATCH, -(-len(wanted) // PROGRESS_STEPS)))
    proposals: list[Proposal] = []
    for start in range(0, len(wanted), size):
        batch = wanted[start : start + size]
        proposals += rank(prepared, weights, as_of=as_of, need_ids=batch, top_k=top_k)
        if progress:
            progress(min(start + size, len(wanted)), len(wanted))
    return proposals


def portfolio(
    session: Session, proposals: Sequence[Proposal], min_per_recipient: int = 0
) -> Assignment:
    """At most one provider per need, maximising total score within capacities' yearly quotas.

    A fallback proposal (no capacity: proposed for the country's experience) is the offer
    ``experience:<country>`` (``assignment.offer_key``), which has no yearly quota; use
    :func:`chosen_proposals` to read the answer back as proposals."""
    capacity_ids = {p.capacity_id for p in proposals if p.capacity_id}
    quotas = {
        c.id: c.max_per_year
        for c in session.exec(select(Capacity).where(col(Capacity.id).in_(capacity_ids)))
    }
    return assign(edges_from_proposals(proposals), quotas, min_per_recipient or None)


def chosen_proposals(assignment: Assignment, proposals: Sequence[Proposal]) -> list[Proposal]:
    """The proposals behind the assignment's chosen (need, offer key) pairs, by need: a fallback
    offer's key names its country, not a capacity."""
    by_key = {(p.need_id, offer_key(p)): p for p in proposals}
    return [by_key[pair] for pair in assignment.chosen if pair in by_key]


def start_run(
    session: Session,
    *,
    as_of: date | None,
    need_ids: Sequence[str],
    top_k: int,
    user_id: int | None,
) -> MatchRun:
    run = MatchRun(
        created_by=user_id,
        as_of=as_of.isoformat() if as_of else None,
        top_k=top_k,
        params={"needs": list(need_ids)},
        status="running",
    )
    beat(run)
    session.add(run)
    session.flush()
    return run


def open_needs(
    session: Session, countries: Sequence[str] = (), themes: Sequence[str] = ()
) -> list[str]:
    """Ids of the needs a run of "all open needs" ranks (not those of international bodies), by
    id; only those of ``countries`` and with one of ``themes`` when given."""
    international = select(Institution.id).where(col(Institution.international))
    query = select(Need.id).where(
        Need.status == "open",
        or_(col(Need.institution).is_(None), col(Need.institution).not_in(international)),
    )
    if countries:
        query = query.where(col(Need.country).in_(countries))
    if themes:
        query = query.where(relations.having(Need, "themes", themes))
    return list(session.exec(query.order_by(col(Need.id))).all())


def begin_run(
    session: Session,
    *,
    need_ids: Sequence[str] = (),
    top_k: int = 5,
    user_id: int | None = None,
) -> MatchRun:
    """Check the parameters and create a ``running`` run of today (the caller commits, then
    computes and stores it, in the background or at once). Raises :class:`MatchError`."""
    if not 1 <= top_k <= 50:
        raise MatchError(N_("top must be between 1 and 50, got %(n)s"), n=top_k)
    sweep_interrupted(session)  # so that no dead run looks like it is still working
    wanted = list(dict.fromkeys(need_ids))
    check_needs(session, wanted, None)
    run = start_run(session, as_of=None, need_ids=wanted, top_k=top_k, user_id=user_id)
    run.needs_total = len(wanted) or len(open_needs(session))
    record_event(
        session,
        user_id=user_id,
        action="start",
        entity="match_run",
        entity_id=run.id or 0,
        after=snapshot(run),
    )
    return run


def finish_run(
    session: Session, run: MatchRun, proposals: Sequence[Proposal], user_id: int | None
) -> None:
    """Store a begun run's proposals and mark it done (all in the caller's transaction)."""
    store(session, run, proposals, user_id)
    run.needs_done = run.needs_total
    session.add(run)
    record_event(
        session,
        user_id=user_id,
        action="finish",
        entity="match_run",
        entity_id=run.id or 0,
        after=snapshot(run),
        note=f"{run.proposal_count} proposals",
    )


def beat(run: MatchRun) -> None:
    """Record that this process is computing ``run``, now."""
    run.worker = this_worker()
    run.heartbeat_at = utcnow()


def sweep_interrupted(session: Session) -> list[int]:
    """Mark failed (:data:`INTERRUPTED`) every running run that no job will finish: it has no
    job, or its job has ended; returns their ids (the caller commits). A run whose job is
    queued or running is left alone: recovering the jobs of stopped workers is the job queue's
    (``sscmatch.jobs.recover``), which fails the run with the job after its last attempt."""
    swept: list[int] = []
    for run in session.exec(select(MatchRun).where(MatchRun.status == "running")).all():
        job = job_beside(session, f"match_run:{run.id}", run)
        if run.status == "running" and (job is None or job.status in FINISHED):
            fail_run(run, INTERRUPTED)
            session.add(run)
            swept.append(run.id or 0)
    return swept


def fail_run(run: MatchRun, error: str) -> None:
    """Mark a run failed with a message (its proposals were never stored)."""
    run.status = "failed"
    run.error = (error or "the run failed")[:2000]
    run.finished_at = utcnow()


def store(
    session: Session, run: MatchRun, proposals: Sequence[Proposal], user_id: int | None
) -> None:
    """Save the proposals under ``run`` and supersede the unanswered ones of earlier runs.

    What a focal point answered stays: a proposal of an earlier run that its provider confirmed
    or declined, or whose recipient said it fits or does not, is not superseded, and the run
    does not propose that offer (need, provider, capacity) again beside it. Before, a run
    superseded a proposal the recipient had answered, losing the answer, and stored a second
    proposal of an offer its provider had confirmed, asking the provider again
    (``tests/workflow/test_rerun_keeps_answers.py`` walks every answer)."""
    assert run.id is not None
    # proposals left standing on an offer no longer published (by a version of the service
    # that did not take them out of play) leave it now (proposals.offers)
    withdraw_unpublished(session, user_id)
    withdraw_vetoed(session, user_id)  # and those of a pair vetoed by such a version
    needs = {p.need_id for p in proposals}
    if needs:
        # one conditional UPDATE, not a read and a write: a proposal decided or answered by
        # someone between the two stays as they left it (a decision failed the whole run),
        # and the version of those superseded moves, so a step opened on them is refused
        session.execute(
            update(StoredProposal)
            .where(
                col(StoredProposal.need).in_(needs),
                _unanswered(),
                col(StoredProposal.run_id) != run.id,
            )
            .values(
                status="superseded",
                updated_at=utcnow(),
                version=col(StoredProposal.version) + 1,
            )
            .execution_options(synchronize_session=False)
        )
        # only open needs are matched: one matched (a proposal accepted) or closed while the
        # run computed gets none (read after the supersede, which waits for a decision under
        # way on the same proposals)
        still_open = set(
            session.exec(select(Need.id).where(col(Need.id).in_(needs), Need.status == "open"))
        )
        answered = set(
            session.exec(
                select(StoredProposal.need, StoredProposal.provider, StoredProposal.capacity).where(
                    col(StoredProposal.need).in_(needs),
                    col(StoredProposal.status).in_(OPEN_PROPOSAL_STATUSES),
                    col(StoredProposal.run_id) != run.id,
                )
            )
        )
        proposals = [
            p
            for p in proposals
            if p.need_id in still_open and (p.need_id, p.provider, p.capacity_id) not in answered
        ]
    for p in proposals:
        session.add(
            StoredProposal(
                run_id=run.id,
                need=p.need_id,
                capacity=p.capacity_id,
                provider=p.provider,
                recipient=p.recipient,
                rank=p.rank,
                score=p.score,
                components={
                    "components": dict(p.components),
                    "contributions": dict(p.contributions),
                    "damping": p.damping,
                    "basis": p.basis,
                    "addresses": p.addresses,
                },
                reasons=[r.to_dict() for r in p.reasons],
                created_by=user_id,
            )
        )
    run.status = "done"
    run.proposal_count = len(proposals)
    run.finished_at = utcnow()


def run_and_store(
    session: Session,
    vocab: Vocabulary,
    *,
    need_ids: Sequence[str] = (),
    top_k: int = 5,
    user_id: int | None = None,
    weights: Weights | None = None,
) -> MatchResult:
    """Match today's open needs (or the named ones) and store the run (the caller commits)."""
    run = start_run(session, as_of=None, need_ids=need_ids, top_k=top_k, user_id=user_id)

    def progress(done: int, total: int) -> None:
        run.needs_done, run.needs_total = done, total
        beat(run)

    proposals = compute(
        session, vocab, need_ids=need_ids, top_k=top_k, weights=weights, progress=progress
    )
    store(session, run, proposals, user_id)
    session.flush()
    # A run from the command line is not audited as a finished web run: tell the focal points
    # here (the web's runs tell them through finish_run's audit event).
    notices.proposals_arrived(session, run.id or 0, user_id)
    return MatchResult(as_of=None, proposals=proposals, run_id=run.id)


@dataclass(frozen=True)
class RunNeed:
    """One need of a run's page: its id, title, recipient and proposals in rank order, and the
    answered proposals of earlier runs still open for it (``kept``: the run did not propose
    their offers again, :func:`store`)."""

    id: str
    title: str
    recipient: str
    proposals: list[StoredProposal]
    kept: list[StoredProposal] = field(default_factory=list)


def run_needs(
    session: Session, run_id: int, recipient: str | None, page: int, size: int
) -> Page[RunNeed]:
    """A page of a run's needs (by id) with their proposals; only the needs of ``recipient``
    when given. A full run holds a proposal list for every open need (100,000 proposals at
    the target scale), so its page shows ``size`` needs at a time."""
    where = [StoredProposal.run_id == run_id]
    if recipient:
        where.append(StoredProposal.recipient == recipient)
    need = col(StoredProposal.need)
    total = session.exec(select(func.count(distinct(need))).where(*where)).one()
    ids = session.exec(
        select(need)
        .where(*where)
        .group_by(need)
        .order_by(need)
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    rows = session.exec(
        select(StoredProposal, Need.title)
        .join(Need, col(Need.id) == need)
        .where(StoredProposal.run_id == run_id, need.in_(ids))
        .order_by(need, col(StoredProposal.rank))
    ).all()
    by_need: dict[str, RunNeed] = {}
    for proposal, title in rows:
        entry = by_need.setdefault(
            proposal.need, RunNeed(proposal.need, title, proposal.recipient, [])
        )
        entry.proposals.append(proposal)
    for kept in session.exec(
        select(StoredProposal)
        .where(
            need.in_(ids),
            col(StoredProposal.run_id) < run_id,
            col(StoredProposal.status).in_(OPEN_PROPOSAL_STATUSES),
            not_(_unanswered()),
        )
        .order_by(need, col(StoredProposal.score).desc(), col(StoredProposal.id))
    ):
        if kept.need in by_need:
            by_need[kept.need].kept.append(kept)
    return Page(items=list(by_need.values()), number=page, size=size, total=int(total))


def run_proposals(
    session: Session, run_id: int, recipient: str | None, size: int
) -> tuple[list[tuple[StoredProposal, str]], int]:
    """The first ``size`` proposals of a run, by need (its id) and rank, each with its need's
    title, and how many there are: the rows of :func:`run_needs` (its export), only those for
    ``recipient`` when given."""
    where = [StoredProposal.run_id == run_id]
    if recipient:
        where.append(StoredProposal.recipient == recipient)
    total = session.exec(select(func.count(col(StoredProposal.id))).where(*where)).one()
    rows = session.exec(
        select(StoredProposal, Need.title)
        .join(Need, col(Need.id) == col(StoredProposal.need))
        .where(*where)
        .order_by(col(StoredProposal.need), col(StoredProposal.rank), col(StoredProposal.id))
        .limit(size)
    ).all()
    return [(proposal, title) for proposal, title in rows], int(total)
