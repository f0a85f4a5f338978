import pytest

from parallel_course import backends, workloads
from parallel_course.checks import lesson01


def right_cpu_share(fn, arg):
    import time

    w, c = time.perf_counter(), time.process_time()
    fn(arg)
    return (time.process_time() - c) / (time.perf_counter() - w)


def right_parallel_total(sizes, workers):
    return sum(backends.run("processes", workloads.cpu_bound, sizes, workers))


RIGHT = {
    lesson01.check_amdahl: lambda p, n: 1 / ((1 - p) + p / n),
    lesson01.check_speedup_table: lambda times: {n: (times[1] / t, times[1] / t / n) for n, t in times.items()},
    lesson01.check_cpu_share: right_cpu_share,
    lesson01.check_parallel_total: right_parallel_total,
}
WRONG = {
    lesson01.check_amdahl: (lambda p, n: p * n, "Hint: the serial part"),
    lesson01.check_speedup_table: (lambda times: {n: (t, t) for n, t in times.items()}, "speedup = T1 / Tn"),
    lesson01.check_cpu_share: (lambda fn, arg: 1.0, "io_bound"),
    lesson01.check_parallel_total: (lambda sizes, workers: 0, "expected the total"),
}


@pytest.mark.parametrize("check", RIGHT, ids=lambda c: c.__name__)
def test_right_answers_pass(check, strict, capsys):
    assert check(RIGHT[check])
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("check", WRONG, ids=lambda c: c.__name__)
def test_wrong_answers_get_a_hint_not_a_traceback(check, lenient, capsys):
    answer, hint = WRONG[check]
    assert not check(answer)
    out = capsys.readouterr().out
    assert "❌" in out and hint in out


@pytest.mark.parametrize("check", WRONG, ids=lambda c: c.__name__)
def test_wrong_answers_raise_in_strict_mode(check, strict):
    answer, hint = WRONG[check]
    with pytest.raises(AssertionError, match=hint.split()[0]):
        check(answer)


def test_errors_in_the_answer_become_hints(lenient, capsys):
    assert not lesson01.check_amdahl(lambda p, n: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_an_unsolved_stub_keeps_its_own_hint():
    def stub(p, n):
        raise NotImplementedError("The serial part stays.")

    with pytest.raises(NotImplementedError, match="serial part stays"):
        lesson01.check_amdahl(stub)


def test_a_verdict_is_truthy_and_shows_nothing_in_a_notebook(lenient):
    from parallel_course.checks import Verdict

    assert Verdict(True) and not Verdict(False)
    assert repr(Verdict(False)) == "Verdict(passed=False)"
    assert Verdict(True)._ipython_display_() is None  # IPython then sends no Out[] for it
