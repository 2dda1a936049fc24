"""A Spanish-speaking focal point's control over their own need, in a real browser: they submit
it and take the submission back from the page that took it, then withdraw the need (the country
no longer needs it) after the confirmation, and undo the withdrawal from the page after it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from sscmatch.models import Need
from tests.e2e.conftest import expect

pytestmark = pytest.mark.e2e


NEED_ID = "N-2026-0950"


def _draft_need(live_server: Any) -> None:
    """A draft need of Guatemala, as its focal point's form would register it."""
    with Session(live_server.app.extensions["sscmatch.engine"]) as session:
        if session.get(Need, NEED_ID) is None:
            session.add(
                Need(
                    id=NEED_ID,
                    country="GTM",
                    title="Registro de inspecciones que ya no se necesita (e2e)",
                    themes=["labour-inspection"],
                    languages=["es"],
                )
            )
            session.commit()


def test_focal_point_submits_undoes_and_withdraws_a_need(
    new_page: Any, sign_in: Any, shot: Any, live_server: Any
) -> None:
    _draft_need(live_server)
    page = new_page("es-ES")
    sign_in(page, "gtm")
    page.goto(f"/needs/{NEED_ID}")

    # submitted: the page that took it offers its undo
    page.click("form[action$='/submit'] button")
    undo = page.locator(".flash.undo")
    expect(undo).to_contain_text("Enviada para aval")
    expect(undo.locator("button")).to_have_text("Deshacer (retirar el envío)")
    expect(page.locator(".badge-submitted")).to_have_count(1)
    shot(page, "submitted-with-undo")
    undo.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Se retiró el envío")
    expect(page.locator(".badge-submitted")).to_have_count(0)

    # withdrawn after the confirmation, which says what will happen
    page.fill("#reason", "Lo resolvimos con fondos nacionales.")
    page.click("form[action$='/withdraw'] button")
    expect(page.locator("h1")).to_contain_text("¿Retirar la necesidad")
    expect(page.locator(".consequences")).to_contain_text("queda cerrada")
    expect(page.locator(".consequences")).to_contain_text("Lo resolvimos con fondos nacionales.")
    shot(page, "withdraw-confirmation")
    page.click(".confirm-form button[type=submit]")
    expect(page.locator(".badge-closed").first).to_be_visible()
    undo = page.locator(".flash.undo")
    expect(undo).to_contain_text("La necesidad se retiró")
    expect(undo.locator("button")).to_have_text("Deshacer (restablecer la necesidad)")
    shot(page, "withdrawn-with-undo")

    # the undo puts it back as it was: a draft
    undo.locator("button").click()
    expect(page.locator(".flash")).to_contain_text("Se deshizo el retiro")
    expect(page.locator(".badge-draft").first).to_be_visible()
    expect(page.locator("form[action$='/withdraw'] button")).to_have_text("Retirar esta necesidad")
