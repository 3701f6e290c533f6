"""The command line: ask, the JSON contract, check, and invalid settings."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from bot.cli import EXIT_INVALID, EXIT_OK, build_parser, main
from tests.conftest import KNOWLEDGE_DIR
from tests.fakes import TOKEN

CONTRACT_KEYS = {
    "matched",
    "entry_id",
    "score",
    "answer",
    "suggestions",
    "language",
    "context",
    "parts",
    "nearest",
}


def test_ask_prints_plain_text(capsys):
    assert main(["ask", "who", "led", "the", "delegation?"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Juan Ramón de la Fuente" in out
    assert "<b>" not in out


def test_ask_json_reads_one_question_per_line(capsys, monkeypatch):
    questions = "who led the delegation?\nweather in paris tomorrow\nmexico\n\n<b>hi</b>\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(questions))
    assert main(["ask", "--json", "-"]) == EXIT_OK
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 5
    for line in lines:
        assert set(line) == CONTRACT_KEYS
        assert isinstance(line["score"], float)
        assert "<b>" not in line["answer"] or line is lines[4]
    answered, declined, suggested = lines[0], lines[1], lines[2]
    assert answered["matched"] is True
    assert answered["entry_id"] == "delegation"
    assert declined["matched"] is False
    assert declined["entry_id"] is None
    assert declined["suggestions"] == []
    assert suggested["matched"] is False
    assert suggested["entry_id"] is None
    assert suggested["suggestions"]


def test_ask_json_single_question(capsys):
    assert main(["ask", "--json", "principles"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["entry_id"] == "principles"
    assert "mutual trust" in data["answer"]


def test_check_passes_on_the_shipped_knowledge(capsys):
    assert main(["check"]) == EXIT_OK
    assert "knowledge OK" in capsys.readouterr().out


def test_check_fails_with_exit_2_and_names_the_problem(tmp_path, capsys):
    broken = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, broken)
    (broken / "50_bad.yaml").write_text("entries:\n  - id: Bad Id\n", encoding="utf-8")
    assert main(["--knowledge", str(broken), "check"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "knowledge/50_bad.yaml:2" in err
    assert "'Bad Id'" in err


def test_knowledge_dir_from_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path / "missing"))
    assert main(["check"]) == EXIT_INVALID
    assert "not found" in capsys.readouterr().err


def test_run_refuses_to_start_on_a_broken_knowledge_base(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    broken = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, broken)
    (broken / "sources.yaml").write_text("article: [", encoding="utf-8")
    assert main(["--knowledge", str(broken), "run"]) == EXIT_INVALID
    assert "malformed YAML" in capsys.readouterr().err


def test_invalid_token_exits_2_without_showing_it(monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "secret-but-wrong-shape")
    assert main(["check"]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert "TELEGRAM_BOT_TOKEN" in captured.err
    assert "secret-but-wrong-shape" not in captured.err + captured.out


def test_run_without_token_opens_the_console(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("who led the delegation?\n"))
    assert main([]) == EXIT_OK
    out = capsys.readouterr().out
    assert "console chat" in out
    assert "TELEGRAM_BOT_TOKEN" in out
    assert "Juan Ramón de la Fuente" in out


def test_help_lists_the_subcommands():
    text = build_parser().format_help()
    for command in ("run", "chat", "ask", "check"):
        assert command in text


def test_python_dash_m_bot_is_the_same_cli():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "who is harfuch"],
        capture_output=True,
        text=True,
        check=True,
        cwd=KNOWLEDGE_DIR.parent,
    )
    assert json.loads(done.stdout)["entry_id"] == "garcia-harfuch"


@pytest.mark.parametrize("argv", [["ask"], ["frobnicate"]])
def test_bad_arguments_exit_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2


def test_ask_json_reports_the_language(capsys, monkeypatch):
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("who led the delegation\n¿quién encabezó la delegación?\n")
    )
    assert main(["ask", "--json", "-"]) == EXIT_OK
    english, spanish = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (english["language"], english["entry_id"]) == ("en", "delegation")
    assert (spanish["language"], spanish["entry_id"]) == ("es", "delegation")
    assert "Los ocho fueron" in spanish["answer"]


def test_a_decline_names_its_nearest_topic_and_keeps_suggestions_empty(capsys):
    assert main(["ask", "--json", "is sovereignty in there somewhere"]) == EXIT_OK
    reply = json.loads(capsys.readouterr().out)
    assert (reply["matched"], reply["suggestions"], reply["nearest"]) == (False, [], "principles")
