"""Issue 17 item 8: the benchmark's verdict per bar (OK/OVER) and its exit status: a full run that misses a
bar fails loudly; the small run (`make test`) prints OVER but never fails the build."""

import pytest

from bench import run


@pytest.fixture(autouse=True)
def fresh_results(monkeypatch):
    monkeypatch.setattr(run, "RESULTS", [])
    monkeypatch.setattr(run, "OVER", [])


def test_a_bar_at_its_limit_is_ok_and_just_over_is_over(capsys):
    run.line("PERF-1", 1.5, 1.5, "our=1.5s base=1.0s")
    run.line("PERF-3", 2.01, 2.0, "our=2.01s base=1.0s")
    out = capsys.readouterr().out.splitlines()
    assert out == ["PERF-1 ratio=1.50 limit=1.5 OK (our=1.5s base=1.0s)",
                   "PERF-3 ratio=2.01 limit=2.0 OVER (our=2.01s base=1.0s)"]


def test_a_missed_condition_besides_the_ratio_is_over(capsys):
    run.line("PERF-5 compliance", 1.2, 2.2, "queries VARY [3, 4]", missed=True)
    assert " OVER " in capsys.readouterr().out


def test_full_run_exits_non_zero_with_a_banner_when_a_bar_is_missed(capsys):
    run.line("PERF-1", 1.2, 1.5, "")
    assert run.verdict(small=False) == 0
    run.line("PERF-4 portal", 1.3, 1.0, "p95=130ms")
    assert run.verdict(small=False) == 1
    captured = capsys.readouterr()
    assert "!!! OVER: 1 bar(s) of SPEC §9 missed" in captured.out and "PERF-4 portal" in captured.err


def test_a_run_that_judged_no_bar_says_so(capsys):
    """`--only PERF-5 --sizes 500000` prints figures only: no "ALL OK: 0 bar(s)"."""
    assert run.verdict(small=False) == 0
    out = capsys.readouterr().out
    assert "no bar was measured" in out and "ALL OK" not in out


def test_small_run_prints_over_but_exits_zero(capsys):
    run.line("PERF-4 portal", 3.0, 1.0, "")
    assert run.verdict(small=True) == 0
    assert "OVER in 1 bar(s) of the small run" in capsys.readouterr().out


def test_small_run_refuses_the_full_city_database(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["run.py", "--small", "--database-url", run.FULL_DATABASE])
    assert run.main() == 2
    assert "bureau_bench_small" in capsys.readouterr().err
