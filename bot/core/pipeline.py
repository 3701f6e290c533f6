"""The pure pipeline: a question in, a `Reply` out, with no chat state. Every edge uses it.

No Telegram import: this module turns the matcher's decision and the knowledge base into
replies (answer cards, "did you mean", declines, topic lists) as plain data, in the language
`LanguageChoice` settles. Buttons carry actions with their language, so a press answers in
the same language; the chat layer (`bot.chat`) turns actions into callback data and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.core.followup import PRONOUNS, FollowUp, follow_up
from bot.core.knowledge import Entry, KnowledgeBase, Language
from bot.core.language import DEFAULT_LANGUAGE, LanguageChoice, LanguageDetector
from bot.core.matching import Decision, Matcher, Outcome, Thresholds, decide
from bot.core.messages import messages
from bot.core.parts import alternatives_of, parts_of
from bot.core.replies import (
    Button,
    Paragraph,
    ParagraphBuilder,
    Reply,
    ShowEntry,
    ShowTopics,
    Vote,
    plain,
)
from bot.core.smalltalk import SmallTalk, small_talk
from bot.core.text import Analyzer, fold, is_year

MAX_QUESTION_CHARS: Final = 1000  # longer input is matched on its beginning and its end
ECHO_CHARS: Final = 120  # how much of a declined question is quoted back
MAX_RELATED: Final = 3
TOPIC_COLUMNS: Final = 2  # topic buttons per row
CLEAR_PART: Final = 90.0  # each part of a multi-part question must score this on its own


@dataclass(frozen=True)
class Reading:
    """How a message was read: its decision, and the context that reading used, if any."""

    decision: Decision
    context: str | None = None  # the entry id whose subject was added
    read_as: str | None = None  # the message as it was read with that subject
    follow_up: FollowUp | None = None  # why the message could not stand alone


def subject_of(entry: Entry, language: Language) -> str:
    """What a pronoun after `entry`'s answer stands for: the person, else the topic."""
    return entry.person.name if entry.person is not None else entry.text(language).title


def with_subject(message: str, subject: str, kind: FollowUp) -> str:
    """`message` with the last answer's subject in place of its pronouns, or after it."""
    if kind is FollowUp.PRONOUN:
        words = message.split()
        replaced = [subject if fold(w) in PRONOUNS else w for w in words]
        if replaced != words:
            return " ".join(replaced)
    return f"{message.rstrip(' ?¿!¡.')} {subject}"


# Follow-ups whose own words may already say what they are about ("is he a general?",
# "¿también fue a Washington?"), unlike a bare question word or an empty ellipsis.
_OWN_WORDS: Final = frozenset({FollowUp.PRONOUN, FollowUp.ALSO})


def _better(kind: FollowUp, alone: Decision, combined: Decision) -> bool:
    """Whether the reading with the subject decides better than the message alone. A bare
    question word or an empty ellipsis has no subject of its own: the reading with one wins
    unless it declines. A pronoun's or an additive word's own words may already say what it
    is about: the reading with the subject wins where the message alone does not answer (or
    declines where that one offers a choice), or where both answer and it scores at least as
    high."""
    if kind not in _OWN_WORDS:
        return combined.outcome is not Outcome.DECLINE
    if combined.outcome is not Outcome.ANSWER:
        return alone.outcome is Outcome.DECLINE and combined.outcome is Outcome.SUGGEST
    if alone.outcome is not Outcome.ANSWER:
        return True
    return _top(combined) >= _top(alone)


def _top(decision: Decision) -> float:
    best = decision.match.best
    return best.score if best is not None else 0.0


def _context_line(reading: Reading, context: Entry | None) -> str:
    if context is None:
        return "(none: no recent answer)"
    if reading.follow_up is None:
        return f"{context.id} not used: the message stands alone"
    if reading.context is None:
        return f"{context.id} not used: the {reading.follow_up} reads better alone"
    return f"{context.id} used ({reading.follow_up}): read as {reading.read_as!r}"


def clip(text: str) -> str:
    """At most MAX_QUESTION_CHARS: a longer message keeps its beginning and its end, where a
    question usually stands ("Who led it? I ask because ..." or "... so who led it?")."""
    if len(text) <= MAX_QUESTION_CHARS:
        return text
    half = MAX_QUESTION_CHARS // 2
    return f"{text[:half]} … {text[-half:]}"


