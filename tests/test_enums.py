"""The enumerations are declared once (sscmatch.enums): the schemas validate against them, the
lifecycles iterate over them, and every label dict of the pages names exactly their values."""

from __future__ import annotations

from typing import Any

from sscmatch import enums, relations, schemas
from sscmatch.web import network, registry, templating, tours
from sscmatch.workflow import commitments
from sscmatch.workflow.proposals import lifecycle as proposals
from sscmatch.workflow.tours import lifecycle as tour_lifecycle


def _enum(model: Any, field: str) -> list[str]:
    """The values the record schema's JSON schema lists for ``field`` (what openapi.json says)."""
    spec = model.model_json_schema()["properties"][field]
    for option in (spec, *spec.get("anyOf", ()), spec.get("items", {})):
        if "enum" in option:
            return list(option["enum"])
        if "items" in option and "enum" in option["items"]:
            return list(option["items"]["enum"])
    raise AssertionError(f"{field} has no enumeration: {spec}")


def test_schemas_validate_against_the_enumerations() -> None:
    assert _enum(schemas.CapacityCreate, "status") == list(enums.CAPACITY_STATUSES)
    assert _enum(schemas.CapacityCreate, "maturity") == list(enums.MATURITIES)
    assert _enum(schemas.CapacityCreate, "modalities") == list(enums.MODALITIES)
    assert _enum(schemas.NeedCreate, "status") == list(enums.NEED_STATUSES)
    assert _enum(schemas.NeedCreate, "priority") == list(enums.PRIORITIES)
    assert _enum(schemas.ExchangeCreate, "modality") == list(enums.MODALITIES)
    assert _enum(schemas.ExchangeCreate, "direction") == list(enums.DIRECTIONS)
    assert _enum(schemas.CommitmentCreate, "status") == list(enums.COMMITMENT_STATUSES)
    assert _enum(schemas.InstitutionCreate, "constituency") == list(enums.CONSTITUENCIES)


def test_lifecycles_use_the_enumerations() -> None:
    assert proposals.STATUSES == enums.PROPOSAL_STATUSES
    assert set(proposals.OPEN_STATUSES) <= set(enums.PROPOSAL_STATUSES)
    assert set(proposals.TRANSITIONS) <= set(enums.PROPOSAL_STATUSES)
    assert tour_lifecycle.STATUSES == enums.TOUR_STATUSES
    assert set(tour_lifecycle.TRANSITIONS) == set(enums.TOUR_STATUSES)
    assert set(enums.OPEN_TOUR_STATUSES) <= set(enums.TOUR_STATUSES)
    assert commitments.STATUSES == enums.COMMITMENT_STATUSES
    assert set(enums.OPEN_COMMITMENT_STATUSES) <= set(enums.COMMITMENT_STATUSES)
    assert set(enums.TOUR_MODALITIES) <= set(enums.MODALITIES)
    assert relations.ROLES == enums.EXCHANGE_ROLES


def test_every_value_has_a_label_and_every_label_a_value() -> None:
    assert list(registry.MODALITY_LABELS) == list(enums.MODALITIES)
    assert list(network.MODALITY_LABELS) == list(enums.MODALITIES)
    assert list(tours.MODALITY_LABELS) == list(enums.TOUR_MODALITIES)
    assert list(templating.MATURITY_LABELS) == list(enums.MATURITIES)
    assert list(registry.PRIORITY_LABELS) == list(enums.PRIORITIES)
    assert list(templating.ROLE_LABELS) == list(enums.ROLES)
    assert list(network.ROLE_LABELS) == list(enums.EXCHANGE_ROLES)
    assert set(enums.CONSTITUENCIES) <= set(templating.CONSTITUENCY_LABELS)
    statuses = {
        *enums.CAPACITY_STATUSES,
        *enums.NEED_STATUSES,
        *enums.PROPOSAL_STATUSES,
        *enums.TOUR_STATUSES,
        *enums.COMMITMENT_STATUSES,
    }
    assert statuses <= set(templating.STATUS_LABELS)
