"""A study tour's undo never reads as its cancellation.

After a step that can be undone, the tour's page offers the step back as a button; in French it
read "Annuler (retour à proposé)", beside "Passer au statut « annulé »…", the tour's
cancellation: the same word for "undo" and "cancel" on two buttons that do opposite things (seen
in Chromium on a tour's page, French). The undo now says where it goes back to ("Revenir au
statut « proposé »").

The class: every status a step goes back to, in every interface language: the undo's label does
not begin with the cancelled status's word.
"""

from __future__ import annotations

import pytest
from flask import Flask

from sscmatch.vocab import INTERFACE_LANGUAGES
from sscmatch.web.templating import tour_status_label
from sscmatch.web.translate import gettext as _
from sscmatch.workflow import tours as wf


@pytest.mark.parametrize("lang", sorted(set(INTERFACE_LANGUAGES) - {"en"}))
def test_the_undo_of_a_step_is_not_the_word_for_cancel(app: Flask, lang: str) -> None:
    backs = {wf.undone_by(before, to) for before, tos in wf.TRANSITIONS.items() for to in tos}
    backs.discard(None)
    assert backs
    with app.test_request_context(headers={"Accept-Language": lang}):
        cancelled = tour_status_label("cancelled").lower()
        for back in sorted(b for b in backs if b):
            label = _("Undo (back to %(status)s)", status=tour_status_label(back))
            assert tour_status_label(back) in label, (lang, label)
            first = label.split()[0].lower()
            assert first[:5] != cancelled[:5], (lang, label, cancelled)