class Answerer:
    """Answers questions from one knowledge base with one set of thresholds."""

    def __init__(self, knowledge: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.knowledge = knowledge
        self.thresholds = thresholds or Thresholds()
        self.matcher = Matcher(knowledge.entries, Analyzer(knowledge.lexicon))
        self.detector = LanguageDetector(knowledge)

    # ------------------------------------------------------------------ questions

    def decide(self, question: str) -> Decision:
        """The matcher's ranking of `question` and the outcome the thresholds choose."""
        return decide(self.matcher.match(clip(question)), self.thresholds)

    def read(self, question: str, context: Entry | None = None) -> Reading:
        """The decision for `question`; a message that cannot stand alone is also read with
        the subject of `context` (the last answer's entry), and that reading is kept when it
        decides better. A self-contained question is read alone, whatever came before, and
        so is a follow-up that is answered alone through a distinctive word of its own."""
        decision = self.decide(question)
        kind = follow_up(question) if context is not None else None
        if kind is FollowUp.ALSO and context is not None and context.person is None:
            kind = None  # "also" leans on a person, not on a topic
        if context is None or kind is None:
            return Reading(decision)
        standing = decision.outcome is Outcome.ANSWER and kind in _OWN_WORDS
        if standing and self.matcher.anchors(question):
            return Reading(decision, follow_up=kind)  # its own words name the topic
        language = self.detector.guess(question, decision.match.repaired) or DEFAULT_LANGUAGE
        read_as = with_subject(question, subject_of(context, language), kind)
        combined = self.decide(read_as)
        if _better(kind, decision, combined):
            return Reading(combined, context.id, read_as, kind)
        return Reading(decision, None, None, kind)

    def answer(
        self, question: str, choice: LanguageChoice | None = None, context: Entry | None = None
    ) -> Reply:
        """Reply to a free-text question: an answer card, "did you mean", small talk or a
        decline, in the language `choice` settles (by default the question's own). A
        follow-up is read in the `context` of the last answer (see `read`)."""
        choice = choice or LanguageChoice()
        question = question.strip()
        chatter = small_talk(question)
        if chatter is not None:
            return self.small_talk(chatter, choice.resolve(self.detector.guess(question)))
        several = self.several(question)
        if several:
            language = choice.resolve(self.detector.guess(question))
            return self.combined(several, language)
        reading = self.read(question, context)
        decision = reading.decision
        match = decision.match
        language = choice.resolve(self.detector.guess(question, match.repaired))
        best = match.best
        score = round(best.score, 1) if best is not None else 0.0
        if decision.outcome is Outcome.ANSWER and best is not None:
            card = self.card(best.entry, language)
            return Reply(
                "answer",
                language,
                card.paragraphs,
                card.buttons,
                best.entry.id,
                score,
                context=reading.context,
            )
        if decision.outcome is Outcome.SUGGEST:
            return self._suggest([c.entry for c in decision.suggestions], language, score)
        if not match.terms:
            return self.info(messages(language).empty_question, language, score)
        opinion = self.matcher.off_topic_whole(match.off_topic)
        year = next((w for w in match.off_topic if is_year(w)), None)
        return self._decline(
            question, language, score, decision.closest, opinion=opinion, year=year
        )

    def several(self, question: str) -> list[Entry]:
        """The two or three entries a multi-part question asks about, or the two of an
        either-or question, the one asked about first (empty: one question).

        Each part must clearly answer a different entry on its own (a score of at least
        CLEAR_PART), and a part that borrowed the first part's question word must hold a
        distinctive word of its own; otherwise the message is one question."""
        parts = parts_of(question) or alternatives_of(question)
        found: list[Entry] = []
        for position, part in enumerate(parts):
            decision = self.decide(part)
            best = decision.match.best
            if decision.outcome is not Outcome.ANSWER or best is None or best.score < CLEAR_PART:
                return []
            if best.entry in found or (position and not self.matcher.anchors(part)):
                return []
            found.append(best.entry)
        return found

    def combined(self, entries: Sequence[Entry], language: Language) -> Reply:
        """One card for a multi-part question: each part's title, answer and source, and a
        button to open each as its own card."""
        paragraphs: list[Paragraph] = []
        for entry in entries:
            card = self.card(entry, language)
            paragraphs += card.paragraphs
        buttons = tuple(
            (Button("➡️ " + e.text(language).title, ShowEntry(e.id, language)),) for e in entries
        )
        ids = tuple(e.id for e in entries)
        return Reply("answer", language, tuple(paragraphs), buttons, ids[0], 100.0, parts=ids)

    def inline(
        self, query: str, choice: LanguageChoice | None = None, limit: int = 10
    ) -> tuple[Language, list[Reply]]:
        """Answer cards for inline mode, best first: the main topics for an empty query, the
        entries that score at least the "did you mean" cut-off otherwise (maybe none)."""
        choice = choice or LanguageChoice()
        query = clip(query.strip())
        if not query:
            language = choice.resolve()
            return language, [self.card(e, language) for e in self.knowledge.topics[:limit]]
        match = self.matcher.match(query, limit=limit)
        language = choice.resolve(self.detector.guess(query, match.repaired))
        chosen = [c.entry for c in match.candidates if c.score >= self.thresholds.suggest]
        return language, [self.card(entry, language) for entry in chosen]

    def explain(self, question: str, context: Entry | None = None) -> str:
        """Why the bot replies as it does: understood terms, top candidates, chosen outcome,
        and whether the last answer's topic (`context`) was used to read a follow-up."""
        reading = self.read(question.strip(), context)
        decision = reading.decision
        match = decision.match
        t = self.thresholds
        mix = self.matcher.scoring.coverage_weight
        lines = [
            f"question:    {question.strip()!r}",
            f"normalised:  {fold(question)!r}",
            f"language:    {self.detector.detect(question, repaired=match.repaired)}",
            f"part:        {match.part or '(the whole message)'}",
            f"terms:       {' '.join(match.terms) or '(none)'}",
            f"unknown:     {' '.join(match.unknown) or '(none)'}",
            "repairs:     " + (", ".join(f"{a} -> {b}" for a, b in match.corrections) or "(none)"),
            f"off-topic:   {' '.join(match.off_topic) or '(none)'}",
            f"set aside:   {' '.join(match.set_aside) or '(none)'}",
            "context:     " + _context_line(reading, context),
            f"candidates:  score = coverage of the question x {mix:g} + phrasing F1 x {1 - mix:g}",
        ]
        for c in match.candidates:
            lines.append(
                f"  {c.score:5.1f}  {c.entry.id:<16} coverage {c.coverage:.2f}  "
                f"F1 {c.f1:.2f}  via {c.phrasing!r}"
            )
        lines.append(
            f"thresholds:  answer >= {t.answer:g} with a lead >= {t.margin:g}; "
            f"did-you-mean >= {t.suggest:g}; else decline"
        )
        lines.append(
            f"             (or answer from {t.anchored:g} with a lead >= {t.anchored_lead:g} "
            f"if the part names the entry: {'yes' if match.anchored else 'no'}, "
            f"and has no unknown word)"
        )
        chosen = decision.outcome.value
        if decision.entry is not None:
            chosen += f" {decision.entry.id}"
        elif decision.suggestions:
            chosen += " " + ", ".join(c.entry.id for c in decision.suggestions)
        lines.append(f"outcome:     {chosen}")
        return "\n".join(lines)

    def small_talk(self, kind: SmallTalk, language: Language = "en") -> Reply:
        """A short friendly reply to small talk, with the topics (never a fact)."""
        words = messages(language)
        text = {
            "greeting": words.greeting,
            "thanks": words.thanks,
            "capabilities": words.capabilities,
            "goodbye": words.goodbye,
            "ack": words.ack,
        }[kind]
        topics = self.topics(language)
        return Reply("smalltalk", language, (plain(text), *topics.paragraphs[1:]), topics.buttons)

    # ------------------------------------------------------------------ fixed replies

    def card(self, entry: Entry, language: Language = "en") -> Reply:
        """The answer card of one entry: title, answer, source line and related buttons."""
        text = entry.text(language)
        paragraphs = (
            ParagraphBuilder().bold(text.title).build(),
            plain(text.answer),
            self._source_line(entry, language),
        )
        related = [self.knowledge.get(r) for r in entry.related[:MAX_RELATED]]
        rows: list[tuple[Button, ...]] = [
            (Button("➡️ " + r.text(language).title, ShowEntry(r.id, language)),)
            for r in related
            if r is not None
        ]
        rows.append(
            (
                Button("👍", Vote(entry.id, language, 1)),
                Button("👎", Vote(entry.id, language, -1)),
            )
        )
        return Reply("answer", language, paragraphs, tuple(rows), entry.id, 100.0)

    def topics(self, language: Language = "en", intro: str | None = None) -> Reply:
        """Every topic with a command, as text lines and as buttons."""
        words = messages(language)
        entries = self.knowledge.topics
        lines = "\n".join(f"/{e.command_for(language)} — {e.text(language).title}" for e in entries)
        buttons = [Button(e.text(language).title, ShowEntry(e.id, language)) for e in entries]
        rows = tuple(
            tuple(buttons[i : i + TOPIC_COLUMNS]) for i in range(0, len(buttons), TOPIC_COLUMNS)
        )
        return Reply("info", language, (plain(intro or words.topics_intro), plain(lines)), rows)

    def welcome(self, language: Language = "en") -> Reply:
        """The /start message: what the bot is for, with topic buttons."""
        words = messages(language)
        topics = self.topics(language)
        paragraphs = (plain(words.welcome), plain(words.about), *topics.paragraphs[1:])
        return Reply("info", language, paragraphs, topics.buttons)

    def info(self, text: str, language: Language = "en", score: float = 0.0) -> Reply:
        """A one-paragraph message with a button to the topics."""
        return Reply("info", language, (plain(text),), _topics_row(language), score=score)

    # ------------------------------------------------------------------ helpers

    def _suggest(self, entries: list[Entry], language: Language, score: float) -> Reply:
        words = messages(language)
        titles = "\n".join(f"• {e.text(language).title}" for e in entries)
        buttons = tuple(
            (Button(e.text(language).title, ShowEntry(e.id, language, picked=True)),)
            for e in entries
        )
        return Reply(
            "suggest",
            language,
            (plain(words.did_you_mean), plain(titles)),
            buttons,
            score=score,
            suggestions=tuple(e.id for e in entries),
        )

    def _decline(
        self,
        question: str,
        language: Language,
        score: float,
        closest: Entry | None = None,
        *,
        opinion: bool = False,
        year: str | None = None,
    ) -> Reply:
        """ "Not covered", with the nearest topic the article does cover when the message
        names something of it (a button, as a "did you mean" pick, so the curator sees it).
        A message that asks for the bot's own view is told that it has none to give; one
        that names a `year` is told that the article gives none."""
        words = messages(language)
        echo = question if len(question) <= ECHO_CHARS else question[: ECHO_CHARS - 1] + "…"
        if opinion:
            opening = words.decline_opinion
        elif year is not None:
            opening = words.decline_year.format(year=year)
        else:
            opening = words.decline
        first = ParagraphBuilder().text(opening + ": ").italic(echo).build()
        if closest is None:
            paragraphs = (first, plain(words.decline_topics))
            return Reply("decline", language, paragraphs, _topics_row(language), score=score)
        title = closest.text(language).title
        buttons = (
            (Button(title, ShowEntry(closest.id, language, picked=True)),),
            *_topics_row(language),
        )
        paragraphs = (first, plain(f"{words.decline_closest} {title}"))
        return Reply("decline", language, paragraphs, buttons, score=score, nearest=closest.id)

    def _source_line(self, entry: Entry, language: Language) -> Paragraph:
        words = messages(language)
        numbers = entry.sources
        if len(numbers) == 1:
            label = self.knowledge.article.paragraphs[numbers[0]].get(language)
            where = f"{words.paragraph} {numbers[0]} ({label})"
        else:
            listed = ", ".join(str(n) for n in numbers[:-1]) + f" {words.and_} {numbers[-1]}"
            where = f"{words.paragraphs} {listed}"
        prefix = words.not_covered_label if entry.kind == "not_covered" else words.source_label
        return ParagraphBuilder().italic(f"📄 {prefix}{where}").build()


def _topics_row(language: Language) -> tuple[tuple[Button, ...], ...]:
    return ((Button(messages(language).topics_button, ShowTopics(language)),),)
