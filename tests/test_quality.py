"""Answer quality on the labelled sets (held-out floors, calibration) and the eval/bench tooling."""

from __future__ import annotations

import json

import pytest

from bot.cli import EXIT_OK, main
from bot.core.matching import Thresholds
from bot.tools import bench, evaluation

# What `agreement-bot eval` measured on the held-out halves (real.yaml to real54.yaml together)
# at the end of the tenth session of 2026-12-03: en 91.6% (2449/2673) / 95.3% (858/900)
# declined, es 93.0% (2394/2573) / 95.8% (840/877); when real51-real54 joined them, before any
# change, en 91.5% (2446/2673) and es 93.0% (2393/2573) in scope. On twenty-six files these
# were 92.4% / 93.2% in scope; the files added as they came since (formal professionals at 74%
# / 67%, older adults at 81% / 88%, voice notes and hedged askers at 86% / 87% in English)
# brought them down:
# English in scope is under issue 10's own floor (92%); see
# test_held_out_half_meets_the_issue_targets. The ratchets keep what was measured.
HELD_OUT_RATCHET = {
    "en": {"accuracy": 0.91, "decline_rate": 0.95},
    "es": {"accuracy": 0.92, "decline_rate": 0.95},
}
MAX_GAP_RATCHET = 0.04  # the issue's own target, met since the third session of 2026-12-03
# fresh.yaml was measured once after the tuning (README); these floors keep the latest
# reading (English 95.8% since the sixth session of 2026-12-03).
FRESH_RATCHET = {
    "en": {"accuracy": 0.95, "decline_rate": 0.99},
    "es": {"accuracy": 0.98, "decline_rate": 0.99},
}
LOO_FLOOR = 0.89  # leave-one-out over the knowledge base's own phrasings, in each language


@pytest.fixture(scope="module")
def realistic(answerer):
    halves = evaluation.split_cases(evaluation.load_realistic())
    return {name: evaluation.run_cases(answerer, cases) for name, cases in halves.items()}


@pytest.fixture(scope="module")
def tuning_sets(answerer):
    return {
        path.name: evaluation.run_cases(answerer, evaluation.load_cases(path))
        for path in evaluation.TUNING_FILES
    }


def _by_language(scored, answerer):
    return evaluation.by_language(evaluation.judge(scored, answerer.thresholds))


def test_realistic_set_is_big_enough_and_well_labelled(answerer):
    cases = evaluation.load_cases(evaluation.REAL_EVAL_FILE)
    assert len(cases) >= 250
    assert sum(c.language == "es" for c in cases) >= 80
    outside = [c for c in cases if not c.in_scope]
    assert len(outside) >= 60
    assert sum(c.group == "decline_near" for c in outside) >= len(outside) / 2
    assert evaluation.unknown_labels(cases, answerer) == []
    kinds = {c.expected for c in cases if c.in_scope}
    assert kinds == {e.id for e in answerer.knowledge.entries}


def test_the_split_is_a_fixed_rule_of_the_text_alone():
    cases = evaluation.load_cases(evaluation.REAL_EVAL_FILE)
    halves = evaluation.split_cases(cases)
    assert len(halves["tuning"]) + len(halves["held-out"]) == len(cases)
    for half in halves.values():
        assert len(half) >= 0.4 * len(cases)
        assert {c.language for c in half} == {"en", "es"}
    # the same text lands in the same half wherever it sits and however it is capitalised
    question = cases[0].question
    assert evaluation.half_of(question) == evaluation.half_of(question.upper() + " ")


def test_every_other_file_is_labelled_with_entry_ids(answerer):
    for path in (*evaluation.TUNING_FILES, evaluation.FRESH_EVAL_FILE, *evaluation.REAL_EVAL_FILES):
        assert evaluation.unknown_labels(evaluation.load_cases(path), answerer) == [], path


def test_held_out_half_keeps_its_floors_in_each_language(realistic, answerer):
    held_out = _by_language(realistic["held-out"], answerer)
    for language, floors in HELD_OUT_RATCHET.items():
        report = held_out[language]
        for figure, floor in floors.items():
            assert getattr(report, figure) >= floor, evaluation.format_report(report)


def test_tuning_and_held_out_halves_stay_close(realistic, answerer):
    tuning = _by_language(realistic["tuning"], answerer)
    held_out = _by_language(realistic["held-out"], answerer)
    for language in ("en", "es"):
        for figure in ("accuracy", "decline_rate"):
            gap = getattr(tuning[language], figure) - getattr(held_out[language], figure)
            assert gap <= MAX_GAP_RATCHET, (language, figure, gap)


def test_fresh_set_keeps_its_floors_in_each_language(answerer):
    scored = evaluation.run_cases(answerer, evaluation.load_cases(evaluation.FRESH_EVAL_FILE))
    fresh = _by_language(scored, answerer)
    for language, floors in FRESH_RATCHET.items():
        for figure, floor in floors.items():
            assert getattr(fresh[language], figure) >= floor, evaluation.format_report(
                fresh[language]
            )


@pytest.mark.xfail(
    strict=True,
    reason="issue 10 is open: on the held-out halves English is 91.6% (2449/2673) in scope, "
    "under the 92% floor, since real27-real54 joined them; strict, so meeting the floors "
    "fails here until this mark is removed",
)
def test_held_out_half_meets_the_issue_targets(realistic, answerer):
    """Issue 10's floors: >= 92% in scope and >= 95% declined on the held-out halves, in each
    language, and a tuning-to-held-out gap of at most 4 points."""
    problems = evaluation.split_problems(
        _by_language(realistic["tuning"], answerer), _by_language(realistic["held-out"], answerer)
    )
    assert problems == []


