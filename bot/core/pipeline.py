"""The pure pipeline: a question in, a `Reply` out, with no chat state. Every edge uses it.

No Telegram import: this module turns the matcher's decision and the knowledge base into
replies (answer cards, "did you mean", declines, topic lists) as plain data, in the language
`LanguageChoice` settles. Buttons carry actions with their language, so a press answers in
the same language; the chat layer (`bot.chat`) turns actions into callback data and back.
"""

from __future__ import annotations

from typing import Final

from bot.core.knowledge import Entry, KnowledgeBase, Language
from bot.core.language import LanguageChoice, LanguageDetector
from bot.core.matching import Decision, Matcher, Outcome, Thresholds, decide
from bot.core.messages import messages
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
from bot.core.text import Analyzer, fold

MAX_QUESTION_CHARS: Final = 1000  # longer input is matched on its beginning and its end
ECHO_CHARS: Final = 120  # how much of a declined question is quoted back
MAX_RELATED: Final = 3
TOPIC_COLUMNS: Final = 2  # topic buttons per row


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

    def answer(self, question: str, choice: LanguageChoice | None = None) -> Reply:
        """Reply to a free-text question: an answer card, "did you mean", small talk or a
        decline, in the language `choice` settles (by default the question's own)."""
        choice = choice or LanguageChoice()
        question = question.strip()
        chatter = small_talk(question)
        if chatter is not None:
            return self.small_talk(chatter, choice.resolve(self.detector.guess(question)))
        decision = self.decide(question)
        match = decision.match
        language = choice.resolve(self.detector.guess(question, match.repaired))
        best = match.best
        score = round(best.score, 1) if best is not None else 0.0
        if decision.outcome is Outcome.ANSWER and best is not None:
            card = self.card(best.entry, language)
            return Reply("answer", language, card.paragraphs, card.buttons, best.entry.id, score)
        if decision.outcome is Outcome.SUGGEST:
            return self._suggest([c.entry for c in decision.suggestions], language, score)
        if not match.terms:
            return self.info(messages(language).empty_question, language, score)
        return self._decline(question, language, score)

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

    def explain(self, question: str) -> str:
        """Why the bot replies as it does: understood terms, top candidates, chosen outcome."""
        decision = self.decide(question.strip())
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

    def _decline(self, question: str, language: Language, score: float) -> Reply:
        words = messages(language)
        echo = question if len(question) <= ECHO_CHARS else question[: ECHO_CHARS - 1] + "…"
        first = ParagraphBuilder().text(words.decline + ": ").italic(echo).build()
        paragraphs = (first, plain(words.decline_topics))
        return Reply("decline", language, paragraphs, _topics_row(language), score=score)

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
