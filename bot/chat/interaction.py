"""The interaction layer: one conversation's rules, shared by the console and Telegram.

The edges turn what arrives (a message, a command, a button press, an inline query) into a
call here with a `Sender`, and send back what comes out. Everything a conversation decides
lives here once: the command table (`bot.chat.commands`), which language to answer in (the
chat's /lang pin, then the message's own language, then the app's language), which questions
the curator hears about (declined or only suggested ones), votes and "did you mean" picks.
The knowledge is answered by the pure pipeline, which this layer swaps whole on /reload.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from bot.chat import commands
from bot.chat.callbacks import parse_deep_link
from bot.chat.state import ChatState, MemoryChatState
from bot.core.feedback import FeedbackEvent, FeedbackSink, MemoryFeedback
from bot.core.knowledge import (
    LANGUAGES,
    Entry,
    KnowledgeBase,
    KnowledgeError,
    Language,
    load_knowledge,
)
from bot.core.language import LanguageChoice, language_of_code
from bot.core.messages import messages
from bot.core.pipeline import Answerer
from bot.core.replies import Action, Reply, ShowEntry, ShowTopics, Vote, plain

HELP_TOPIC_COMMANDS: Final = 3  # topic commands named as examples in /help
CONTEXT_SECONDS: Final = 600.0  # how long the last answer is the context of a follow-up

Stats = Callable[[Language, int], str]  # (language, knowledge entries) -> the /stats text
Loader = Callable[[], Answerer]  # a fresh pipeline from the knowledge files; KnowledgeError


def load(directory: Path) -> KnowledgeBase:
    """Load the knowledge base, refusing topic commands that take a built-in command's name."""
    return load_knowledge(directory, reserved=commands.reserved_names())


@dataclass(frozen=True)
class Sender:
    """Who wrote, as far as the conversation needs to know."""

    chat: int | None = None  # the conversation (stores keep it only under a keyed hash)
    user: int | None = None  # the person (votes count once per person and entry; hashed too)
    app_language: str | None = None  # the user's app language (Telegram's language_code)
    admin: bool = False
    private: bool = True


@dataclass(frozen=True)
class Response:
    """The outcome of a command or a button press."""

    reply: Reply | None = None  # what to send; None: nothing
    notice: str | None = None  # a short acknowledgement instead of a message (after a vote)
    reloaded: bool = False  # the knowledge base changed: publish the command menus again


