"""Every form leaves its checks to the server, which says what is wrong beside the field in the
reader's language: a browser's own check ("Please fill out this field.", in the browser's
language, as a bubble that disappears) is turned off with ``novalidate``. The audit found
Spanish confirmation pages whose required reason raised an English bubble in an English
browser. The class is every form of every template."""

from __future__ import annotations

import re

from sscmatch import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
FORM = re.compile(r"<form\b[^>]*>", re.S)


def forms_without_novalidate(text: str) -> list[str]:
    return [tag for tag in FORM.findall(text) if not re.search(r"\snovalidate\b", tag)]


def test_every_form_leaves_its_checks_to_the_server() -> None:
    found = {
        str(path.relative_to(TEMPLATES)): tags
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (tags := forms_without_novalidate(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_finds_what_it_looks_for() -> None:
    assert forms_without_novalidate('<form method="post">') == ['<form method="post">']
    assert forms_without_novalidate('<form\n  method="get" class="x" novalidate>') == []
    assert forms_without_novalidate('<form method="post" data-novalidate-x="1">')


def test_every_form_that_posts_names_where() -> None:
    """A form without ``action`` posts to the address the page was drawn at, which is not always
    its own: the account page drawn again at /account/password after a refused password change
    sent "Create a token" to the password change (the audit: three "required" errors, no
    token). Every form that posts says where."""
    found = {
        str(path.relative_to(TEMPLATES)): tags
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (
            tags := [
                tag
                for tag in FORM.findall(path.read_text(encoding="utf-8"))
                if re.search(r'method="post"', tag, re.I) and not re.search(r"\saction=", tag)
            ]
        )
    }
    assert found == {}
