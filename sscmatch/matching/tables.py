"""The factor tables that depend on the weights' half-life: decayed experience and ties."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from sscmatch.matching import factors as F
from sscmatch.matching.graph import (
    indirect_proximity_matrix,
    projection_from_membership,
    small_exchanges,
)
from sscmatch.matching.indexes import Indexes

F64 = npt.NDArray[np.float64]


@dataclass(eq=False)
class Tables:
    """Decayed experience and ties for one half-life (years)."""

    general: F64  # countries: Σ decay over exchanges provided (+ participation at 1/4)
    topical: F64  # themes × countries: the same, each exchange weighted by its similarity
    reference: float  # the most any country has provided (decayed): experience's yardstick
    relationship: F64  # recipient × provider, in [0, 1]
    ties: F64  # recipient × provider: the decayed tie credit D behind relationship

    @classmethod
    def build(cls, ix: Indexes, half_life: float) -> Tables:
        age = np.maximum(0, ix.reference.toordinal() - ix.ex_day) / 365.25
        d = np.power(0.5, age / half_life)
        dd = sp.diags(d)
        role = ix.provided + F.PARTICIPANT_ROLE * ix.participated
        general = np.asarray(role @ d).ravel()
        by_sig = (role @ dd @ ix.ex_onehot).toarray()  # countries × signatures
        topical = np.ascontiguousarray((by_sig @ ix.sig_topic).T)
        reference = float((ix.provided @ d).max()) if ix.provided.shape[1] else 0.0
        share = np.where(ix.member_count > 1, d / np.maximum(ix.member_count - 1, 1), 0.0)
        shared = (ix.members @ sp.diags(share) @ ix.members.T).toarray()
        directed = (ix.provided @ dd @ ix.received.T).toarray()  # provider × recipient
        directed_shared = (ix.provided @ sp.diags(share) @ ix.received.T).toarray()
        # a provider → recipient exchange counts whole; any other shared exchange counts the
        # credit it shares among its members
        ties = np.ascontiguousarray((shared + directed - directed_shared).T)  # recipient × provider
        np.fill_diagonal(ties, 0.0)
        indirect = indirect_proximity_matrix(
            projection_from_membership(small_exchanges(ix.members))
        )
        saturated = 1.0 - np.power(0.5, np.maximum(ties, 0.0))
        relationship = 1.0 - (1.0 - saturated) * (1.0 - F.INDIRECT_SHARE * indirect)
        return cls(
            general=general,
            topical=topical,
            reference=reference,
            relationship=relationship,
            ties=ties,
        )