class Interaction:
    """The conversation rules around one pipeline (replaced whole on reload)."""

    def __init__(
        self,
        answerer: Answerer,
        feedback: FeedbackSink | None = None,
        *,
        state: ChatState | None = None,
        context_seconds: float = CONTEXT_SECONDS,
        stats: Stats | None = None,
        loader: Loader | None = None,
    ) -> None:
        self.answerer = answerer
        self.feedback: FeedbackSink = feedback if feedback is not None else MemoryFeedback()
        self.state: ChatState = state if state is not None else MemoryChatState()
        self.context_seconds = context_seconds
        self._stats = stats
        self._loader = loader
        self._reload_lock = threading.Lock()

    # ------------------------------------------------------------------ language

    def pinned(self, sender: Sender) -> Language | None:
        """The language pinned for the sender's chat with /lang, if any."""
        return self.state.pinned(sender.chat)

    def choice(self, sender: Sender) -> LanguageChoice:
        """What decides the language of a reply to `sender`."""
        return LanguageChoice(self.pinned(sender), sender.app_language)

    def language(self, sender: Sender, own: Language | None = None) -> Language:
        """The language of a reply to `sender` about something written in `own` (or nothing)."""
        return self.choice(sender).resolve(own)

    # ------------------------------------------------------------------ free text

    def context(self, sender: Sender, replied_to: str | None = None) -> Entry | None:
        """The topic a follow-up from `sender` is read in: in a group, only the answer the
        message replies to (`replied_to`); in a private chat, that, else the last answer of
        the chat if it is recent enough."""
        entry_id = replied_to
        if entry_id is None and sender.private:
            entry_id = self.state.topic(sender.chat, self.context_seconds)
        return self.answerer.knowledge.get(entry_id) if entry_id else None

    def text(self, sender: Sender, question: str, replied_to: str | None = None) -> Reply:
        """A question in free text: answer, "did you mean", small talk or decline; a
        follow-up ("and him?", "why?") is read in the context of the last answer."""
        context = self.context(sender, replied_to)
        reply = self.answerer.answer(question, self.choice(sender), context)
        self._note_unanswered(sender, question, reply)
        self._remember(sender, reply)
        return reply

    def welcome(self, sender: Sender) -> Reply:
        """The welcome, with topic buttons (also for a bare mention of the bot in a group)."""
        return self.answerer.welcome(self.language(sender))

    def only_text(self, sender: Sender) -> Reply:
        """The reply to a sticker, photo or voice message: please use words."""
        language = self.language(sender)
        return self.answerer.info(messages(language).only_text, language)

    def inline(self, sender: Sender, query: str, limit: int) -> tuple[Language, list[Reply]]:
        """Answer cards for inline mode; a query with none is noted for the curator."""
        language, cards = self.answerer.inline(query, self.choice(sender), limit)
        if query.strip() and not cards:
            self._record(FeedbackEvent("unanswered", language, question=query, chat=sender.chat))
        return language, cards

    # ------------------------------------------------------------------ commands

    def command(self, sender: Sender, name: str, argument: str = "") -> Response:
        """A slash command (name without the slash): built-in, a topic, or unknown."""
        name = name.lower()
        found = commands.find(name)
        if found is not None:
            return self.run(found, sender, argument, name)
        entry = self.answerer.knowledge.by_command(name)
        if entry is None:
            return Response(self.unknown_command(sender))
        own = next((lang for lang in LANGUAGES if entry.command_for(lang) == name), None)
        spelled_alike = all(entry.command_for(lang) == name for lang in LANGUAGES)
        language = self.language(sender, None if spelled_alike else own)
        reply = self.answerer.card(entry, language)
        self._remember(sender, reply)
        return Response(reply)

    def run(
        self, command: commands.Command, sender: Sender, argument: str = "", name: str = ""
    ) -> Response:
        """Run one row of the command table for `sender` (admin rows: admins only). A name
        only one language uses stands in for the app's language (/principios: Spanish)."""
        if command.admin and not sender.admin:
            return Response(self.unknown_command(sender))
        own = command.language_of(name.lower()) if name else None
        before = self.answerer
        reply = command.run(self, replace(sender, app_language=own) if own else sender, argument)
        return Response(reply, reloaded=self.answerer is not before)

    def unknown_command(self, sender: Sender) -> Reply | None:
        """A command we do not have: a hint in private chats, silence in groups."""
        if not sender.private:
            return None
        language = self.language(sender)
        return self.answerer.info(messages(language).unknown_command, language)

    def start(self, sender: Sender, payload: str = "") -> Reply:
        """/start [payload]: the welcome, or the entry a deep link names."""
        if not payload.strip():
            return self.welcome(sender)
        for entry_id, own in parse_deep_link(payload):
            entry = self.answerer.knowledge.get(entry_id)
            if entry is not None:
                return self.answerer.card(entry, own or self.language(sender))
        language = self.language(sender)
        return self.answerer.topics(language, intro=messages(language).unknown_topic)

    def help(self, sender: Sender) -> Reply:
        """/help: how to ask, the commands, and a few topic commands as examples."""
        language = self.language(sender)
        words = messages(language)
        examples = [
            f"/{command}"
            for entry in self.answerer.knowledge.topics[:HELP_TOPIC_COMMANDS]
            if (command := entry.command_for(language)) is not None
        ]
        lines = [words.help_intro]
        if examples:
            lines.append(f"{', '.join(examples)} … — {words.help_topics}")
        lines += [
            f"/{row.names[language]} {row.usage[language]}"
            for row in commands.COMMANDS
            if row.usage is not None and not row.admin
        ]
        return Reply("info", language, (plain("\n".join(lines)),))

    def topics(self, sender: Sender) -> Reply:
        """/topics: every topic as a button."""
        return self.answerer.topics(self.language(sender))

    def ask(self, sender: Sender, question: str) -> Reply:
        """/ask <question>: answer the question after the command (for groups)."""
        if not question.strip():
            language = self.language(sender)
            return self.answerer.info(messages(language).ask_usage, language)
        return self.text(sender, question)

    def set_language(self, sender: Sender, argument: str) -> Reply:
        """/lang en|es|auto: pin the chat's answer language, or follow each message again.
        Anything else shows the current setting and the usage."""
        choice = argument.strip().lower()
        fallback = LanguageChoice(app_language=sender.app_language).resolve()
        if choice in LANGUAGES:
            chosen = language_of_code(choice) or fallback
            self.state.pin(sender.chat, chosen)
            return self.answerer.info(messages(chosen).lang_set, chosen)
        if choice == "auto":
            self.state.pin(sender.chat, None)
            return self.answerer.info(messages(fallback).lang_auto, fallback)
        pinned = self.pinned(sender)
        language = pinned or fallback
        usage = messages(language).lang_usage.format(current=pinned or "auto")
        return self.answerer.info(usage, language)

    def privacy(self, sender: Sender) -> Reply:
        """/privacy: what the bot keeps, for how long, and how to delete it."""
        language = self.language(sender)
        minutes = round(self.context_seconds / 60)
        text = messages(language).privacy.format(minutes=minutes)
        return Reply("info", language, (plain(text),))

    def forget(self, sender: Sender) -> Reply:
        """/forget: delete everything kept for this chat (and the sender's votes)."""
        language = self.language(sender)  # before the pin is gone
        self.state.forget(sender.chat, sender.user)  # the store: its feedback rows too
        return Reply("info", language, (plain(messages(language).forgotten),))

    def stats(self, sender: Sender) -> Reply:
        """/stats (admins): feedback totals and the top unanswered questions."""
        language = self.language(sender)
        entries = len(self.answerer.knowledge.entries)
        text = (
            self._stats(language, entries)
            if self._stats is not None
            else messages(language).stats_no_store
        )
        return Reply("info", language, (plain(text),))

    def reload_reply(self, sender: Sender) -> Reply:
        """/reload (admins): load the knowledge files again; a broken file keeps the old base."""
        language = self.language(sender)
        return Reply("info", language, (plain(self.reload(language)[1]),))

    def reload(self, language: Language = "en") -> tuple[bool, str]:
        """Load the knowledge base again and swap it in whole; on problems keep the old one."""
        if self._loader is None:
            return False, messages(language).reload_refused
        with self._reload_lock:
            words = messages(language)
            try:
                answerer = self._loader()
            except KnowledgeError as exc:
                return False, "\n".join([words.reload_refused, *(str(p) for p in exc.problems)])
            self.answerer = answerer  # one reference swap: every later message sees the new base
            return True, words.reload_done.format(entries=len(answerer.knowledge.entries))

    # ------------------------------------------------------------------ buttons

    def press(self, sender: Sender, action: Action | None, question: str | None) -> Response:
        """A button press (`question`: the message its reply answered, if known)."""
        match action:
            case ShowEntry():
                return Response(self.show(sender, action, question))
            case Vote():
                return Response(notice=self.vote(sender, action, question))
            case ShowTopics():
                return Response(self.answerer.topics(action.language))
            case None:
                return Response(self.stale(sender))

    def show(self, sender: Sender, action: ShowEntry, question: str | None = None) -> Reply:
        """A topic, related-topic or "did you mean" button: that entry's card."""
        entry = self.answerer.knowledge.get(action.entry_id)
        if entry is None:
            return self.stale(sender, action.language)
        if action.picked:
            event = FeedbackEvent("pick", action.language, entry.id, 0, question, sender.chat)
            self._record(event)
        reply = self.answerer.card(entry, action.language)
        self._remember(sender, reply)
        return reply

    def vote(self, sender: Sender, action: Vote, question: str | None = None) -> str:
        """👍 or 👎 on an answer: kept for the curator (a person's last vote on an entry
        counts; a vote for an entry that does not exist is refused); the notice to show."""
        words = messages(action.language)
        if self.answerer.knowledge.get(action.entry_id) is None:
            return words.vote_stale
        event = FeedbackEvent(
            "vote",
            action.language,
            action.entry_id,
            1 if action.value > 0 else -1,
            question,
            sender.chat,
            sender.user,
        )
        self._record(event)
        return words.vote_thanks

    def stale(self, sender: Sender, language: Language | None = None) -> Reply:
        """A button that is out of date or forged: the topics, politely."""
        language = language or self.language(sender)
        return self.answerer.topics(language, intro=messages(language).stale_button)

    # ------------------------------------------------------------------ curator

    def _note_unanswered(self, sender: Sender, question: str, reply: Reply) -> None:
        """The curator hears about every question that got no answer card."""
        if reply.kind in ("decline", "suggest"):
            event = FeedbackEvent("unanswered", reply.language, question=question, chat=sender.chat)
            self._record(event)

    def _remember(self, sender: Sender, reply: Reply) -> None:
        """An answer card in a private chat becomes the context of the next message."""
        if sender.private and reply.kind == "answer" and reply.entry_id is not None:
            self.state.set_topic(sender.chat, reply.entry_id)

    def _record(self, event: FeedbackEvent) -> None:
        self.feedback.record(event)
