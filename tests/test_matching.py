"""The matcher on the shipped knowledge: own phrasings, typos, names, offices, far questions."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core.knowledge import Entry, EntryText
from bot.core.matching import Candidate, Match, Matcher, Outcome, Thresholds, decide
from bot.core.text import Analyzer, Lexicon


def outcome_of(answerer, question: str) -> tuple[Outcome, str | None]:
    decision = answerer.decide(question)
    best = decision.match.best
    return decision.outcome, best.entry.id if best else None


def test_every_phrasing_finds_its_own_entry(answerer, knowledge):
    misses = []
    for entry in knowledge.entries:
        for phrasing in entry.phrasings("en"):
            outcome, found = outcome_of(answerer, phrasing)
            if outcome is not Outcome.ANSWER or found != entry.id:
                misses.append((entry.id, phrasing, outcome.value, found))
    assert not misses


def test_every_shipped_phrasing_has_content_words(answerer, knowledge):
    empty = [
        (entry.id, text)
        for entry in knowledge.entries
        for text in entry.phrasings("en")
        if not answerer.matcher.analyzer.terms(text)
    ]
    assert not empty


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("who led the delegaton?", "delegation"),
        ("fentanly", "drugs"),
        ("what are the four principels", "principles"),
        ("harfuhc", "garcia-harfuch"),
        ("who is sheinbuam", "sheinbaum"),
        ("wepons trafficking", "arms"),
        ("whats the main goal", "goal"),
        ("who is the navy secretery", "morales"),
        ("Who led the Mexican delegation", "delegation"),
        ("WHO LED THE DELEGATION???", "delegation"),
    ],
)
def test_typos_and_noise(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("harfuch", "garcia-harfuch"),
        ("García Harfuch", "garcia-harfuch"),
        ("Garcia Harfuch", "garcia-harfuch"),
        ("trevilla", "trevilla"),
        ("gertz", "gertz-manero"),
        ("moctezuma", "moctezuma"),
        ("figueroa", "figueroa"),
        ("velasco", "velasco"),
        ("de la fuente", "de-la-fuente"),
        ("Juan Ramon de la Fuente", "de-la-fuente"),
        ("raymundo pedro morales", "morales"),
        ("sheinbaum", "sheinbaum"),
        ("trump", "trump"),
    ],
)
def test_bare_names_and_surnames(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("who is the navy secretary", "morales"),
        ("defense secretary", "trevilla"),
        ("who is the attorney general", "gertz-manero"),
        ("foreign secretary", "de-la-fuente"),
        ("mexican ambassador", "moctezuma"),
        ("secretary of security and citizen protection", "garcia-harfuch"),
        ("head of the north america unit", "velasco"),
    ],
)
def test_offices_without_names(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    "question",
    [
        "what's the weather like tomorrow",
        "tell me a joke",
        "who won the world cup",
        "best tacos in mexico city",
        "what is the capital of france",
        "how do I bake bread",
        "who is the prime minister of canada",
        "is bitcoin going up",
        "what time is it",
        "translate hello into german",
    ],
)
def test_far_questions_are_declined(answerer, question):
    assert outcome_of(answerer, question)[0] is Outcome.DECLINE


@pytest.mark.parametrize(
    "question",
    [
        "what's the weather in Washington",
        "Trump tariffs on steel",
        "how tall is the border wall",
        "population of mexico",
        "what is the capital of the united states",
    ],
)
def test_one_shared_word_is_not_a_confident_answer(answerer, question):
    assert outcome_of(answerer, question)[0] is not Outcome.ANSWER


def test_empty_and_stop_word_questions_have_no_candidates(answerer):
    for question in ("", "   ", "?!", "what is it"):
        assert answerer.decide(question).match.candidates == ()


# ------------------------------------------------------------------ decide() on its own


def _entry(entry_id: str) -> Entry:
    text = EntryText(title=entry_id, questions=[entry_id] * 5, answer="x")
    return Entry(id=entry_id, sources=[1], en=text, es=text)


def _match(*scores: float) -> Match:
    candidates = tuple(Candidate(_entry(f"e{i}"), s, "p", 1.0, 1.0) for i, s in enumerate(scores))
    return Match("q", ("t",), (), (), candidates)


def test_decide_answers_a_clear_winner():
    assert (
        decide(_match(90, 40), Thresholds(answer=70, suggest=45, margin=6)).outcome
        is Outcome.ANSWER
    )


def test_decide_suggests_when_the_top_two_are_close():
    decision = decide(_match(90, 88, 87, 86, 20), Thresholds(answer=70, suggest=45, margin=6))
    assert decision.outcome is Outcome.SUGGEST
    assert [c.entry.id for c in decision.suggestions] == ["e0", "e1", "e2"]


def test_decide_answers_a_lone_middling_candidate():
    """One clear candidate is an answer: "did you mean" with a single option asks nothing."""
    decision = decide(_match(60, 20), Thresholds(answer=70, suggest=45))
    assert decision.outcome is Outcome.ANSWER
    assert decision.entry is not None
    assert decision.entry.id == "e0"


def test_decide_suggests_middling_scores_only_between_real_choices():
    decision = decide(_match(60, 58, 20), Thresholds(answer=70, suggest=45))
    assert decision.outcome is Outcome.SUGGEST
    assert [c.entry.id for c in decision.suggestions] == ["e0", "e1"]


def test_decide_declines_low_scores_and_nothing():
    assert decide(_match(30), Thresholds(suggest=45)).outcome is Outcome.DECLINE
    assert decide(_match(), Thresholds()).outcome is Outcome.DECLINE


def test_decide_answers_a_low_score_only_when_the_part_names_the_entry_and_nothing_else():
    """Under the suggest cut-off, a part that names the best entry by a distinctive word,
    with no word the knowledge base does not know and a clear lead, is answered."""
    thresholds = Thresholds(suggest=55, anchored=43, anchored_lead=5)
    named = dataclasses.replace(_match(48, 30), anchored=True)
    assert decide(named, thresholds).outcome is Outcome.ANSWER
    for declined in (
        _match(48, 30),  # names nothing distinctive
        dataclasses.replace(named, unknown=("chess",)),  # a word no entry knows
        dataclasses.replace(named, off_topic=("canada",)),  # a subject the article lacks
        dataclasses.replace(_match(48, 45), anchored=True),  # another entry is close
        dataclasses.replace(_match(40, 10), anchored=True),  # under the anchored cut-off
    ):
        assert decide(declined, thresholds).outcome is Outcome.DECLINE


def _pet(entry_id: str, questions: list[str]) -> Entry:
    text = EntryText(title=entry_id.title(), questions=questions, answer="x")
    return Entry(id=entry_id, sources=[1], en=text, es=text)


def test_matcher_works_on_a_tiny_knowledge_base_without_lexicon():
    entries = [
        _pet("cats", ["cats", "kittens", "feline pets", "a cat", "meow"]),
        _pet("dogs", ["dogs", "puppies", "canine pets", "a dog", "woof"]),
    ]
    matcher = Matcher(entries, Analyzer(Lexicon.empty()))
    assert matcher.match("puppies").best.entry.id == "dogs"
    assert matcher.match("kitens").best.entry.id == "cats"  # repaired typo
    assert matcher.match("submarines").candidates == ()


# ------------------------------------------------------------------ real messages


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        (
            "Good morning! My grandmother keeps asking me about this and I never know what to"
            " tell her. Who headed the Mexican delegation?",
            "delegation",
        ),
        ("ok thanks. also, what are the four principles?", "principles"),
        (
            "Hola, buenas noches, estoy haciendo una tarea para la escuela y me piden saber quién"
            " es el secretario de Marina, gracias",
            "morales",
        ),
        ("we argued about tariffs all night - anyway, what did they agree on?", "agreement"),
    ],
)
def test_chatty_wrapping_does_not_hide_the_question(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("hwo led teh delegation", "delegation"),
        ("waht r the principles", "principles"),
        ("q acordaron mexico y eu", "agreement"),
        ("xq hicieron esto", "goal"),
        ("did gerz go to washington", "gertz-manero"),
        ("what did the working grp do", "working-group"),
        ("quien es arfuch", "garcia-harfuch"),  # a silent h left out
        ("van a acer algo con las armas?", "arms"),
    ],
)
def test_typos_in_short_words_and_texting_forms(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("heard", "name"),
    [
        ("chainbaum", "sheinbaum"),
        ("gurts", "gertz"),
        ("belasco", "velasco"),
        ("trebilla", "trevilla"),
    ],
)
def test_a_name_written_as_it_sounds_is_repaired(answerer, heard, name):
    _, fixes = answerer.matcher.spell(f"what did {heard} do")
    assert fixes == [(heard, name)]


def test_a_real_word_that_sounds_like_a_name_is_left_alone(answerer):
    _, fixes = answerer.matcher.spell("the morals of the tribe")  # morales, trevilla
    assert fixes == []


def test_real_words_are_not_repaired_into_other_words(answerer):
    words, fixes = answerer.matcher.spell("the goverments building, the planets y la pantalla")
    assert fixes == [("goverments", "governments")]  # a typo, unlike the other words
    assert {"building", "planets", "pantalla"} <= set(words)
    _, fixes = answerer.matcher.spell("qué arreglaron méxico y estados unidos")
    assert fixes == []  # a form of "arreglar" (to settle), not a misspelt "arrestaron"


def test_a_doubled_letter_is_dropped_only_when_a_word_remains(answerer):
    words, _ = answerer.matcher.spell("whaat does it seem to say")
    assert words[:4] == ["what", "does", "it", "seem"]  # not "sem", the navy's acronym


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("which drugs are they targeting", "drugs"),  # a target is fought, not a goal
        ("qué logros presentó méxico", "progress"),  # achievements are results
        ("qué dijeron en cuanto a las armas", "arms"),  # "en cuanto a" is not "cuánto"
        ("how long ago was the meeting in washington", "meeting-date"),
        ("cuales son los pasos a seguir ahora", "next-steps"),
        ("i keep hearing about fentanyl, what does it say", "drugs"),
    ],
)
def test_words_are_read_as_what_they_mean_here(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("besides fentanyl, what else do they want to stop?", "arms"),
        ("aparte del fentanilo, qué más quieren frenar?", "arms"),
        ("not the drugs part, the guns part: what does it say?", "arms"),
        ("apart from mutual trust, what other principles?", "principles"),
        ("aparte de las armas q mas quieren frenar", "drugs"),  # no accent, no "?"
        ("what else are they going after besides fentanyl?", "arms"),  # the contrast after
        ("¿y qué más atacan aparte de la droga?", "arms"),
        ("no las armas, las drogas, que dicen de eso?", "drugs"),  # as "not the guns, …"
        ("besides fentanyl, what else?", "arms"),  # "what else" names nothing of its own
        ("aparte de las armas, ¿qué más?", "drugs"),
        ("¿y además de drogas qué más persiguen?", "arms"),  # a conjunction before it
        ("and apart from fentanyl, what else?", "arms"),
    ],
)
def test_contrast_sets_a_topic_aside(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Is it just drugs, or do firearms come into it too?", "arms"),  # no number asked for
        ("how many guns were seized?", "figures"),
        ("¿hay cifras de decomisos?", "figures"),
    ],
)
def test_the_entry_on_figures_needs_a_question_about_numbers(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


def test_many_alone_asks_for_no_number(answerer):
    """ "How many" asks for a number; "so many" and "too many" do not."""
    for question in ("why do so many people die of fentanyl?", "too many guns, is that covered?"):
        ranked = [c.entry.id for c in answerer.decide(question).match.candidates]
        assert "figures" not in ranked, question
    assert answerer.decide("how many people died?").match.candidates[0].entry.id == "figures"


def test_a_contrast_word_inside_a_plain_question_is_not_a_contrast(answerer):
    question = "I always forget the names of the officials who went to Washington"
    assert outcome_of(answerer, question) == (Outcome.ANSWER, "delegation")


@pytest.mark.parametrize(
    "question",
    [
        "who is Canada's defence minister?",
        "how much cocaine comes from Colombia",
        "quién es el secretario de Hacienda",
        "do you think this plan will work?",
        "how do I report a drug dealer in my neighborhood",  # a how-to request
        "¿cómo denuncio a alguien que trafica armas?",
        "where can i get narcan",
        "what do you think, will the working group change anything?",  # the bot's own view:
        "who went to Washington? your take on them",  # the whole message asks for it
        "¿quiénes fueron? en tu opinión, ¿sirvió de algo?",
        "what did the US and Mexico agree on security in 2019?",  # a year: the article has none
        "¿cuántas muertes por fentanilo hubo en 2023?",
    ],
)
def test_a_foreign_subject_or_an_opinion_is_declined(answerer, question):
    assert outcome_of(answerer, question)[0] is Outcome.DECLINE


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("I think Morales is in the navy, what does he do?", "morales"),
        ("there were 4 principles i think, what were they", "principles"),
        ("creo que Trevilla es el general, ¿fue a Washington?", "trevilla"),
        ("good morning who went to washington", "delegation"),
        ("good evening can you tell me what the four principles are", "principles"),
        ("who led the delegation best regards", "delegation"),
        ("buena tarde quien fue a washington", "delegation"),
    ],
)
def test_a_first_person_hedge_is_no_request_for_an_opinion(answerer, question, entry_id):
    """ "I think", "creo que": the asker hedges what follows; only "do you think" asks the bot's
    view (above). Nor is "good" in a greeting an opinion, even with no comma after it."""
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("the weapons part of the deal in bullet points please", "arms"),
        ("what does it say about drug trafficking? two bullet points", "drugs"),
        ("los cuatro principios en viñetas", "principles"),
    ],
)
def test_a_requested_format_names_no_topic(answerer, question, entry_id):
    """ "Bullet points" asks for a format; the bullets are not ammunition."""
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("how can I find out who was in the delegation?", "delegation"),
        ("where can i read the joint statement?", "statement"),
        ("¿cómo puedo saber quiénes fueron a Washington?", "delegation"),
    ],
)
def test_asking_how_to_find_something_out_asks_what_the_article_says(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


def test_the_news_itself_is_asked_with_framing_words_only(answerer):
    assert outcome_of(answerer, "what's the news?") == (Outcome.ANSWER, "agreement")
    assert outcome_of(answerer, "¿de qué trata la nota?") == (Outcome.ANSWER, "agreement")
    # in a message with a topic of its own, "the article" is only framing
    assert outcome_of(answerer, "what does the article say about guns") == (Outcome.ANSWER, "arms")
    # a preamble of words the knowledge base does not know leaves the question the same
    quick = "Quick one before my bus leaves: what's the story about?"
    assert outcome_of(answerer, quick) == (Outcome.ANSWER, "agreement")
    assert outcome_of(answerer, "And Trump, what is his part in the news?") == (
        Outcome.ANSWER,
        "trump",
    )


def test_the_scored_part_is_shown_and_dotted_abbreviations_stay_whole(answerer):
    match = answerer.decide("Thanks a lot. Which U.S. officials were at the meetings?").match
    assert match.best is not None
    assert match.best.entry.id == "us-officials"
    assert "U" not in match.part.split()


def test_a_person_is_answered_only_when_named(answerer):
    """Nothing of García Harfuch's name or office: the delegation, not the person."""
    assert outcome_of(answerer, "who led the mexican side?") == (Outcome.ANSWER, "delegation")
    assert outcome_of(answerer, "the security secretary, who is he?") == (
        Outcome.ANSWER,
        "garcia-harfuch",
    )
    assert outcome_of(answerer, "¿qué hizo la presidenta?") == (Outcome.ANSWER, "sheinbaum")


