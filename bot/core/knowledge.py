"""The curated knowledge base: pydantic models and the loader of knowledge/*.yaml.

Loading fails fast with a `KnowledgeError` that lists every problem with its file, entry id,
field and (where YAML knows it) line, so a curator can fix a broken file without guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.core.text import Analyzer, Lexicon, LexiconConflictError, fold, is_year

Language = Literal["en", "es"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "es")

MAX_MESSAGE_CHARS: Final = 4096  # Telegram's limit for one text message
ENTRY_ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
COMMAND_PATTERN: Final = re.compile(r"^[a-z0-9_]{1,32}$")
MIN_QUESTIONS: Final = 5

SOURCES_FILE: Final = "sources.yaml"
LEXICON_FILE: Final = "lexicon.yaml"
_SAFE_LOADER: Final = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_PERSON_TEMPLATES: Final[dict[Language, tuple[str, str, str]]] = {
    "en": ("who is {}", "who is the {}", "name of the {}"),
    "es": ("quién es {}", "quién es {}", "cómo se llama {}"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Strict):
    """A short text in English and Spanish."""

    en: Text
    es: Text

    def get(self, language: Language) -> str:
        """The text in `language`."""
        return self.es if language == "es" else self.en


class EntryText(_Strict):
    """What an entry says in one language."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    questions: list[str] = Field(min_length=MIN_QUESTIONS)
    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS)
    ]

    @field_validator("questions")
    @classmethod
    def _phrasings_have_words(cls, questions: list[str]) -> list[str]:
        for index, question in enumerate(questions):
            if not fold(question):
                raise ValueError(f"phrasing {index + 1} is empty (it has no letters or digits)")
        return [q.strip() for q in questions]


class Person(_Strict):
    """A fact-sheet record: a person the article names, and their office."""

    name: Text
    office: Localized


