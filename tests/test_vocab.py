"""The vocabularies (data/vocab/*.csv) and how free text resolves to them (sscmatch.vocab)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pycountry
import pytest

from sscmatch.vocab import (
    FUZZY_THRESHOLD,
    INTERFACE_LANGUAGES,
    Resolution,
    Vocabulary,
    VocabularyError,
    default_data_dir,
    load_vocabulary,
    normalise,
)

VOCAB_DIR = Path(__file__).resolve().parents[1] / "data" / "vocab"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


# --------------------------------------------------------------------------- loading


def test_default_data_dir_is_the_repository_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSCMATCH_DATA_DIR", raising=False)
    assert default_data_dir() == VOCAB_DIR.parent


def test_default_data_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSCMATCH_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path


def test_load_vocabulary_is_cached_per_directory(vocab: Vocabulary) -> None:
    assert load_vocabulary() is vocab
    assert load_vocabulary(VOCAB_DIR.parent / ".") is vocab


def test_missing_vocabulary_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="missing"):
        load_vocabulary(tmp_path)


def test_a_three_level_theme_tree_is_rejected(tmp_path: Path) -> None:
    vocab_dir = tmp_path / "vocab"
    vocab_dir.mkdir()
    for name in ("countries.csv", "intelligibility.csv"):
        (vocab_dir / name).write_bytes((VOCAB_DIR / name).read_bytes())
    header = (
        "id,parent,label_en,label_es,label_pt,label_fr,label_ru,synonyms,sdg_targets,description"
    )
    (vocab_dir / "themes.csv").write_text(
        f"{header}\na,,A,,,,,,,\nb,a,B,,,,,,,\nc,b,C,,,,,,,\n", encoding="utf-8"
    )
    with pytest.raises(VocabularyError, match="two levels"):
        load_vocabulary(tmp_path)


def test_normalise_ignores_case_accents_punctuation_and_spacing() -> None:
    assert normalise("  Côte d’Ivoire ") == "cote d ivoire"
    assert normalise("COTE-D'IVOIRE") == "cote d ivoire"
    assert normalise("Inspección   del\ttrabajo") == "inspeccion del trabajo"
    assert normalise("M&E") == "m e"


# --------------------------------------------------------------------------- themes


def test_theme_count_and_two_level_tree(vocab: Vocabulary) -> None:
    assert 40 <= len(vocab.themes) <= 80
    for theme in vocab.themes.values():
        if theme.parent is not None:
            assert theme.parent in vocab.themes
            assert vocab.themes[theme.parent].parent is None, theme.id
    assert len(vocab.roots()) == 10


def test_every_theme_is_labelled_described_and_targeted(vocab: Vocabulary) -> None:
    for theme in vocab.themes.values():
        for lang in (*INTERFACE_LANGUAGES, "ru"):
            assert theme.labels.get(lang), (theme.id, lang)
        assert theme.description.endswith("."), theme.id
        assert theme.sdg_targets, theme.id
        for target in theme.sdg_targets:
            goal, _, sub = target.partition(".")
            assert 1 <= int(goal) <= 17 and sub, (theme.id, target)


def test_theme_label_falls_back_to_english(vocab: Vocabulary) -> None:
    theme = vocab.themes["labour-inspection"]
    assert theme.label("es") == "Inspección del trabajo"
    assert theme.label("fr") == "Inspection du travail"
    assert theme.label("xx") == theme.label() == "Labour inspection"


def test_no_label_or_synonym_names_two_themes(vocab: Vocabulary) -> None:
    assert vocab.collisions()["themes"] == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("labour-inspection", "labour-inspection"),
        ("Labour inspection", "labour-inspection"),
        ("inspección laboral", "labour-inspection"),
        ("Inspección del trabajo", "labour-inspection"),
        ("INSPECAO DO TRABALHO", "labour-inspection"),
        ("inspection du travail", "labour-inspection"),
        ("Инспекция труда", "labour-inspection"),
        ("transferências condicionadas de renda", "conditional-cash-transfers"),
        ("transferencias monetarias condicionadas", "conditional-cash-transfers"),
        ("Bolsa Família", "conditional-cash-transfers"),
        ("CCT", "conditional-cash-transfers"),
        ("tmc", "conditional-cash-transfers"),
        ("CLMS", "child-labour-monitoring"),
        ("CLRISK", "child-labour-risk-model"),
        ("modelo de identificacion del riesgo de trabajo infantil", "child-labour-risk-model"),
        ("SSTC", "cooperation"),
        ("Coopération Sud-Sud et triangulaire", "cooperation"),
        ("study tours", "peer-learning"),
        ("Alianza 8.7", "sdg-8-7"),
        ("peores formas de trabajo infantil", "hazardous-child-labour"),
        ("trabajo infantil doméstico", "domestic-work"),
    ],
)
def test_resolve_theme_exact(vocab: Vocabulary, text: str, expected: str) -> None:
    result = vocab.resolve_theme(text)
    assert (result.status, result.value, result.score) == ("exact", expected, 100.0)
    assert result.ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Labour inspections", "labour-inspection"),
        ("transferencias monetarias condicionales", "conditional-cash-transfers"),
        ("inspeccion laborl", "labour-inspection"),
        ("Child labor monitoring systems", "child-labour-monitoring"),
    ],
)
def test_resolve_theme_fuzzy(vocab: Vocabulary, text: str, expected: str) -> None:
    result = vocab.resolve_theme(text)
    assert result.status == "fuzzy" and result.value == expected, result
    assert FUZZY_THRESHOLD <= result.score < 100
    assert result.candidates[0][0] == expected


@pytest.mark.parametrize("text", ["trabajo infantil", "child labour", "labour", "qwertyuiop", ""])
def test_resolve_theme_does_not_guess(vocab: Vocabulary, text: str) -> None:
    # "trabajo infantil" is close to "trata infantil" (trafficking) and to
    # "trabajo infantil rural" (agriculture): neither is what the user meant.
    result = vocab.resolve_theme(text)
    assert result.status == "unknown" and result.value is None and not result.ok


def test_unknown_theme_lists_the_nearest_candidates(vocab: Vocabulary) -> None:
    result = vocab.resolve_theme("inspeccion laboral del trabajo")
    assert result.status == "unknown"
    assert result.candidates[0][0] == "labour-inspection"
    assert "labour-inspection" in result.suggestion()


# --------------------------------------------------------------------------- countries


def test_every_iso_country_plus_kosovo(vocab: Vocabulary) -> None:
    codes = {c.alpha_3 for c in pycountry.countries} | {"XKX"}
    assert set(vocab.countries) == codes


def test_every_country_has_region_language_and_names(vocab: Vocabulary) -> None:
    for country in vocab.countries.values():
        assert country.region and country.region_code, country.code
        assert country.languages, country.code
        for lang in INTERFACE_LANGUAGES:
            assert country.names.get(lang), (country.code, lang)
        assert all(code in vocab.languages for code in country.languages), country.code
        if country.latitude is not None:
            assert -90 <= country.latitude <= 90 and country.longitude is not None
            assert -180 <= country.longitude <= 180


def test_country_records(vocab: Vocabulary) -> None:
    bra = vocab.countries["BRA"]
    assert (bra.alpha2, bra.numeric) == ("BR", "076")
    assert (bra.region, bra.region_code) == ("Americas", "019")
    assert (bra.subregion, bra.subregion_code) == ("Latin America and the Caribbean", "419")
    assert (bra.intermediate_region, bra.intermediate_region_code) == ("South America", "005")
    assert bra.name("pt") == "Brasil" and bra.name("fr") == "Brésil"
    assert bra.name("xx") == "Brazil"
    assert bra.languages == ("pt",)
    assert vocab.countries["PRY"].languages[:2] == ("es", "gn")
    assert vocab.countries["HTI"].languages[:2] == ("fr", "ht")
    assert vocab.countries["TLS"].languages[:2] == ("pt", "tet")
    kaz = vocab.countries["KAZ"]
    assert (kaz.subregion, kaz.subregion_code, kaz.intermediate_region) == (
        "Central Asia",
        "143",
        "",
    )
    assert vocab.countries["XKX"].region == "Europe"
    assert vocab.countries["ATA"].region == "Antarctica"
    assert vocab.countries["ATA"].latitude is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("HTI", {"LDC", "SIDS"}),
        ("TLS", {"LDC", "SIDS"}),
        ("BOL", {"LLDC"}),
        ("PRY", {"LLDC"}),
        ("MOZ", {"LDC"}),
        ("GNB", {"LDC", "SIDS"}),
        ("STP", {"SIDS"}),  # graduated from LDC in December 2024
        ("VUT", {"SIDS"}),  # graduated from LDC in 2020
        ("BTN", {"LLDC"}),  # graduated from LDC in December 2023
        ("CPV", {"SIDS"}),
        ("AFG", {"LDC", "LLDC"}),
        ("KGZ", {"LLDC"}),
        ("BRA", set()),
        ("IND", set()),
    ],
)
def test_groupings(vocab: Vocabulary, code: str, expected: set[str]) -> None:
    assert vocab.countries[code].groupings == expected


def test_grouping_sizes_match_the_un_lists(vocab: Vocabulary) -> None:
    def count(group: str) -> int:
        return sum(group in c.groupings for c in vocab.countries.values())

    assert count("LDC") == 44
    assert count("LLDC") == 32
    assert 50 <= count("SIDS") <= 60


def test_no_country_name_names_two_countries(vocab: Vocabulary) -> None:
    collisions = vocab.collisions()
    assert collisions["countries"] == {}
    assert collisions["country codes"] == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Brasil", "BRA"),
        ("brazil", "BRA"),
        ("BRA", "BRA"),
        ("br", "BRA"),
        ("076", "BRA"),
        ("76", "BRA"),
        ("Côte d'Ivoire", "CIV"),
        ("Cote d Ivoire", "CIV"),
        ("Costa do Marfim", "CIV"),
        ("Ivory Coast", "CIV"),
        ("Perú", "PER"),
        ("peru", "PER"),
        ("Timor Leste", "TLS"),
        ("Timor oriental", "TLS"),
        ("East Timor", "TLS"),
        ("Kosovo", "XKX"),
        ("xkx", "XKX"),
        ("Estados Unidos", "USA"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("Estado Plurinacional de Bolivia", "BOL"),
        ("République démocratique du Congo", "COD"),
        ("Congo-Brazzaville", "COG"),
        ("Kirguistán", "KGZ"),
        ("Quirguistão", "KGZ"),
        ("Кыргызстан", "KGZ"),
        ("Lao PDR", "LAO"),
        ("Viet Nam", "VNM"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Guinea", "GIN"),
        ("Guinea-Bissau", "GNB"),
        ("Niger", "NER"),
        ("Nigeria", "NGA"),
    ],
)
def test_resolve_country_exact(vocab: Vocabulary, text: str, expected: str) -> None:
    result = vocab.resolve_country(text)
    assert (result.status, result.value) == ("exact", expected), result


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Guatamala", "GTM"), ("Brazl", "BRA"), ("Cote dIvoire", "CIV"), ("Boliva", "BOL")],
)
def test_resolve_country_fuzzy(vocab: Vocabulary, text: str, expected: str) -> None:
    result = vocab.resolve_country(text)
    assert result.status == "fuzzy" and result.value == expected, result
    assert FUZZY_THRESHOLD <= result.score < 100
    assert result.matched  # the vocabulary name that matched, for the import report


def test_resolve_country_unknown(vocab: Vocabulary) -> None:
    for text in ("Atlantis", "zzzz qqqq", "", "   "):
        result = vocab.resolve_country(text)
        assert result.status == "unknown" and result.value is None, text


def test_short_codes_are_never_guessed(vocab: Vocabulary) -> None:
    result = vocab.resolve_country("BRZ")
    assert result.status == "unknown"
    assert "BRA" in [code for code, _ in result.candidates]


def test_ambiguous_exact_hit(vocab: Vocabulary) -> None:
    twin = replace(vocab.countries["NER"], code="QQQ", alpha2=None, numeric=None, aliases=())
    doubled = Vocabulary({**vocab.countries, "QQQ": twin}, vocab.languages, vocab.themes, {})
    result = doubled.resolve_country("Niger")
    assert result.status == "ambiguous" and result.value is None and not result.ok
    assert {code for code, _ in result.candidates} == {"NER", "QQQ"}


def test_ambiguous_fuzzy_hit(vocab: Vocabulary) -> None:
    # One letter from "Austria" and "Australia" alike.
    result = vocab.resolve_country("Austraia")
    assert result.status == "ambiguous", result
    assert {code for code, _ in result.candidates} >= {"AUS", "AUT"}
    assert result.value is None


def test_distance_between_capitals(vocab: Vocabulary) -> None:
    # Brasília (-15.78, -47.93) to Dili (-8.56, 125.57): a central angle of about
    # 154.8 degrees, i.e. about 17,200 km.
    distance = vocab.distance_km("BRA", "TLS")
    assert distance is not None and 16_900 < distance < 17_500
    assert vocab.distance_km("TLS", "BRA") == pytest.approx(distance)
    lima_quito = vocab.distance_km("PER", "ECU")
    assert lima_quito is not None and 1_200 < lima_quito < 1_500
    assert vocab.distance_km("BRA", "BRA") == 0.0
    assert vocab.distance_km("br", "tl") == pytest.approx(distance)
    assert vocab.distance_km("BRA", "ATA") is None
    with pytest.raises(KeyError):
        vocab.distance_km("BRA", "ZZZ")


# --------------------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("es", "es"),
        ("spa", "es"),
        ("Spanish", "es"),
        ("español", "es"),
        ("castellano", "es"),
        ("portugués", "pt"),
        ("Português", "pt"),
        ("portugais", "pt"),
        ("por", "pt"),
        ("fre", "fr"),
        ("fra", "fr"),
        ("Haitian Creole", "ht"),
        ("créole haïtien", "ht"),
        ("Guaraní", "gn"),
        ("tet", "tet"),
        ("Tetum", "tet"),
        ("Kyrgyz", "ky"),
        ("kirghize", "ky"),
        ("русский", "ru"),
    ],
)
def test_resolve_language_exact(vocab: Vocabulary, text: str, expected: str) -> None:
    result = vocab.resolve_language(text)
    assert (result.status, result.value) == ("exact", expected), result


def test_resolve_language_fuzzy_and_unknown(vocab: Vocabulary) -> None:
    result = vocab.resolve_language("Portugese")
    assert (result.status, result.value) == ("fuzzy", "pt")
    assert vocab.resolve_language("Klingonese xx").status == "unknown"


def test_language_records(vocab: Vocabulary) -> None:
    assert vocab.languages["es"].name == "Spanish"
    assert vocab.languages["es"].label("es") == "español"
    assert vocab.languages["tet"].alpha3 == "tet"
    assert vocab.language_code("SPA") == "es"
    assert vocab.language_code("xx-none") is None


def test_intelligibility(vocab: Vocabulary) -> None:
    assert vocab.intelligibility("es", "es") == 1.0
    assert 0.4 <= vocab.intelligibility("es", "pt") < 1.0
    assert vocab.intelligibility("spa", "por") == vocab.intelligibility("es", "pt")
    assert vocab.intelligibility("ru", "uk") > 0
    assert vocab.intelligibility("ky", "kk") > 0
    assert 0 < vocab.intelligibility("fr", "ht") < 0.5
    assert vocab.intelligibility("es", "ru") == 0.0
    assert vocab.intelligibility("es", "zz") == 0.0


def test_intelligibility_is_symmetric(vocab: Vocabulary) -> None:
    pairs = vocab.intelligible_pairs()
    assert len(pairs) >= 15
    for pair, score in pairs.items():
        a, b = sorted(pair)
        assert 0 < score < 1
        assert vocab.intelligibility(a, b) == vocab.intelligibility(b, a) == score


# --------------------------------------------------------------------------- relations


@pytest.mark.parametrize(
    ("a", "b", "relation"),
    [
        ("labour-inspection", "labour-inspection", "same"),
        ("labour-inspection", "enforcement", "parent"),
        ("enforcement", "labour-inspection", "child"),
        ("labour-inspection", "child-labour-monitoring", "sibling"),
        ("labour-inspection", "conditional-cash-transfers", "unrelated"),
        ("enforcement", "social-protection", "unrelated"),
        ("enforcement", "conditional-cash-transfers", "unrelated"),
    ],
)
def test_theme_relation(vocab: Vocabulary, a: str, b: str, relation: str) -> None:
    assert vocab.theme_relation(a, b) == relation


def test_theme_relation_rejects_unknown_ids(vocab: Vocabulary) -> None:
    with pytest.raises(KeyError):
        vocab.theme_relation("labour-inspection", "no-such-theme")


def test_children(vocab: Vocabulary) -> None:
    assert vocab.children("enforcement") == (
        "labour-inspection",
        "occupational-safety-health",
        "child-labour-monitoring",
        "identification-referral",
        "law-enforcement",
    )
    assert vocab.children("labour-inspection") == ()
    assert sum(len(vocab.children(root)) for root in vocab.roots()) == len(vocab.themes) - 10


# --------------------------------------------------------------------------- speed


def test_exact_resolution_is_fast(vocab: Vocabulary) -> None:
    queries = ["Brasil", "BRA", "Côte d'Ivoire", "Perú", "Kosovo"] * 200
    start = time.perf_counter()
    results: list[Resolution] = [vocab.resolve_country(q) for q in queries]
    elapsed = (time.perf_counter() - start) / len(queries)
    assert all(r.status == "exact" for r in results)
    assert elapsed < 0.001