def test_every_phrasing_of_a_person_names_that_person(answerer):
    """A person's entry needs a word of that person; a curated phrasing without one ("who is
    he?") could never reach it."""
    matcher = answerer.matcher
    for entry in answerer.knowledge.entries:
        if entry.person is None:
            continue
        needs = matcher.needs_of(entry)
        assert needs, entry.id
        for language in ("en", "es"):
            for phrasing in entry.text(language).questions:
                terms = set(matcher.analyzer.terms(phrasing, language))
                assert terms & needs, (entry.id, phrasing)


@pytest.mark.parametrize("written", ["EE. UU.", "EE.UU.", "EEUU"])
def test_the_spanish_doubled_abbreviation_of_the_us_is_one_word(answerer, written):
    """The abbreviation "EE. UU." is no sentence end: the question is read whole."""
    match = answerer.decide(f"¿Con qué funcionarios de {written} se reunieron?").match
    assert match.best is not None
    assert match.best.entry.id == "us-officials"
    assert match.part == ""
    assert not match.unknown


def test_an_en_dash_inside_a_compound_does_not_break_the_clause(answerer):
    """'US–Mexico' is one name of the talks, so the off-topic subject later in the same
    clause is not cut off from the question; a spaced dash or an em dash still breaks."""
    question = "what were the US–Mexico talks under López Obrador about?"
    assert answerer.decide(question).outcome is Outcome.DECLINE
    story = "my grandmother in Tijuana keeps asking me{} who led the delegation?"
    for dash in (" –", "—"):
        assert "tijuana" not in answerer.decide(story.format(dash)).match.terms  # a telling clause