def test_first_evaluation_set_keeps_its_floors(tuning_sets, answerer):
    scored = tuning_sets[evaluation.DEFAULT_EVAL_FILE.name]
    for report in evaluation.reports(evaluation.judge(scored, answerer.thresholds)):
        assert report.accuracy >= evaluation.ACCURACY_FLOOR, evaluation.format_report(report)
        assert report.decline_rate >= evaluation.DECLINE_FLOOR, evaluation.format_report(report)


def test_shipped_thresholds_are_the_calibrated_ones(realistic, tuning_sets, answerer):
    """Calibrated on everything but the held-out half, which never tunes anything."""
    tuned = [*realistic["tuning"], *(s for found in tuning_sets.values() for s in found)]
    calibrated, report = evaluation.calibrate(tuned)
    shipped = answerer.thresholds
    assert (calibrated.answer, calibrated.suggest, calibrated.margin, calibrated.anchored) == (
        shipped.answer,
        shipped.suggest,
        shipped.margin,
        shipped.anchored,
    )
    assert report.decline_rate >= 0.96
    assert calibrated.answer - calibrated.suggest >= 5


@pytest.fixture(scope="module")
def loo_results(answerer):
    return evaluation.leave_one_out(answerer)  # slow: run once for the module


def test_leave_one_out_reaches_most_entries_from_the_other_phrasings(answerer, loo_results):
    results = loo_results
    assert len(results) == sum(
        len(e.text(lang).questions) for e in answerer.knowledge.entries for lang in ("en", "es")
    )
    found = evaluation.by_language(results)
    for report in found.values():
        assert report.accuracy >= LOO_FLOOR, evaluation.format_report(report)


def test_misses_are_reported_with_scores(tuning_sets):
    scored = tuning_sets[evaluation.DEFAULT_EVAL_FILE.name]
    report = evaluation.summarise(evaluation.judge(scored, Thresholds(answer=99, suggest=98)))
    assert report.misses
    text = evaluation.format_report(report)
    assert "expected" in text
    assert "runner-up" in text


def test_small_talk_is_judged_as_production_answers_it(answerer):
    cases = [
        evaluation.Case("hello", evaluation.DECLINE, "en", "decline_far"),
        evaluation.Case("hello, who led the delegation?", "delegation", "en", "delegation"),
    ]
    results = evaluation.judge(evaluation.run_cases(answerer, cases), answerer.thresholds)
    assert [r.outcome for r in results] == [evaluation.SMALL_TALK, "answer"]
    assert all(r.correct for r in results)


def test_the_evaluation_judges_exactly_what_production_answers(realistic, tuning_sets, answerer):
    """Scoring matches once and applies the thresholds later (so calibration is cheap); that
    must give the outcome the real `answer()` gives, message by message."""
    production_kind = {"info": "decline", "smalltalk": evaluation.SMALL_TALK}
    scored = [*realistic["tuning"], *realistic["held-out"], *tuning_sets["more.yaml"]]
    for result in evaluation.judge(scored, answerer.thresholds):
        reply = answerer.answer(result.case.question)
        assert production_kind.get(reply.kind, reply.kind) == result.outcome, result.case
        if reply.kind == "answer":
            assert reply.entry_id == result.entry_id, result.case
        assert reply.language == result.language or result.neutral, result.case


def test_eval_command_prints_both_halves_side_by_side(capsys):
    code = main(["eval"])
    out = capsys.readouterr().out
    assert code in (EXIT_OK, 1)
    header = out.splitlines()[1]
    for column in ("tuning", "held-out", "fresh.yaml", "more.yaml", "fourth.yaml", "eval.yaml"):
        assert column in header
    assert "in-scope right" in out
    assert "held-out and fresh misses are not shown" in out
    assert main(["eval", "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert set(data["held-out"]) == {"all", "en", "es"}
    assert "misses" not in data["held-out"]["all"]


def test_eval_of_one_file_prints_figures_and_json(capsys):
    path = evaluation.DEFAULT_EVAL_FILE
    assert main(["eval", str(path)]) == EXIT_OK
    assert "in-scope top-1 accuracy" in capsys.readouterr().out
    assert main(["eval", str(path), "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["reports"][0]["accuracy"] >= evaluation.ACCURACY_FLOOR


def test_eval_loo_prints_figures(capsys, monkeypatch, loo_results):
    monkeypatch.setattr(evaluation, "leave_one_out", lambda answerer: loo_results)
    assert main(["eval", "--loo"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "leave-one-out" in out
    assert "[en] reached its entry" in out


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
    assert matcher.match(questions[0]).best is not None


def test_long_messages_for_the_benchmark_are_long_and_reproducible():
    questions = ["who led the delegation?", "¿qué acordaron?"]
    messages = bench.long_messages(questions, count=20)
    assert messages == bench.long_messages(questions, count=20)
    assert all(bench.LONG_MIN <= len(m) <= bench.LONG_MAX for m in messages)


def test_a_decline_offering_the_labelled_topic_is_not_flat(answerer):
    case = evaluation.Case("is sovereignty in there somewhere", "principles", "en", "principles")
    [result] = evaluation.judge(evaluation.run_cases(answerer, [case]), answerer.thresholds)
    assert (result.outcome, result.closest) == ("decline", "principles")
    report = evaluation.summarise([result], "en")
    assert (report.accuracy, report.flat_decline_rate, report.right_topic_rate) == (0, 0, 1)
