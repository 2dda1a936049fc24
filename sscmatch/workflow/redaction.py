"""Country names and demonyms blanked out of evaluation texts.

A pseudo-need made from a real project must not name its provider, or the text factor would
find the answer in the question (the development set's README asks for it). What is blanked:

- every name of every country in the vocabulary (en/es/pt/fr/ru and its aliases); a short
  all-capitals alias ("UAE", "DRC", "US") only in capitals, so the word "us" stays;
- the English demonym of every country, from ``countryinfo`` (a maintained, MIT-licensed table
  of 250 countries shipped inside its wheel: "Panamanian", "Mozambican", "South African"), plus
  a plural "s";
- demonyms formed on the stem of a one-word country name ("Chil-ean", "Argentin-o",
  "Mexic-ana"): most Spanish, Portuguese and French ones. Only stems of four letters or more, so
  "Mali" does not blank "male" nor "Peru" the Spanish "pero";
- :data:`IRREGULAR_DEMONYMS`: the ones neither rule reaches (Spanish, Portuguese and French
  forms of the knowledge base's countries, "Korean", "Khmer").

Not blanked: "American", the demonym of the United States, because it is also the word of
"Latin American" and "South American", which name regions, not the provider.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sscmatch.matching import Corpus
from sscmatch.text import TextModel, record_text, store
from sscmatch.vocab import Vocabulary

_IRREGULAR = (
    "Thai; Lao; Laotian; Filipino; Filipina; Philippine; Malagasy; Emirati; Ivorian; "
    "Burkinabe; Burkinabé; Dutch; Swiss; French; Spanish; British; Danish; Swedish; Finnish; "
    "Norwegian; Turkish; Kyrgyz; Tajik; Uzbek; Kazakh; Turkmen; Afghan; Vietnamese; Saudi; "
    "Bangladeshi; Pakistani; Omani; Yemeni; Qatari; Kuwaiti; Bahraini; Congolese; Cape Verdean; "
    "Timorese; Sri Lankan; Salvadoran; Salvadorean; Guatemalan; Honduran; Nicaraguan; "
    "Costa Rican; Dominican; Puerto Rican; Haitian; Peruvian; Chilean; Uruguayan; Paraguayan; "
    "Bolivian; Ecuadorian; Colombian; Venezuelan; Korea; Korean; Koreans; Khmer; Comorian; "
    "Maldivian; Cuban; Malian; "
    "Togolese; Fijian; Brasileño; Brasileña; Brasileiro; Brasileira; Brésilien; Brésilienne; "
    "Chinois; Chinoise; Chino; China; Chinês; Chinesa; Costarricense; Guatemalteco; "
    "Guatemalteca; Salvadoreño; Salvadoreña; Hondureño; Hondureña; Nicaragüense; Panameño; "
    "Panameña; Puertorriqueño; Estadounidense; Sudafricano; Sudafricana; Sul-africano; "
    "Sud-africain; Surcoreano; Sul-coreano; Coreano; Coreana; Coréen; Coréenne; Peruano; Peruana; "
    "Péruvien; Cubano; Cubana; Cubain; Maliense; Malien; Malienne; Togolés; Togolais; Togolês; "
    "Guineense; Timorense; São-tomense; Santomense; Cabo-verdiano; Caboverdiano; Moçambicano; "
    "Moçambicana; Mozambiqueño; Mozambicain; Angoleño; Marroquí; Marroquino; Marocain; "
    "Argelino; Algérien; Tunecino; Tunisino; Egipcio; Egípcio; Égyptien; Haitiano; Haïtien; "
    "Haïtienne; Dominicano; Dominicana; Ecuatoriano; Equatoriano; Uruguayo; Uruguaio; "
    "Paraguayo; Paraguaio; Venezolano; Venezuelano; Colombiano; Boliviano; Mexicano; Mexicana; "
    "Mexicain; Argentin; Argentine; Chileno; Chilena; Chilien; Indio; Indiano; Hindú; Indien; "
    "Indienne; Ruso; Russo; Russe; Turco; Turc; Japonés; Japonês; Japonais; Sénégalais; "
    "Ivoirien; Marfileño; Marfinense; Burkinés; Burquinense; Camerunés; Camaronês; "
    "Camerounais; Nigerino; Nigérien; Nigeriano; Nigérian; Beninés; Beninense; Béninois; "
    "Gabonés; Gabonês; Gabonais; Malgache; Mauriciano; Mauricien; Congoleño; Congolês; "
    "Congolais; Tailandés; Tailandês; Thaïlandais; Vietnamita; Vietnamien; "
    "Philippin; Indonesio; Indonésio; Indonésien; Tayiko; Tajique; Tadjik; Kirguís; Quirguiz; "
    "Kirghiz; Kazajo; Cazaque; Uzbeko; Usbeque; Ouzbek; Chinese "
)
IRREGULAR_DEMONYMS = tuple(x.strip() for x in _IRREGULAR.split(";"))
"""Demonyms that neither ``countryinfo`` nor the stem rule reaches."""
_ENDINGS = "ian aian ean an ese i ish ine ien ienne ano ana eno ena ense es esa ois oise ais aise"
DEMONYM_ENDINGS = (*_ENDINGS.split(), "ic", "e", "o", "a", "n")
MIN_STEM = 4
"""Shorter stems make common words: Mal-e ("male"), Per-o ("pero"), Cub-e ("cube")."""
ACRONYMS = ("U.S.", "PRC", "ROK", "DPRK", "RSA", "KSA")
"""Initials in use for countries beside the vocabulary's aliases (matched in capitals only)."""
AMBIGUOUS_DEMONYMS = frozenset({"American"})
"""Demonyms that also name a region ("Latin American"): left in the text."""


