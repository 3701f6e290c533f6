"""The real-word list that keeps typo repair off real words."""

from __future__ import annotations

from bot.core.words import is_real_word, real_words


def test_real_words_hold_both_languages_folded_and_no_common_typos():
    words = real_words()
    assert {"building", "planets", "pantalla", "politica", "contexto"} <= words  # folded
    assert not {"teh", "goverments", "abotu", "waht"} & words
    assert real_words() is words  # read once


def test_spanish_verb_forms_are_real_when_their_infinitive_is():
    assert is_real_word("arreglaron")  # arreglar, a form the frequency list lacks
    assert all(map(is_real_word, ("llegaron", "escribo")))
    assert not any(map(is_real_word, ("goverments", "principos")))
