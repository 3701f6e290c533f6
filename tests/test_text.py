"""Folding, stemming and the analyzer."""

from __future__ import annotations

from bot.text import Analyzer, Lexicon, fold, stem


def test_fold_strips_case_accents_and_punctuation():
    assert fold("  ¿Quién encabezó la DELEGACIÓN?! ") == "quien encabezo la delegacion"


def test_fold_joins_dotted_abbreviations_and_drops_possessives():
    assert fold("The U.S. and Washington, D.C.") == "the us and washington dc"
    assert fold("Mexico's navy") == "mexico navy"
    assert fold("don't") == fold("dont") == "dont"


def test_stem_is_light_and_consistent():
    assert stem("principles") == stem("principle")
    assert stem("arrests") == stem("arrest")
    assert stem("trafficking") == stem("trafficked")
    assert stem("mexicanos") == stem("mexicano") == stem("mexicana")
    assert stem("us") == "us"


def test_analyzer_resolves_phrases_synonyms_and_stop_words():
    lexicon = Lexicon.build(
        {"en": ["the", "who", "is"]}, {"us": ["united states"]}, {"arms": ["guns", "weapons"]}
    )
    analyzer = Analyzer(lexicon)
    assert analyzer.terms("Who is the United States' gun envoy?") == ["us", stem("arms"), "envoy"]
    assert analyzer.terms("weapons, guns and arms") == [stem("arms"), "and"]