@lru_cache(maxsize=1)
def english_demonyms() -> dict[str, tuple[str, ...]]:
    """ISO alpha-3 code → the English demonyms ``countryinfo`` knows for that country."""
    import countryinfo  # imported here: only evaluation texts need it

    out: dict[str, tuple[str, ...]] = {}
    for country in countryinfo.all_countries():
        try:
            code, demonym = str(country.iso(3)), country.demonym()
        except (KeyError, AttributeError, countryinfo.CountryNotFoundError):
            continue
        if code and demonym:
            out[code] = tuple(d.strip() for d in str(demonym).split(",") if d.strip())
    return out


@dataclass
class Redactor:
    """Blanks country names and demonyms out of a text (see the module docstring).

    >>> from sscmatch.vocab import load_vocabulary
    >>> Redactor.of(load_vocabulary()).redact("Brazilian experts trained Haiti's male staff")
    "… experts trained …'s male staff"
    """

    pattern: re.Pattern[str] = field(default_factory=lambda: re.compile(r"(?!x)x"))
    capitals: re.Pattern[str] = field(default_factory=lambda: re.compile(r"(?!x)x"))

    @classmethod
    def of(cls, vocab: Vocabulary) -> Redactor:
        names: set[str] = {fold(x) for x in IRREGULAR_DEMONYMS}
        acronyms: set[str] = set(ACRONYMS)
        stems: set[str] = set()
        demonyms = english_demonyms()
        for country in vocab.countries.values():
            for name in (*country.names.values(), *country.aliases):
                plain = " ".join(fold(name).split())
                if plain.replace(".", "").replace(" ", "").isupper() and len(plain) < 6:
                    acronyms.add(plain)  # "UAE", "EE. UU.": in capitals only
                    continue
                if len(plain) < 3:
                    continue
                names.add(plain)
                if " " not in plain and "-" not in plain:
                    stem = plain[:-1] if plain[-1].lower() in "aeiou" else plain
                    if len(stem) >= MIN_STEM:
                        stems.add(stem)
            for demonym in demonyms.get(country.code, ()):
                if demonym not in AMBIGUOUS_DEMONYMS:
                    names.update((fold(demonym), fold(demonym) + "s"))
        alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
        endings = "(?:" + "|".join(DEMONYM_ENDINGS) + ")s?"
        by_length = sorted(map(re.escape, stems), key=len, reverse=True)
        stem_part = "(?:" + "|".join(by_length) + ")" + endings
        body = "|".join([*alternatives, stem_part])
        caps = "|".join(sorted((re.escape(a) for a in acronyms), key=len, reverse=True))
        return cls(
            pattern=re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE),
            capitals=re.compile(rf"(?<![\w.])(?:{caps})(?![\w$])"),  # not "US$"
        )

    def redact(self, text: str) -> str:
        folded = fold(text)
        if len(folded) != len(text):  # folding changed the length: work on the folded text
            text = folded
        spans = [m.span() for m in self.pattern.finditer(folded)]
        spans += [m.span() for m in self.capitals.finditer(folded)]
        out, last = [], 0
        for start, end in sorted(spans):
            if start < last:  # inside a longer match already blanked
                continue
            out.append(text[last:start])
            out.append("…")
            last = end
        out.append(text[last:])
        return "".join(out)


def fold(text: str) -> str:
    """Accents dropped (so "Brasileño" and "Brasileno" meet), length kept where possible."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def redacted(corpus: Corpus, vocab: Vocabulary) -> Corpus:
    """The corpus with country names blanked out of its exchanges' texts."""
    redactor = Redactor.of(vocab)
    return replace(
        corpus,
        exchanges=[
            replace(e, title=redactor.redact(e.title), description=redactor.redact(e.description))
            for e in corpus.exchanges
        ],
    )


def blanked_for_replay(corpus: Corpus, vocab: Vocabulary, text_model: TextModel) -> Corpus:
    """The stored corpus ready to replay its history (``sscmatch calibrate``): country names
    blanked out of the exchanges' texts, and the vector of every exchange whose text that
    changed made again from the blanked text. A case's pseudo-need is its exchange's text and
    vector, so without this it would name its provider ("Brazil trains ... inspectors") and the
    text factor would find the answer in the question. Vectors of texts the blanking leaves
    alone are kept: a corpus whose texts name no country costs no encoding."""
    blanked = redacted(corpus, vocab)
    changed = [
        (after.id, record_text(after.title, after.description))
        for before, after in zip(corpus.exchanges, blanked.exchanges, strict=True)
        if (before.title, before.description) != (after.title, after.description)
    ]
    if not changed or not corpus.vectors:
        return blanked
    vectors = dict(corpus.vectors)
    made = store(text_model.encode([text for _id, text in changed]))
    for i, (exchange_id, _text) in enumerate(changed):
        vectors[exchange_id] = made[i]
    return replace(blanked, vectors=vectors)