def test_very_long_and_unpunctuated_messages_are_matched(answerer):
    long_question = "who led the delegation " + "and then " * 300
    assert answerer.decide(long_question).match.best is not None
    many_clauses = ", ".join(["hello"] * 200) + ", who led the delegation?"
    assert outcome_of(answerer, many_clauses)[1] is not None


def test_a_framing_form_the_knowledge_base_uses_keeps_its_reading(answerer):
    """Spanish "respecto" is framing; its stem is also English "respect", a principle."""
    matcher = answerer.matcher
    assert "respect" in matcher.understand("is mutual respect one of the principles")[0]
    assert "get" not in matcher.understand("which drug gets the attention")[0]


def test_each_alternative_of_an_either_or_question_is_a_part(answerer):
    """ "X or Y?" is scored on each side too, so a second alternative the knowledge base
    does not know ("or just talk") does not pull the first one under the decline line."""
    match = answerer.matcher.match("is there an official statement or is it just gossip?")
    assert match.part == "is there an official statement"
    assert answerer.decide("is there an official statement or is it gossip?").entry.id == (
        "statement"
    )


def test_a_tag_that_ends_a_question_is_not_an_alternative(answerer):
    """ "... or who?" asks nothing of its own: the message is not scored on "who" alone."""
    match = answerer.matcher.match("was the US secretary of state there or who?")
    assert match.part != "who?"
    assert answerer.decide("was the US secretary of state there or who?").outcome is not (
        Outcome.ANSWER
    )
    assert outcome_of(answerer, "fue el almirante o no?") == (Outcome.ANSWER, "morales")


