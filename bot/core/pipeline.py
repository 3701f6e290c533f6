"""The one answering pipeline: a question in, a `Reply` out. Console, CLI and Telegram all use it.

No Telegram import: this module turns the matcher's decision and the knowledge base into
replies (answer cards, "did you mean", declines, topic lists) as plain data, in the language
of the question. Buttons carry their language, so a press answers in the same language.
"""

from __future__ import annotations

from typing import Final

from bot.core.feedback import FeedbackEvent
from bot.core.knowledge import LANGUAGES, Entry, KnowledgeBase, Language
from bot.core.language import DEFAULT_LANGUAGE, LanguageDetector, language_of_code
from bot.core.matching import Decision, Matcher, Outcome, Thresholds, decide
from bot.core.messages import messages
from bot.core.replies import Button, Paragraph, ParagraphBuilder, Reply, plain
from bot.core.smalltalk import SmallTalk, small_talk
from bot.core.text import Analyzer, fold

MAX_QUESTION_CHARS: Final = 1000  # longer input is matched on its beginning and its end
ECHO_CHARS: Final = 120  # how much of a declined question is quoted back
MAX_RELATED: Final = 3
ANSWER_PREFIX: Final = "a"  # callback data "a:<language>:<entry id>" answers an entry
PICK_PREFIX: Final = "s"  # "s:<language>:<entry id>": the same, picked from "did you mean"
VOTE_PREFIX: Final = "f"  # "f:<language>:<+|->:<entry id>": 👍 or 👎 on an answer
TOPICS_PREFIX: Final = "t"  # callback data "t:<language>" lists the topics


def clip(text: str) -> str:
    """At most MAX_QUESTION_CHARS: a longer message keeps its beginning and its end, where a
    question usually stands ("Who led it? I ask because ..." or "... so who led it?")."""
    if len(text) <= MAX_QUESTION_CHARS:
        return text
    half = MAX_QUESTION_CHARS // 2
    return f"{text[:half]} … {text[-half:]}"


def answer_data(entry_id: str, language: Language, prefix: str = ANSWER_PREFIX) -> str:
    """Callback data of a button that answers `entry_id` in `language`."""
    return f"{prefix}:{language}:{entry_id}"


def vote_data(entry_id: str, value: int, language: Language) -> str:
    """Callback data of a 👍 (value 1) or 👎 (value -1) button."""
    return f"{VOTE_PREFIX}:{language}:{'+' if value > 0 else '-'}:{entry_id}"


def deep_link_payload(entry_id: str, language: Language) -> str:
    """The /start payload that opens `entry_id` (t.me/<bot>?start=<payload>)."""
    return entry_id if language == "en" else f"{language}-{entry_id}"


def topics_data(language: Language) -> str:
    """Callback data of the "all topics" button."""
    return f"{TOPICS_PREFIX}:{language}"


def parse_data(data: str) -> tuple[str, Language | None, str]:
    """(kind, language, rest) of callback data; unknown parts come back empty or None."""
    kind, _, rest = data.partition(":")
    code, _, remainder = rest.partition(":")
    return kind, language_of_code(code) if code in LANGUAGES else None, remainder


