"""The theme picker: the themes whose labels and synonyms best match what was typed."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from sscmatch.vocab import Vocabulary, normalise


def suggest_themes(
    vocab: Vocabulary, query: str, lang: str = "en", limit: int = 10
) -> list[tuple[str, str]]:
    """Themes for a picker as someone types: ``[(id, label in lang)]``, best first.

    Labels in every vocabulary language and synonyms count (fuzzy), so "inspección" typed in an
    English interface still finds labour inspection; the label shown is in ``lang``.
    """
    wanted = normalise(query)
    if not wanted:
        return []
    best: dict[str, float] = {}
    resolved = vocab.resolve_theme(query)
    if resolved.ok and resolved.value is not None:
        best[resolved.value] = 200.0
    choices: dict[tuple[str, int], str] = {}
    for theme in vocab.themes.values():
        texts = [theme.label(lang), *theme.labels.values(), *theme.synonyms, theme.id]
        for i, text in enumerate(texts):
            choices[(theme.id, i)] = normalise(text)
    scorer = fuzz.partial_ratio if len(wanted) < 4 else fuzz.WRatio
    for _choice, score, (theme_id, i) in process.extract(
        wanted, choices, scorer=scorer, limit=None, score_cutoff=75 if len(wanted) >= 4 else 100
    ):
        # Prefer hits in the shown label, then other labels, then synonyms.
        weighted = (
            float(score)
            + (5.0 if i == 0 else 0.0)
            + (2.0 if wanted in choices[(theme_id, i)] else 0.0)
        )
        if weighted > best.get(theme_id, 0.0):
            best[theme_id] = weighted
    ranked = sorted(best, key=lambda t: (-best[t], vocab.themes[t].label(lang)))
    return [(t, vocab.themes[t].label(lang)) for t in ranked[:limit]]
