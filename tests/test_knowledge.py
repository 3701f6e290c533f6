"""Loading knowledge/: the shipped base loads, and every kind of bad data is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.text import fold
from tests.conftest import KNOWLEDGE_DIR

ENTRY = """
  - id: {id}
    command: {command}
    sources: [1]
    es:
      title: Una entrada de prueba
      questions: [una pregunta, dos preguntas, tres, cuatro, cinco]
      answer: Una respuesta corta.
    en:
      title: A test entry
      questions: [one question, two question, three, four, five]
      answer: A short answer.
"""


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge base."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(p) for p in caught.value.problems]


def add_file(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def test_shipped_knowledge_loads(knowledge):
    assert len(knowledge.entries) >= 25
    assert knowledge.get("delegation") is not None
    assert knowledge.by_command("principles").id == "principles"


def test_every_entry_has_enough_phrasings_and_a_source(knowledge):
    for entry in knowledge.entries:
        assert len(entry.en.questions) >= 5, entry.id
        assert entry.sources, entry.id


def test_malformed_yaml_names_file_and_line(kdir):
    add_file(kdir, "50_broken.yaml", "entries:\n  - id: x\n    en: [unclosed\n")
    [problem] = problems_of(kdir)
    assert problem.startswith("knowledge/50_broken.yaml:")
    assert "line 3" in problem
    assert "malformed YAML" in problem


def test_unknown_field_names_entry_and_field(kdir):
    text = ENTRY.format(id="extra", command="extra_cmd") + "    colour: blue\n"
    add_file(kdir, "50_extra.yaml", "entries:" + text)
    [problem] = problems_of(kdir)
    assert "50_extra.yaml:" in problem
    assert "entry 'extra'" in problem
    assert "field 'colour'" in problem
    assert "unknown field" in problem


def test_problem_carries_the_yaml_line(kdir):
    text = "entries:" + ENTRY.format(id="lines", command="lines").replace("[1]", "[99]")
    add_file(kdir, "50_lines.yaml", text)
    [problem] = problems_of(kdir)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "sources" in t)
    assert problem.startswith(f"knowledge/50_lines.yaml:{line},")
    assert "paragraph 99" in problem


def test_duplicate_ids_are_rejected(kdir):
    add_file(kdir, "50_dup.yaml", "entries:" + ENTRY.format(id="goal", command="other"))
    problems = problems_of(kdir)
    assert any("entry 'goal'" in p and "duplicate id" in p for p in problems)


def test_duplicate_commands_are_rejected(kdir):
    add_file(kdir, "50_dup.yaml", "entries:" + ENTRY.format(id="new-one", command="principles"))
    [problem] = problems_of(kdir)
    assert "entry 'new-one'" in problem
    assert "field 'command'" in problem
    assert "/principles" in problem


def test_unknown_related_ids_are_rejected(kdir):
    text = "entries:" + ENTRY.format(id="rel", command="rel") + "    related: [goal, nowhere]\n"
    add_file(kdir, "50_rel.yaml", text)
    [problem] = problems_of(kdir)
    assert "field 'related[1]'" in problem
    assert "'nowhere'" in problem


@pytest.mark.parametrize("command", ["Bad-Name", "x" * 33, "has space"])
def test_command_names_telegram_refuses(kdir, command):
    add_file(kdir, "50_cmd.yaml", "entries:" + ENTRY.format(id="cmd", command=f'"{command}"'))
    [problem] = problems_of(kdir)
    assert "entry 'cmd'" in problem
    assert "field 'command'" in problem


def test_answers_over_4096_characters_are_rejected(kdir):
    text = "entries:" + ENTRY.format(id="long", command="long").replace(
        "A short answer.", "x" * 4097
    )
    add_file(kdir, "50_long.yaml", text)
    [problem] = problems_of(kdir)
    assert "field 'en.answer'" in problem
    assert "4096" in problem


@pytest.mark.parametrize("phrasing", ['""', '"   "', '"?!"'])
def test_empty_phrasings_are_rejected(kdir, phrasing):
    text = "entries:" + ENTRY.format(id="empty", command="empty").replace("three", phrasing)
    add_file(kdir, "50_empty.yaml", text)
    [problem] = problems_of(kdir)
    assert "field 'en.questions'" in problem
    assert "empty" in problem


def test_a_phrasing_that_names_a_year_is_rejected(kdir):
    """The matcher reads a year as off topic (the article gives none): such a phrasing could
    never be reached."""
    text = "entries:" + ENTRY.format(id="dated", command="dated").replace("three", "three in 2019")
    add_file(kdir, "50_dated.yaml", text)
    [problem] = problems_of(kdir)
    assert "50_dated.yaml" in problem
    assert "field 'en.questions[2]'" in problem
    assert "names the year 2019" in problem


def test_too_few_phrasings_are_rejected(kdir):
    text = "entries:" + ENTRY.format(id="few", command="few").replace(
        "[one question, two question, three, four, five]", "[only one]"
    )
    add_file(kdir, "50_few.yaml", text)
    [problem] = problems_of(kdir)
    assert "field 'en.questions'" in problem


def test_duplicate_yaml_keys_are_rejected(kdir):
    text = "entries:" + ENTRY.format(id="twice", command="twice") + "    command: again\n"
    add_file(kdir, "50_twice.yaml", text)
    problems = problems_of(kdir)
    assert any("duplicate key 'command'" in p for p in problems)


def test_person_answer_must_name_the_person(kdir):
    text = (
        "entries:"
        + ENTRY.format(id="who", command="who_x")
        + ("    person:\n      name: Jane Roe\n      office: {en: Clerk, es: Secretaria}\n")
    )
    add_file(kdir, "50_person.yaml", text)
    problems = problems_of(kdir)
    assert len(problems) == 2  # both languages
    assert all("the answer must name Jane Roe" in p for p in problems)


def test_every_phrasing_of_an_entry_with_needs_holds_one(kdir):
    text = "entries:" + ENTRY.format(id="counts", command="counts") + "    needs: [how many]\n"
    text = text.replace("[one question, two question,", "[how many, how many more,")
    add_file(kdir, "50_counts.yaml", text)
    problems = problems_of(kdir)
    assert len(problems) == 8  # three English phrasings and all five Spanish ones
    assert all("50_counts.yaml" in p and "counts" in p for p in problems)
    assert any("en.questions[2]" in p and "holds none of the entry's needs" in p for p in problems)


def test_file_without_entries_key_is_rejected(kdir):
    add_file(kdir, "50_bad.yaml", "questions: []\n")
    [problem] = problems_of(kdir)
    assert "single key `entries`" in problem


def test_missing_sources_file_is_reported(kdir):
    (kdir / "sources.yaml").unlink()
    problems = problems_of(kdir)
    assert any("sources.yaml" in p and "missing" in p for p in problems)


def test_lexicon_conflicts_are_reported(kdir):
    lexicon = yaml.safe_load((kdir / "lexicon.yaml").read_text(encoding="utf-8"))
    lexicon["synonyms"]["navy"].append("guns")
    (kdir / "lexicon.yaml").write_text(yaml.safe_dump(lexicon), encoding="utf-8")
    [problem] = problems_of(kdir)
    assert "lexicon.yaml" in problem
    assert "'guns'" in problem


def test_links_outside_the_knowledge_directory_are_refused(kdir, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("entries:" + ENTRY.format(id="sneaky", command="sneaky"), "utf-8")
    (kdir / "50_link.yaml").symlink_to(outside)
    [problem] = problems_of(kdir)
    assert "outside the knowledge directory" in problem


def test_missing_directory_is_reported(tmp_path):
    [problem] = problems_of(tmp_path / "nope")
    assert "not found" in problem


def test_all_problems_are_reported_at_once(kdir):
    add_file(kdir, "50_a.yaml", "entries:" + ENTRY.format(id="goal", command="a1"))
    add_file(kdir, "51_b.yaml", "entries:" + ENTRY.format(id="b", command="START"))
    assert len(problems_of(kdir)) == 2


# ------------------------------------------------------------------ content rules


def test_delegation_answer_names_every_member_with_office(knowledge):
    answer = fold(knowledge.get("delegation").en.answer)
    members = [e for e in knowledge.entries if e.person and "delegation" in e.related]
    assert len(members) == 8
    for person in members:
        assert fold(person.person.name) in answer, person.id
        assert fold(person.person.office.en).replace("mexico s ", "") in answer, person.id
    assert "eight" in answer


def test_not_covered_entries_say_so(knowledge):
    not_covered = [e for e in knowledge.entries if e.kind == "not_covered"]
    assert {"us-officials", "meeting-date", "money", "binding"} <= {e.id for e in not_covered}
    for entry in not_covered:
        assert "does not" in entry.en.answer or "no " in entry.en.answer, entry.id


def test_answers_are_not_copied_from_the_article():
    """Mirrors ../shared/tools/verbatim_check.py: no run of 12 words shared with the article."""
    article = KNOWLEDGE_DIR.parent.parent / "shared" / "article.txt"
    if not article.exists():
        pytest.skip("the source article is not beside this checkout")
    source = fold(article.read_text(encoding="utf-8")).split()
    grams = {tuple(source[i : i + 12]) for i in range(len(source) - 11)}
    for path in sorted(KNOWLEDGE_DIR.glob("*.yaml")):
        words = fold(path.read_text(encoding="utf-8")).split()
        copied = [i for i in range(len(words) - 11) if tuple(words[i : i + 12]) in grams]
        assert not copied, f"{path.name} copies: {' '.join(words[copied[0] : copied[0] + 12])}"


def test_spanish_answers_use_mexican_names_for_institutions_and_terms(knowledge):
    spanish = " ".join(entry.es.answer for entry in knowledge.entries)
    for term in (
        "Secretaría de Relaciones Exteriores",
        "Secretaría de Seguridad y Protección Ciudadana",
        "Secretaría de la Defensa Nacional",
        "Secretaría de Marina",
        "Fiscalía General de la República",
        "Sistema Nacional de Seguridad Pública",
        "Unidad para América del Norte",
        "fentanilo",
        "tráfico de armas",
        "decomisos",
        "aseguramientos",
        "detenciones",
        "responsabilidad compartida",
        "confianza mutua",
        "cooperación sin subordinación",
        "respeto a la soberanía",
        "grupo de alto nivel",
    ):
        assert term in spanish, term


def test_spanish_phrasings_come_with_and_without_accents_and_question_marks(knowledge):
    for entry in knowledge.entries:
        questions = entry.es.questions
        assert any("¿" in q for q in questions), entry.id
        assert any(any(c in q for c in "áéíóúñ") for q in questions), entry.id
        assert any(not any(c in q for c in "áéíóúñ¿") for q in questions), entry.id


def test_only_beside_must_name_lexicon_groups(kdir):
    lexicon = yaml.safe_load((kdir / "lexicon.yaml").read_text(encoding="utf-8"))
    lexicon["only_beside"] = {"usoffice": ["meet", "nosuchgroup"]}
    (kdir / "lexicon.yaml").write_text(yaml.safe_dump(lexicon), encoding="utf-8")
    [problem] = problems_of(kdir)
    assert "lexicon.yaml" in problem
    assert "'nosuchgroup'" in problem


def test_whole_off_topic_words_must_be_off_topic(kdir):
    lexicon = yaml.safe_load((kdir / "lexicon.yaml").read_text(encoding="utf-8"))
    lexicon["whole_off_topic"] = ["yourview", "fentanyl"]
    (kdir / "lexicon.yaml").write_text(yaml.safe_dump(lexicon), encoding="utf-8")
    [problem] = problems_of(kdir)
    assert "lexicon.yaml" in problem
    assert "whole_off_topic" in problem
    assert "'fentanyl'" in problem