def feedback_event(
    data: str, question: str | None = None, chat: int | None = None
) -> FeedbackEvent | None:
    """The feedback a button press carries: a vote, or a "did you mean" pick."""
    kind, language, rest = parse_data(data)
    if language is None:
        return None
    if kind == VOTE_PREFIX:
        sign, _, entry_id = rest.partition(":")
        if sign in ("+", "-") and entry_id:
            value = 1 if sign == "+" else -1
            return FeedbackEvent("vote", language, entry_id, value, question, chat)
    if kind == PICK_PREFIX and rest:
        return FeedbackEvent("pick", language, rest, 0, question, chat)
    return None


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

    def answer(
        self, question: str, language: Language | None = None, hint: str | None = None
    ) -> Reply:
        """Reply to a free-text question: an answer card, "did you mean", or a decline.

        The reply is in `language` when given (a language pinned with /lang), otherwise in
        the language the question is written in; `hint` (Telegram's language_code) breaks ties.
        """
        question = question.strip()
        chatter = small_talk(question)
        if chatter is not None:
            return self.small_talk(chatter, language or self.detector.detect(question, hint))
        decision = self.decide(question)
        match = decision.match
        if language is None:
            language = self.detector.detect(question, hint, match.repaired)
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
        self, query: str, hint: str | None = None, limit: int = 10
    ) -> tuple[Language, list[Reply]]:
        """Answer cards for inline mode, best first: the main topics for an empty query, the
        entries that score at least the "did you mean" cut-off otherwise (maybe none)."""
        query = clip(query.strip())
        if not query:
            language = language_of_code(hint) or DEFAULT_LANGUAGE
            return language, [self.card(e, language) for e in self.knowledge.commands[:limit]]
        match = self.matcher.match(query, limit=limit)
        language = self.detector.detect(query, hint, match.repaired)
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
            f"language:    {self.detector.detect(question, None, match.repaired)}",
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
                f"F1 {c.overlap:.2f}  via {c.phrasing!r}"
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

    def command(
        self, name: str, argument: str = "", language: Language = "en", pinned: bool = False
    ) -> Reply | None:
        """Reply to a slash command (name without the slash), or None when it is not ours.

        `/ask` answers in the language of its question (`language` breaks ties), unless the
        chat `pinned` its language.
        """
        name = name.lower()
        if name == "start":
            return (
                self.open_link(argument, language) if argument.strip() else self.welcome(language)
            )
        if name == "help":
            return self.help(language)
        if name == "topics":
            return self.topics(language)
        if name == "ask":
            if not argument.strip():
                return self.info(messages(language).ask_usage, language)
            return self.answer(argument, language if pinned else None, hint=language)
        entry = self.knowledge.by_command(name)
        return self.card(entry, language) if entry is not None else None

    def set_language(
        self, argument: str, pinned: Language | None, fallback: Language
    ) -> tuple[Reply, Language | None]:
        """/lang en|es|auto: the reply and the chat's new pinned language (None: follow each
        message). Anything else shows the current setting and the usage."""
        choice = argument.strip().lower()
        if choice in LANGUAGES:
            chosen = language_of_code(choice) or fallback
            return self.info(messages(chosen).lang_set, chosen), chosen
        if choice == "auto":
            return self.info(messages(fallback).lang_auto, fallback), None
        language = pinned or fallback
        usage = messages(language).lang_usage.format(current=pinned or "auto")
        return self.info(usage, language), pinned

    def press(self, data: str, language: Language = "en") -> Reply | None:
        """Reply to a button press, or None for a vote (acknowledged, nothing to send).

        Stale or forged data gets the topics, politely.
        """
        kind, pressed_language, rest = parse_data(data)
        language = pressed_language or language
        if kind == TOPICS_PREFIX:
            return self.topics(language)
        if kind == VOTE_PREFIX and feedback_event(data) is not None:
            return None
        entry = self.knowledge.get(rest) if kind in (ANSWER_PREFIX, PICK_PREFIX) else None
        if entry is not None:
            return self.card(entry, language)
        return self.topics(language, intro=messages(language).stale_button)

    def open_link(self, payload: str, language: Language = "en") -> Reply:
        """The reply to a deep link t.me/<bot>?start=<payload>: that entry's card."""
        payload = payload.strip()
        entry = self.knowledge.get(payload)
        code, _, entry_id = payload.partition("-")
        if entry is None and code in LANGUAGES:
            entry = self.knowledge.get(entry_id)
            language = language_of_code(code) or language
        if entry is None:
            return self.topics(language, intro=messages(language).unknown_topic)
        return self.card(entry, language)

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
            (Button("➡️ " + r.text(language).title, answer_data(r.id, language)),)
            for r in related
            if r is not None
        ]
        rows.append(
            (
                Button("👍", vote_data(entry.id, 1, language)),
                Button("👎", vote_data(entry.id, -1, language)),
            )
        )
        return Reply("answer", language, paragraphs, tuple(rows), entry.id, 100.0)

    def topics(self, language: Language = "en", intro: str | None = None) -> Reply:
        """Every topic with a command, as text lines and as buttons."""
        words = messages(language)
        entries = self.knowledge.commands
        lines = "\n".join(f"/{e.command_for(language)} — {e.text(language).title}" for e in entries)
        buttons = [Button(e.text(language).title, answer_data(e.id, language)) for e in entries]
        rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
        return Reply("info", language, (plain(intro or words.topics_intro), plain(lines)), rows)

    def welcome(self, language: Language = "en") -> Reply:
        """The /start message: what the bot is for, with topic buttons."""
        words = messages(language)
        topics = self.topics(language)
        paragraphs = (plain(words.welcome), plain(words.about), *topics.paragraphs[1:])
        return Reply("info", language, paragraphs, topics.buttons)

    def help(self, language: Language = "en") -> Reply:
        """The /help message."""
        return Reply("info", language, (plain("\n".join(messages(language).help_lines)),))

    def info(self, text: str, language: Language = "en", score: float = 0.0) -> Reply:
        """A one-paragraph message with a button to the topics."""
        return Reply("info", language, (plain(text),), _topics_row(language), score=score)

    # ------------------------------------------------------------------ helpers

    def _suggest(self, entries: list[Entry], language: Language, score: float) -> Reply:
        words = messages(language)
        titles = "\n".join(f"• {e.text(language).title}" for e in entries)
        buttons = tuple(
            (Button(e.text(language).title, answer_data(e.id, language, PICK_PREFIX)),)
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
    return ((Button(messages(language).topics_button, topics_data(language)),),)
