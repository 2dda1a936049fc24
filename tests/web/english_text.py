"""Finding English on a page meant for a Spanish, Portuguese or French reader.

A page's visible text (text nodes, option labels, ``title``, ``aria-label``, ``placeholder`` and
``alt`` attributes; not scripts, styles, or elements marked ``translate="no"``) is cut into its
text nodes. A node is English when

1. it is (or holds, for messages of several words) an English message of the catalogue that the
   reader's language translates differently: the page printed the msgid instead of asking the
   catalogue (a Python string without ``_()``, a label built by hand);
2. it holds a value known to reach pages untranslated when nobody labels it: status and
   enumeration codes (``in_progress``, ``one_way``…), their English words alone (``pending``),
   cost lines and their basis, M49 region names in English, the generated tour text;
3. it reads as an English sentence: two or more words that are English and no word of Spanish,
   Portuguese or French (``the``, ``which``, ``should``…).

Proper names and data are not the interface's to translate: any text that appears in the
database (titles, descriptions, institution names, notes: everything people or the documents
wrote) is left alone, except for what (2) names, since the generated tour text is stored too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "sscmatch" / "translations"

SKIPPED = {"script", "style", "template", "noscript"}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

# Words no Spanish, Portuguese or French sentence has; two of them make a sentence English.
_ENGLISH_ONLY = """the and with which this that these those from have has been should would
could must only into their there where when what who whose while than then them they were will
shall about after before between because other each every any none some more most less least
here your yours our ours its it's isn't doesn't can't won't not yet already still once twice
per"""
ENGLISH_ONLY_WORDS = frozenset(_ENGLISH_ONLY.split())
WORD = re.compile(r"[A-Za-zÀ-ÿ']+")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


@dataclass(frozen=True)
class Finding:
    text: str
    why: str


class _VisibleText(HTMLParser):
    """Collects visible text nodes and shown attributes, skipping what is not read."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its content)
        self.texts: list[str] = []

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hides = tag in SKIPPED or values.get("translate") == "no"
        if not hides and not self._hidden():
            for name in SHOWN_ATTRIBUTES:
                if values.get(name):
                    self.texts.append(str(values[name]))
            if (
                tag == "input"
                and values.get("type") in ("submit", "button")
                and values.get("value")
            ):
                self.texts.append(str(values["value"]))
        if tag not in VOID:
            self.stack.append((tag, hides))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):  # forgiving about unclosed tags
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return [" ".join(t.split()) for t in parser.texts if t.strip()]


def _key(msgid: object) -> str:
    return str(msgid[0] if isinstance(msgid, tuple | list) else msgid)


@functools.cache
def _english_tells(lang: str) -> tuple[frozenset[str], list[str]]:
    """The English of ``lang``'s catalogue that would tell an untranslated text: words or short
    texts that are one whole text, and phrases found inside longer ones (longest first).

    Read once a test process: parsing a catalogue takes 60-80 ms, and the walks make a detector
    for every form and language they try (384 of them in test_date_fields alone: 30 of its 48 s)."""
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    whole: set[str] = set()
    pieces: list[str] = []
    for message in catalogue:
        if not message.id:
            continue
        english = _key(message.id)
        translated = _key(message.string) if message.string else ""
        if translated.strip() == english.strip():
            continue  # the same in both languages ("Total", "Email" in some): not a tell
        for piece in PLACEHOLDER.split(english):
            piece = " ".join(piece.split()).strip(" .,:;·()—-")
            words = WORD.findall(piece)
            if len(words) >= 3:
                pieces.append(piece)  # a phrase: found inside longer text
            elif piece and PLACEHOLDER.search(english) is None:
                whole.add(piece)  # a word or two: only when it is the whole text
    return frozenset(whole), sorted(set(pieces), key=len, reverse=True)


class Detector:
    """Says which texts of a page are English, for one reader's language."""

    def __init__(self, lang: str, known_english: Iterable[str], data: Iterable[str]) -> None:
        self.lang = lang
        self.whole, self.pieces = _english_tells(lang)
        self.known = sorted({k for k in known_english if k}, key=len, reverse=True)
        self.data = {" ".join(d.split()) for d in data if d and d.strip()}
        self._memo: dict[str, Finding | None] = {}

    def _is_data(self, text: str) -> bool:
        """Whether ``text`` is stored data, whole or cut short (a list shows the first words)."""
        if text in self.data:
            return True
        stripped = text.strip(" .,:;·()—–-«»\"'")
        if stripped.endswith(("...", "…")):
            stripped = stripped.rstrip(".…").strip()
        if stripped in self.data:
            return True
        return len(stripped) > 24 and any(stripped in d for d in self._long_data)

    @property
    def _long_data(self) -> list[str]:
        if not hasattr(self, "_long"):
            self._long = [d for d in self.data if len(d) > 24]
        return self._long

    def findings(self, texts: Iterable[str]) -> Iterator[Finding]:
        # The verdict on a text depends on the text alone, and a page repeats most of the last
        # page's (the menu, the footer, a list's headers): each distinct text is judged once.
        memo = self._memo
        for text in texts:
            if text not in memo:
                memo[text] = self._finding(text)
            found = memo[text]
            if found is not None:
                yield found

    def _finding(self, text: str) -> Finding | None:
        lowered = text.lower()
        known = next((k for k in self.known if _contains_words(lowered, k.lower())), None)
        if known is not None:
            return Finding(text, f"known English {known!r}")
        # A node may join data and interface text ("ECLAC · 3 exchanges"): drop the data.
        parts = [p for p in re.split(r" · | \| | — ", text) if not self._is_data(p)]
        if not parts:
            return None
        text = " · ".join(parts)
        core = text.strip(" .,:;·()—–-…*←→›|")
        if core in self.whole:
            return Finding(text, "an English message of the catalogue")
        piece = next((p for p in self.pieces if p in text), None)
        if piece is not None:
            return Finding(text, f"holds the English message {piece!r}")
        words = [w.lower() for w in WORD.findall(text)]
        english = [w for w in words if w in ENGLISH_ONLY_WORDS]
        if len(english) >= 2:
            # a sentence of the interface may end on data ("Se propone a X para apoyarle
            # en: <a need's English title>"): only the words outside the data count
            outside = self._without_data(text)
            english = [w for w in WORD.findall(outside.lower()) if w in ENGLISH_ONLY_WORDS]
        if len(english) >= 2:
            return Finding(text, f"English words {english[:4]}")
        return None

    def _without_data(self, text: str) -> str:
        for d in self._long_data:
            if d in text:
                text = text.replace(d, " ")
        return text


def _contains_words(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words (``pending`` is not in
    ``pendiente``, ``travel`` is not in ``travelled``)."""
    start = text.find(phrase)
    while start != -1:
        before = text[start - 1] if start > 0 else " "
        end = start + len(phrase)
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = text.find(phrase, start + 1)
    return False