class Entry(_Strict):
    """One curated question-and-answer topic."""

    id: str
    kind: Literal["fact", "not_covered"] = "fact"
    command: str | None = None
    command_es: str | None = None
    sources: list[int] = Field(min_length=1)
    related: list[str] = Field(default_factory=list)
    person: Person | None = None
    # words one of which a question must hold to reach this entry: an entry about numbers
    # answers only a question that asks for numbers ("how many", "cifras")
    needs: list[Text] = Field(default_factory=list)
    en: EntryText
    es: EntryText

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not ENTRY_ID_PATTERN.fullmatch(value):
            raise ValueError(
                "must be 1-40 characters of a-z, 0-9, '_' and '-', starting with a letter or digit"
            )
        return value

    @field_validator("command", "command_es")
    @classmethod
    def _valid_command(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not COMMAND_PATTERN.fullmatch(value):
            raise ValueError("Telegram commands are 1-32 characters of a-z, 0-9 and '_'")
        return value

    def text(self, language: Language) -> EntryText:
        """The entry's text in `language`."""
        return self.es if language == "es" else self.en

    def command_for(self, language: Language) -> str | None:
        """The command to show in `language`: the Spanish alias in Spanish, if there is one."""
        return (self.command_es if language == "es" else None) or self.command

    @property
    def commands(self) -> list[str]:
        """Every command that opens this entry (both work in both languages)."""
        return [c for c in (self.command, self.command_es) if c is not None]

    def phrasings(self, language: Language) -> list[str]:
        """What a user might type for this entry: questions, title, command word, person."""
        text = self.text(language)
        found = [*text.questions, text.title]
        command = self.command_for(language)
        if command is not None:
            found.append(command.replace("_", " "))
        if self.person is not None:
            who, who_office, named = _PERSON_TEMPLATES[language]
            office = self.person.office.get(language)
            name = self.person.name
            found += [
                name,
                who.format(name),
                office,
                who_office.format(office),
                named.format(office),
            ]
        return found


class Article(_Strict):
    """The source article as the knowledge base describes it: title and paragraph labels."""

    title: Localized
    paragraphs: dict[int, Localized] = Field(min_length=1)


class _SourcesFile(_Strict):
    article: Article


class _LexiconFile(_Strict):
    stop_words: dict[Language, list[str]] = Field(default_factory=dict)
    weak_stop_words: dict[Language, list[str]] = Field(default_factory=dict)
    framing: dict[Language, list[str]] = Field(default_factory=dict)
    question_words: list[str] = Field(default_factory=list)
    off_topic: list[str] = Field(default_factory=list)
    whole_off_topic: list[str] = Field(default_factory=list)
    question_starts: list[str] = Field(default_factory=list)
    contrast: list[str] = Field(default_factory=list)
    shorthand: dict[str, str] = Field(default_factory=dict)
    fallback: dict[str, list[str]] = Field(default_factory=dict)
    else_words: list[str] = Field(default_factory=list)
    only_beside: dict[str, list[str]] = Field(default_factory=dict)
    phrases: dict[str, list[str]] = Field(default_factory=dict)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("synonyms")
    @classmethod
    def _single_words(cls, synonyms: dict[str, list[str]]) -> dict[str, list[str]]:
        for canonical, variants in synonyms.items():
            for variant in (canonical, *variants):
                if len(fold(variant).split()) != 1:
                    raise ValueError(
                        f"{variant!r} under {canonical!r} is not one word; list it in `phrases`"
                    )
        return synonyms

    @model_validator(mode="after")
    def _whole_off_topic_is_off_topic(self) -> _LexiconFile:
        listed = {fold(w) for w in self.off_topic}
        unknown = [w for w in self.whole_off_topic if fold(w) not in listed]
        if unknown:
            raise ValueError(
                f"whole_off_topic: {', '.join(map(repr, unknown))} is not listed in off_topic"
            )
        return self

    @model_validator(mode="after")
    def _only_beside_names_groups(self) -> _LexiconFile:
        groups = {fold(name) for name in (*self.phrases, *self.synonyms)}
        for term, companions in self.only_beside.items():
            unknown = [w for w in (term, *companions) if fold(w) not in groups]
            if unknown:
                raise ValueError(
                    f"only_beside {term!r}: {', '.join(map(repr, unknown))} is not a group "
                    "of phrases or synonyms"
                )
        return self


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated knowledge: the article map, the entries and the lexicon."""

    article: Article
    entries: tuple[Entry, ...]
    lexicon: Lexicon
    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)
    _by_command: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})
        object.__setattr__(self, "_by_command", {c: e for e in self.entries for c in e.commands})

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, if any."""
        return self._by_id.get(entry_id)

    def by_command(self, command: str) -> Entry | None:
        """The entry behind a topic command (without the slash), if any."""
        return self._by_command.get(command.lower())

    @property
    def topics(self) -> list[Entry]:
        """The topics: entries that have a command, in knowledge-base order."""
        return [e for e in self.entries if e.commands]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the knowledge files."""

    file: str
    message: str
    entry: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.entry is not None:
            parts.append(f"entry {self.entry!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ": ".join([", ".join(parts), self.message])


class KnowledgeError(Exception):
    """The knowledge base cannot be used; `problems` says exactly why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------- loading


@dataclass
class _Document:
    """One parsed YAML file with its node tree, for line numbers."""

    name: str  # as shown in messages: "knowledge/<file>"
    filename: str
    data: Any
    root: yaml.Node | None


def load_knowledge(directory: Path, reserved: frozenset[str] = frozenset()) -> KnowledgeBase:
    """Load and validate every YAML file in `directory`; raise `KnowledgeError` on any problem.

    `reserved` are the names of the bot's own commands, which no topic command may take.
    """
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), "knowledge directory not found")])
    problems: list[Problem] = []
    documents = list(_read_documents(directory, problems))
    by_name = {doc.filename: doc for doc in documents}

    article = _load_article(by_name.get(SOURCES_FILE), directory, problems)
    lexicon = _load_lexicon(by_name.get(LEXICON_FILE), problems)
    entries: list[tuple[_Document, int, Entry]] = []
    for doc in documents:
        if doc.filename not in (SOURCES_FILE, LEXICON_FILE):
            entries.extend(_load_entries(doc, problems))
    if not entries and not problems:
        problems.append(Problem(str(directory), "no entries found in any *.yaml file"))
    if article is not None:
        _check_references(entries, article, reserved, problems)
    if lexicon is not None:
        _check_off_topic(entries, lexicon, problems)
        _check_needs(entries, Analyzer(lexicon), problems)
    if problems:
        raise KnowledgeError(problems)
    assert article is not None
    assert lexicon is not None
    return KnowledgeBase(article, tuple(e for _, _, e in entries), lexicon)


