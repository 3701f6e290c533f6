"""Folding, stemming and the analyzer."""

from __future__ import annotations

from bot.core.text import Analyzer, Lexicon, fold, stem


def test_fold_strips_case_accents_and_punctuation():
    assert fold("  ¿Quién encabezó la DELEGACIÓN?! ") == "quien encabezo la delegacion"


def test_fold_joins_dotted_abbreviations_and_drops_possessives():
    assert fold("The U.S. and Washington, D.C.") == "the us and washington dc"
    assert fold("Mexico's navy") == "mexico navy"
    assert fold("don't") == fold("dont") == "dont"


def test_stems_are_snowball_per_language():
    assert stem("principles", "en") == stem("principle", "en")
    assert stem("arrests", "en") == stem("arrest", "en")
    assert stem("trafficking", "en") == stem("trafficked", "en")
    assert stem("delegaciones", "es") == stem("delegacion", "es")
    assert stem("detenidos", "es") == stem("detenido", "es")
    assert stem("acordaron", "es") == stem("acordado", "es")
    assert stem("us", "en") == stem("us", "es") == "us"


def test_spanish_stems_join_z_and_c_spellings():
    # z is written c before e and i, so one word's forms share a stem
    assert stem("avanzado", "es") == stem("avances", "es")
    assert stem("alcanzar", "es") == stem("alcance", "es")
    assert stem("cruces", "es") == stem("cruz", "es")


def test_analyzer_resolves_phrases_synonyms_and_stop_words():
    lexicon = Lexicon.build(
        {"en": ["the", "who", "is"]}, {"us": ["united states"]}, {"arms": ["guns", "weapons"]}
    )
    analyzer = Analyzer(lexicon)
    assert analyzer.terms("Who is the United States' gun envoy?") == ["us", "arms", "envoy"]
    assert analyzer.terms("weapons, guns and arms") == ["arms", "and"]


def test_a_phrase_joined_into_one_word_is_never_stemmed():
    """ "hasta ahora" is read as "sofar" in both languages; stemmed in Spanish it was "sof",
    and so was "sofa"."""
    lexicon = Lexicon.build({}, {"sofar": ["so far", "hasta ahora"]}, {})
    analyzer = Analyzer(lexicon)
    assert analyzer.terms("hasta ahora", "es") == analyzer.terms("so far", "en") == ["sofar"]
    assert analyzer.readings("sofa") != analyzer.readings("sofar")
    assert "sofar" not in analyzer.readings("sofa")


def test_a_synonym_is_read_in_either_language():
    lexicon = Lexicon.build({}, {}, {"arms": ["firearms", "armas"]})
    analyzer = Analyzer(lexicon)
    assert analyzer.readings("firearm")[0] == "arms"  # the English stem of "firearms"
    assert analyzer.canonical("armas", "es") == "arms"
    assert analyzer.terms("armas de fuego", "es")[0] == "arms"


def test_a_stop_word_that_is_also_a_synonym_keeps_its_reading():
    """The Snowball lists are used as published; the lexicon's own readings win."""
    lexicon = Lexicon.build({"en": ["after", "the"]}, {}, {"next": ["after", "later"]})
    assert Analyzer(lexicon).terms("the talks after") == ["talk", "next"]


def test_shorthand_and_question_words_are_kept_apart_from_stop_words():
    lexicon = Lexicon.build(
        {"en": ["who", "the"], "es": ["que"]},
        {},
        {},
        question_words=["who"],
        shorthand={"q": "que", "u": "you"},
    )
    assert "who" not in lexicon.stop_words
    assert lexicon.asking_words == {"who"}
    assert lexicon.shorthand["q"] == "que"


def test_any_inflection_of_a_framing_word_is_framing_in_its_language():
    """Framing is listed as words; their stems make every form of them framing too."""
    lexicon = Lexicon.build(
        {"en": ["get", "mention"], "es": ["menciona"]},
        {},
        {"treaty": ["tratado"]},
        framing={"en": ["get", "mention"], "es": ["menciona", "trata"]},
    )
    analyzer = Analyzer(lexicon)
    assert analyzer.terms("which drug gets mentioned") == ["which", "drug"]
    assert analyzer.terms("¿qué principios mencionaron?", "es") == ["que", "principi"]
    assert analyzer.is_framing_form("mentioning")
    assert not analyzer.is_framing_form("tratado")  # a synonym keeps its reading
    assert not analyzer.is_framing_form("mentioning", "es")  # not a Spanish form


def test_the_longest_phrase_that_starts_at_a_word_is_read():
    lexicon = Lexicon.build(
        {},
        {
            "know": ["how do i know"],
            "howto": ["how do i", "how do i know if"],
            "meet": ["sit down"],
        },
        {},
    )
    words = Analyzer(lexicon).words
    assert words("how do i know if it works") == ["howto", "it", "works"]
    assert words("how do i know who went") == ["know", "who", "went"]
    assert words("how do i cook") == ["howto", "cook"]
    assert words("two sit downs and how do") == ["two", "meet", "and", "how", "do"]  # plural


def test_a_phrase_is_found_after_the_phrases_inside_it_were_read():
    lexicon = Lexicon.build(
        {"en": ["the", "of"]},
        {
            "us": ["united states"],
            "prosecutor": ["attorney general"],
            "usoffice": ["attorney general of the united states"],
        },
        {},
    )
    analyzer = Analyzer(lexicon)
    assert analyzer.words("the attorney general of the united states") == ["the", "usoffice"]
    assert analyzer.words("the attorney general of the US") == ["the", "usoffice"]


def test_a_phrasal_verb_with_a_pronoun_between_its_words_is_the_phrase():
    """English puts a pronoun object between the verb and its particle: "put it out" is
    "put out"; a pronoun between words that make no phrase stays where it is."""
    lexicon = Lexicon.build({}, {"statement": ["put out", "puts out"], "summary": ["sum up"]}, {})
    words = Analyzer(lexicon).words
    assert words("who put it out") == ["who", "statement", "it"]
    assert words("who puts it out") == ["who", "statement", "it"]
    assert words("can you sum this up") == ["can", "you", "summary", "this"]
    assert words("they took it out") == ["they", "took", "it", "out"]


def test_fold_keeps_a_letter_held_down_at_most_twice():
    assert fold("Whaaaat did they agreeee on??? 1000") == "whaat did they agree on 1000"
    assert fold("llegaron, creer, cooperation") == "llegaron creer cooperation"