def test_a_story_beside_the_question_adds_only_words_the_knowledge_base_knows(answerer):
    """Words of a telling clause that no entry knows ("my grandmother", "Tijuana") do not
    pull the question under the decline line; its known words still point at the topic."""
    story = "My grandmother in Tijuana keeps sending me voice notes about it. "
    question = "Who led the Mexican delegation?"
    alone = answerer.decide(question)
    wrapped = answerer.decide(story + question)
    assert wrapped.entry is not None
    assert wrapped.entry.id == alone.entry.id == "delegation"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("was the FBI at the meetings?", "us-officials"),
        ("¿participó la DEA en la reunión?", "us-officials"),
        ("who runs the FBI?", None),
        ("¿quién es el secretario de estado de estados unidos?", None),
    ],
)
def test_a_us_agency_counts_only_as_a_party_to_the_talks(answerer, question, expected):
    """The lexicon's only_beside: a U.S. office points at the U.S. officials the article
    does not name when the message asks about the talks, and is a foreign subject alone."""
    decision = answerer.decide(question)
    if expected is None:
        assert decision.outcome is Outcome.DECLINE
    else:
        assert decision.outcome is Outcome.ANSWER
        assert decision.entry is not None
        assert decision.entry.id == expected


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("whaaaat did they agreeee on???", "agreement"),
        ("who leeed the delegatioooon", "delegation"),
        ("y las armaaas", "arms"),
        ("que pedooo con las armas", "arms"),
        ("whats the deal w/ the working group", "working-group"),  # a stray letter
    ],
)
def test_letters_held_down_typed_twice_or_alone(answerer, question, entry_id):
    assert outcome_of(answerer, question) == (Outcome.ANSWER, entry_id)


