"""Quality floors on the labelled evaluation set, and the eval/bench tooling itself."""

from __future__ import annotations

import json

import pytest

from bot import bench, evaluation
from bot.cli import EXIT_OK, main
from bot.matching import Thresholds


@pytest.fixture(scope="module")
def matches(answerer):
    cases = evaluation.load_cases(evaluation.DEFAULT_EVAL_FILE)
    return evaluation.run_cases(answerer, cases)


def test_evaluation_set_is_big_enough_and_well_labelled(answerer):
    cases = evaluation.load_cases(evaluation.DEFAULT_EVAL_FILE)
    english = [c for c in cases if c.language == "en"]
    assert len(english) >= 250
    assert sum(not c.in_scope for c in english) >= 60
    near = [c for c in english if c.group == "decline_near"]
    assert len(near) >= sum(not c.in_scope for c in english) / 2
    spanish = [c for c in cases if c.language == "es"]
    assert len(spanish) >= 80
    assert sum(not c.in_scope for c in spanish) >= 20
    assert evaluation.unknown_labels(cases, answerer) == []
    covered = {c.expected for c in cases if c.in_scope}
    assert covered == {e.id for e in answerer.knowledge.entries}


def test_quality_floors_hold_for_every_language(matches, answerer):
    for report in evaluation.reports(evaluation.judge(matches, answerer.thresholds)):
        assert report.accuracy >= evaluation.ACCURACY_FLOOR, evaluation.format_report(report)
        assert report.decline_rate >= evaluation.DECLINE_FLOOR, evaluation.format_report(report)


def test_shipped_thresholds_are_the_calibrated_ones(matches, answerer):
    calibrated, _ = evaluation.calibrate(matches)
    shipped = answerer.thresholds
    assert (calibrated.answer, calibrated.suggest, calibrated.margin) == (
        shipped.answer,
        shipped.suggest,
        shipped.margin,
    )


def test_calibration_respects_the_decline_constraint(matches):
    thresholds, report = evaluation.calibrate(matches, min_decline=0.97)
    assert report.decline_rate >= 0.97
    assert thresholds.answer - thresholds.suggest >= 5


def test_misses_are_reported_with_scores(matches):
    report = evaluation.summarise(evaluation.judge(matches, Thresholds(answer=99, suggest=98)))
    assert report.misses
    text = evaluation.format_report(report)
    assert "expected" in text
    assert "runner-up" in text


def test_eval_command_prints_figures_and_json(capsys):
    assert main(["eval"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "in-scope top-1 accuracy" in out
    assert main(["eval", "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["reports"][0]["accuracy"] >= evaluation.ACCURACY_FLOOR


def test_eval_rejects_unknown_labels(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("en:\n  no-such-entry: [hello]\n", encoding="utf-8")
    assert main(["eval", str(path)]) == 2
    assert "no-such-entry" in capsys.readouterr().err


def test_eval_below_the_floors_exits_1(tmp_path):
    path = tmp_path / "hard.yaml"
    path.write_text("en:\n  goal: [zzz qqq]\n  decline_far: [fentanyl]\n", encoding="utf-8")
    assert main(["eval", str(path)]) == 1


def test_explain_shows_terms_candidates_and_outcome(capsys):
    assert main(["ask", "--explain", "who", "led", "the", "delegaton"]) == EXIT_OK
    out = capsys.readouterr().out
    for label in ("normalised:", "terms:", "repairs:", "candidates:", "thresholds:", "outcome:"):
        assert label in out
    assert "delegaton -> delegation" in out
    assert "outcome:     answer delegation" in out


def test_generated_knowledge_bases_are_valid_and_matchable(knowledge):
    entries, questions = bench.generate_entries(50)
    assert len(entries) == 50
    assert len(questions) == 300
    matcher = bench.Matcher(entries, bench.Analyzer(knowledge.lexicon))
    timing = bench.time_matcher(matcher, questions[:20], passes=1)
    assert timing.median_ms >= 0