def _read_documents(directory: Path, problems: list[Problem]) -> Iterator[_Document]:
    root = directory.resolve()
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    for path in paths:
        shown = f"{directory.name}/{path.name}"
        if not path.resolve().is_relative_to(root):
            problems.append(Problem(shown, "points outside the knowledge directory; refused"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(shown, f"cannot be read: {exc}"))
            continue
        try:
            root_node, data = _parse(text)
        except yaml.YAMLError as exc:
            problems.append(_yaml_problem(shown, exc))
            continue
        for key, line in _duplicate_keys(root_node):
            problems.append(Problem(shown, f"duplicate key {key!r}", line=line))
        yield _Document(shown, path.name, data, root_node)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """A document's node tree (for line numbers and duplicate keys) and its data, from one
    parse, with libyaml's safe loader when PyYAML has it (its wheels do): ten times faster."""
    loader = _SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_problem(shown: str, exc: yaml.YAMLError) -> Problem:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(shown, f"malformed YAML: {exc}")
    reason = exc.problem or str(exc)
    if exc.context and exc.context_mark is not None:
        reason += f" ({exc.context} at line {exc.context_mark.line + 1})"
    line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
    return Problem(shown, f"malformed YAML: {reason}", line=line)


def _duplicate_keys(node: yaml.Node | None) -> Iterator[tuple[str, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield key, key_node.start_mark.line + 1
            seen.add(key)
            yield from _duplicate_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The 1-based line of the node at `path` (or of its nearest existing parent)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if str(k.value) == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            child = node.value[step] if 0 <= step < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _field_name(loc: Sequence[str | int]) -> str:
    name = ""
    for step in loc:
        name += f"[{step}]" if isinstance(step, int) else (f".{step}" if name else str(step))
    return name


def _validation_problems(
    doc: _Document, error: ValidationError, prefix: Sequence[str | int], entry: str | None
) -> Iterator[Problem]:
    for detail in error.errors():
        loc = [step for step in detail["loc"] if not str(step).startswith("function-after")]
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field"
        yield Problem(
            doc.name,
            message,
            entry=entry,
            field=_field_name(loc) or None,
            line=_line_of(doc.root, [*prefix, *loc]),
        )


def _load_article(
    doc: _Document | None, directory: Path, problems: list[Problem]
) -> Article | None:
    if doc is None:
        problems.append(Problem(f"{directory.name}/{SOURCES_FILE}", "file is missing"))
        return None
    try:
        return _SourcesFile.model_validate(doc.data).article
    except ValidationError as exc:
        problems.extend(_validation_problems(doc, exc, [], None))
        return None


def _load_lexicon(doc: _Document | None, problems: list[Problem]) -> Lexicon | None:
    if doc is None:
        return Lexicon.empty()
    try:
        parsed = _LexiconFile.model_validate(doc.data or {})
        stop_words: dict[str, list[str]] = {
            language: [*parsed.stop_words.get(language, []), *parsed.framing.get(language, [])]
            for language in {*parsed.stop_words, *parsed.framing}
        }
        return Lexicon.build(
            stop_words,
            parsed.phrases,
            parsed.synonyms,
            question_words=parsed.question_words,
            off_topic=parsed.off_topic,
            whole_off_topic=parsed.whole_off_topic,
            question_starts=parsed.question_starts,
            contrast=parsed.contrast,
            shorthand=parsed.shorthand,
            fallback=parsed.fallback,
            else_words=parsed.else_words,
            framing={str(language): words for language, words in parsed.framing.items()},
            only_beside=parsed.only_beside,
            weak_stop_words=[w for words in parsed.weak_stop_words.values() for w in words],
        )
    except ValidationError as exc:
        problems.extend(_validation_problems(doc, exc, [], None))
    except LexiconConflictError as exc:
        problems.append(Problem(doc.name, str(exc), field="synonyms"))
    return None


def _load_entries(
    doc: _Document, problems: list[Problem]
) -> Iterator[tuple[_Document, int, Entry]]:
    data = doc.data
    if not isinstance(data, dict) or set(data) != {"entries"}:
        problems.append(
            Problem(
                doc.name,
                "must be a mapping with a single key `entries`",
                line=_line_of(doc.root, []),
            )
        )
        return
    raw_entries = data["entries"]
    if not isinstance(raw_entries, list):
        problems.append(
            Problem(doc.name, "`entries` must be a list", line=_line_of(doc.root, ["entries"]))
        )
        return
    for index, raw in enumerate(raw_entries):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        label = raw_id if isinstance(raw_id, str) else f"#{index + 1}"
        try:
            yield doc, index, Entry.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_validation_problems(doc, exc, ["entries", index], label))


def _check_references(
    entries: Sequence[tuple[_Document, int, Entry]],
    article: Article,
    reserved: frozenset[str],
    problems: list[Problem],
) -> None:
    """Cross-entry rules: unique ids and commands, none of the bot's own command names,
    known related ids and paragraphs."""

    def report(doc: _Document, index: int, entry: Entry, message: str, *path: str | int) -> None:
        line = _line_of(doc.root, ["entries", index, *path])
        problems.append(Problem(doc.name, message, entry.id, _field_name(path), line))

    first_file: dict[str, str] = {}
    command_owner: dict[str, str] = {}
    for doc, index, entry in entries:
        if entry.id in first_file:
            report(doc, index, entry, f"duplicate id (first in {first_file[entry.id]})", "id")
        first_file.setdefault(entry.id, doc.name)
        for field_name, command in (("command", entry.command), ("command_es", entry.command_es)):
            if command is None:
                continue
            if command in reserved:
                report(
                    doc, index, entry, f"/{command} is one of the bot's own commands", field_name
                )
                continue
            owner = command_owner.setdefault(command, entry.id)
            if owner != entry.id or (field_name == "command_es" and command == entry.command):
                report(doc, index, entry, f"/{command} is already {owner!r}'s", field_name)
    for doc, index, entry in entries:
        for field_path, message in _reference_problems(entry, set(first_file), article):
            report(doc, index, entry, message, *field_path)


def _check_off_topic(
    entries: Sequence[tuple[_Document, int, Entry]], lexicon: Lexicon, problems: list[Problem]
) -> None:
    """No phrasing may use a word the lexicon lists as off-topic, nor name a year, which the
    matcher reads as off topic too (the phrasing could never be reached, and it would stop
    declining)."""
    for doc, index, entry in entries:
        for language in LANGUAGES:
            for position, question in enumerate(entry.text(language).questions):
                words = set(fold(question).split())
                clash = sorted(words & lexicon.off_topic)
                years = sorted(w for w in words if is_year(w))
                found = []
                if clash:
                    found.append(f"uses {', '.join(map(repr, clash))}, listed in lexicon off_topic")
                if years:
                    found.append(f"names the year {', '.join(years)}; the article gives none")
                for message in found:
                    problems.append(
                        Problem(
                            doc.name,
                            message,
                            entry.id,
                            f"{language}.questions[{position}]",
                            _line_of(doc.root, ["entries", index, language, "questions", position]),
                        )
                    )


def needed_terms(entry: Entry, analyzer: Analyzer) -> frozenset[str]:
    """The terms of an entry's `needs` words, read in either language (empty: no need)."""
    return frozenset(
        term
        for word in entry.needs
        for language in LANGUAGES
        for term in analyzer.terms(word, language)
    )


def _check_needs(
    entries: Sequence[tuple[_Document, int, Entry]], analyzer: Analyzer, problems: list[Problem]
) -> None:
    """Every phrasing of an entry with `needs` must hold one of them, or it could never be
    reached from its own words."""
    for doc, index, entry in entries:
        if not entry.needs:
            continue
        needed = needed_terms(entry, analyzer)
        for language in LANGUAGES:
            for position, question in enumerate(entry.text(language).questions):
                if needed.isdisjoint(analyzer.terms(question, language)):
                    problems.append(
                        Problem(
                            doc.name,
                            f"holds none of the entry's needs ({', '.join(entry.needs)})",
                            entry.id,
                            f"{language}.questions[{position}]",
                            _line_of(doc.root, ["entries", index, language, "questions", position]),
                        )
                    )


def _reference_problems(
    entry: Entry, known_ids: set[str], article: Article
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for position, related in enumerate(entry.related):
        if related == entry.id:
            yield ("related", position), "refers to itself"
        elif related not in known_ids:
            yield ("related", position), f"unknown entry id {related!r}"
    for position, paragraph in enumerate(entry.sources):
        if paragraph not in article.paragraphs:
            yield ("sources", position), f"paragraph {paragraph} is not in {SOURCES_FILE}"
    if entry.person is not None:
        for language in LANGUAGES:
            if fold(entry.person.name) not in fold(entry.text(language).answer):
                yield (language, "answer"), f"the answer must name {entry.person.name}"
