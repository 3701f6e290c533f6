"""The real-word list that keeps typo repair off real words."""

from __future__ import annotations

from bot.core.words import real_words


def test_real_words_hold_both_languages_folded_and_no_common_typos():
    words = real_words()
    assert {"building", "planets", "pantalla", "politica", "contexto"} <= words  # folded
    assert not {"teh", "goverments", "abotu", "waht"} & words
    assert real_words() is words  # read once