def test_an_unknown_verb_or_adverb_form_weighs_less_than_an_unknown_noun(answerer):
    """'attached' seldom names a subject of its own; 'chess' does."""
    terms = answerer.matcher.match("is any funding attached to it").terms
    assert "~attach" in terms
    assert outcome_of(answerer, "is any funding attached to it") == (Outcome.ANSWER, "money")
    assert outcome_of(answerer, "is any funding for chess")[0] is Outcome.DECLINE


def test_a_weak_stop_word_counts_only_when_the_knowledge_base_uses_it(answerer):
    """Spanish function words of the larger stopwords-iso list ("aquel", "usted", "creo") are
    dropped when no entry uses them, so they do not weigh as a subject the article lacks;
    "acuerdo" is on that list too, and keeps its reading as the agreement."""
    matcher = answerer.matcher
    plain = matcher.match("oiga, ¿y el grupo de trabajo bilateral cada cuánto se reúne?")
    weak = matcher.match("oiga, ¿y aquel grupo de trabajo bilateral cada cuánto se reúne? creo")
    assert weak.unknown == ()
    assert weak.best is not None
    assert plain.best is not None
    assert weak.best.entry.id == plain.best.entry.id == "working-group"
    assert weak.best.score == pytest.approx(plain.best.score)
    assert "agree" in matcher.understand("¿hubo acuerdo?")[0]
    assert "~ust" not in matcher.understand("¿qué acordaron, según usted?")[0]
