"""Lesson 02 (the GIL): the timeline recorder, the GIL helpers and the exercise checkers."""

import contextlib
import hashlib
import math
import pickle
import sys
import sysconfig
import threading
import time

import matplotlib.pyplot as plt
import pytest

from parallel_course import timeline, workloads
from parallel_course.checks import lesson02
from parallel_course.lessons import gil
from parallel_course.timeline import Span


def spans(*pairs, worker=None):
    return [Span(worker or f"w{i}", float(a), float(b), f"task {i}") for i, (a, b) in enumerate(pairs)]


# --- timeline: spans and their arithmetic -------------------------------------------------------------


def test_span_duration_and_bad_spans():
    assert Span("w", 1.0, 3.5).duration == 2.5
    with pytest.raises(ValueError, match="cannot end .* before it starts"):
        Span("w", 2.0, 1.0)
    with pytest.raises(TypeError, match="start must be a number of seconds"):
        Span("w", "0", 1.0)


def test_slices_merge_short_steps_and_drop_long_ones():
    ticks = [0.0, 0.1, 0.2, 0.3, 1.3, 1.4, 1.5]  # one step of 1.0 s among steps of 0.1 s
    got = timeline.slices("t", ticks, "x")
    assert [(s.start, s.end) for s in got] == [(0.0, 0.3), (1.3, 1.5)]
    assert all(s.worker == "t" and s.label == "x" for s in got)
    assert timeline.slices("t", [0.0, 0.1, 0.2]) == [Span("t", 0.0, 0.2)]
    assert timeline.slices("t", [0.0]) == []


def test_slices_bad_input():
    with pytest.raises(ValueError, match="never go backwards"):
        timeline.slices("t", [0.0, 0.2, 0.1])
    with pytest.raises(ValueError, match="gap factor must be a number of at least 1"):
        timeline.slices("t", [0.0, 1.0], gap=0.5)


@pytest.mark.parametrize(("name", "given", "want"), lesson02.OVERLAP_CASES, ids=[c[0] for c in lesson02.OVERLAP_CASES])
def test_overlap_fraction(name, given, want):
    assert math.isclose(timeline.overlap_fraction(given), want, abs_tol=1e-12)


def test_concurrency_and_busy_seconds():
    assert timeline.concurrency(spans((0, 2), (0, 2))) == 2.0
    assert timeline.concurrency(spans((0, 1), (1, 2))) == 1.0
    assert timeline.concurrency(spans((0, 1)), start=0, end=4) == 0.25
    assert timeline.busy_seconds(spans((0, 1), (0, 3))) == 4.0
    with pytest.raises(ValueError, match="take no time"):
        timeline.concurrency(spans((1, 1)))


def test_bad_span_lists_give_one_sentence():
    with pytest.raises(ValueError, match="There are no spans"):
        timeline.overlap_fraction([])
    with pytest.raises(TypeError, match="Every item must be a timeline.Span"):
        timeline.overlap_fraction([(0, 1)])
    with pytest.raises(TypeError, match="Give a list of spans"):
        timeline.busy_seconds(42)


def test_turns_merge_a_workers_spans_between_hand_overs():
    given = [Span("a", 0, 1, "t0"), Span("a", 1.5, 2), Span("b", 2.5, 4, "t1"), Span("a", 4, 5, "t0")]
    got = timeline.turns(given)
    assert [(s.worker, s.start, s.end, s.label) for s in got] == [
        ("a", 0, 2.5, "t0"), ("b", 2.5, 4, "t1"), ("a", 4, 5, "t0")]


def test_workers_in_order_and_short_names():
    given = [Span("ThreadPoolExecutor-3_1", 1, 2), Span("ThreadPoolExecutor-3_0", 0, 1)]
    assert timeline.ordered_workers(given) == ["ThreadPoolExecutor-3_0", "ThreadPoolExecutor-3_1"]
    assert timeline.display_names(["ThreadPoolExecutor-3_0", "MainThread"]) == {
        "ThreadPoolExecutor-3_0": "thread 0", "MainThread": "MainThread"}
    clash = ["ThreadPoolExecutor-1_0", "ThreadPoolExecutor-2_0"]
    assert timeline.display_names(clash) == {name: name for name in clash}


# --- timeline: recording real work --------------------------------------------------------------------


def test_traced_and_chunked_record_this_thread():
    result, (span,) = timeline.Traced(workloads.square)(7, label="seven")
    assert result == 49 and span.worker == threading.current_thread().name and span.label == "seven"
    results, recorded = timeline.Chunked(workloads.cpu_bound, pieces=20)(100)
    assert results == [workloads.cpu_bound_expected(100)] * 20
    assert recorded and all(s.worker == threading.current_thread().name for s in recorded)


def test_wrappers_pickle_by_reference():
    for task in (timeline.Traced(workloads.cpu_bound), timeline.Chunked(workloads.io_bound, pieces=3)):
        copy = pickle.loads(pickle.dumps(task))
        assert copy.fn is task.fn and repr(copy) == repr(task)


def test_wrappers_bad_input():
    with pytest.raises(TypeError, match="task must be a function"):
        timeline.Traced(3)
    with pytest.raises(TypeError, match="task must be a function"):
        timeline.Chunked("cpu", pieces=2)
    with pytest.raises(ValueError, match="number of pieces must be a whole number"):
        timeline.Chunked(workloads.square, pieces=0)


def test_run_on_threads_overlaps_waits():
    rec = timeline.run("threads", timeline.Chunked(workloads.io_bound, pieces=5), [0.01] * 4, workers=2)
    assert rec.results == [[0.01] * 5] * 4
    assert len(rec.worker_names) == 2 and all(w.startswith("ThreadPoolExecutor-") for w in rec.worker_names)
    assert {s.label for s in rec.spans} == {f"task {i}" for i in range(4)}
    assert all(rec.start <= s.start <= s.end <= rec.end for s in rec.spans)
    assert timeline.overlap_fraction(rec) > 0.5  # sleeping threads wait side by side, on any machine


def test_run_repeat_keeps_the_fastest_run():
    rec = timeline.run("threads", timeline.Chunked(workloads.io_bound, pieces=2), [0.005] * 2, workers=1, repeat=3)
    assert rec.results == [[0.005] * 2] * 2 and rec.workers == 1
    assert all(rec.start <= s.start <= s.end <= rec.end for s in rec.spans)
    with pytest.raises(ValueError, match="number of repeats must be a whole number"):
        timeline.run("serial", workloads.square, [1], repeat=0)


def test_run_wraps_a_plain_function_and_rejects_bad_input():
    rec = timeline.run("serial", workloads.square, [1, 2, 3])
    assert rec.results == [1, 4, 9] and rec.worker_names == [threading.current_thread().name]
    assert rec.wall > 0 and len(rec.spans) == 3
    assert repr(rec).startswith("Recording(serial, 1 worker(s): 3 results, 3 spans, wall ")
    with pytest.raises(ValueError, match="backend must be one of"):
        timeline.run("gpu", workloads.square, [1])
    with pytest.raises(ValueError, match="task list is empty"):
        timeline.run("serial", workloads.square, [])


def test_run_in_processes_uses_one_clock(start_method):
    rec = timeline.run("processes", workloads.cpu_bound, [20_000] * 4, workers=2)
    assert rec.results == [workloads.cpu_bound_expected(20_000)] * 4
    assert all(s.worker.startswith("process ") for s in rec.spans)
    # Stamps taken in the worker processes fall inside the parent's own start and end: one clock.
    assert all(rec.start <= s.start <= s.end <= rec.end for s in rec.spans)


def test_timeline_figure():
    rec = timeline.run("threads", timeline.Traced(workloads.io_bound), [0.01] * 3, workers=2)
    fig = timeline.timeline_figure({"2 threads": rec, "by hand": spans((0, 1), (0.5, 2))}, title="Test",
                                   color_by="worker")
    try:
        assert fig._suptitle.get_text() == "Test"
        top, bottom = fig.axes[0], fig.axes[1]
        assert top.get_title().startswith("2 threads: wall time")
        assert bottom.get_xlabel() == "time since start (s)" and top.get_ylabel() == "worker"
        assert [t.get_text() for t in top.get_yticklabels()] == ["thread 0", "thread 1"]
    finally:
        plt.close(fig)
    fig = timeline.timeline_figure(rec, xlim=(0, 0.5))
    try:
        assert fig.axes[0].get_xlim() == (0, 0.5)
    finally:
        plt.close(fig)


def test_timeline_figure_bad_input():
    with pytest.raises(ValueError, match="color_by must be"):
        timeline.timeline_figure(spans((0, 1)), color_by="size")
    with pytest.raises(ValueError, match="nothing to draw"):
        timeline.timeline_figure({})
    with pytest.raises(ValueError, match="There are no spans"):
        timeline.timeline_figure({"empty": []})


# --- gil ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def pretend(monkeypatch, enabled, disabled_build):
    if enabled is None:
        monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    else:
        monkeypatch.setattr(sys, "_is_gil_enabled", lambda: enabled, raising=False)
    real = sysconfig.get_config_var
    monkeypatch.setattr(sysconfig, "get_config_var",
                        lambda name: disabled_build if name == "Py_GIL_DISABLED" else real(name))
    yield


@pytest.mark.parametrize(("enabled", "build", "want", "words"), [
    (None, None, (False, True), "standard build with the GIL"),
    (True, 0, (False, True), "standard build with the GIL"),
    (False, 1, (True, False), "GIL disabled"),
    (True, 1, (True, True), "GIL is enabled right now"),
])
def test_gil_status_on_every_kind_of_python(monkeypatch, enabled, build, want, words):
    with pretend(monkeypatch, enabled, build):
        assert (gil.free_threaded_build(), gil.gil_enabled()) == want
        assert words in gil.describe()


def recording(wall, *pairs):
    return timeline.Recording([None] * len(pairs), spans(*pairs), 0.0, wall, "threads", len(pairs))


@pytest.mark.parametrize(("work", "one", "two", "cores", "gil_on", "words"), [
    ("python", recording(1.0, (0, 1)), recording(1.0, (0, 0.5), (0.5, 1)), 2, True, "About 1×, as the GIL predicts"),
    ("python", recording(1.5, (0, 1.5)), recording(1.0, (0, 0.5), (0.5, 1)), 2, True, "1-thread run was slowed"),
    ("python", recording(1.0, (0, 1)), recording(1.5, (0, 0.5), (0.5, 1.5)), 2, True, "Well below 1×"),
    ("python", recording(2.0, (0, 2)), recording(1.0, (0, 1), (0, 1)), 2, False, "a core of its own"),
    ("wait", recording(2.0, (0, 2)), recording(1.0, (0, 1), (0, 1)), 1, True, "the waits overlapped"),
    ("wait", recording(1.2, (0, 1.2)), recording(1.0, (0, 1), (0, 1)), 2, True, "Less than the 2×"),
    ("c", recording(2.0, (0, 2)), recording(1.0, (0, 1), (0, 1)), 2, True, "a core of its own"),
    ("c", recording(1.0, (0, 1)), recording(1.0, (0, 0.5), (0.5, 1)), 2, True, "rarely ran at the same time"),
    ("c", recording(1.5, (0, 1.5)), recording(1.0, (0, 1), (0.2, 1)), 2, True, "A gain, but less than 2×"),
    ("c", recording(1.0, (0, 1)), recording(1.0, (0, 1), (0, 1)), 2, True, "nothing was gained"),
    ("c", recording(3.0, (0, 3)), recording(1.0, (0, 1), (0, 1)), 2, True, "More than 2×"),
    ("c", recording(1.0, (0, 1)), recording(1.0, (0, 0.5), (0.5, 1)), 1, True, "1 usable core"),
])
def test_describe_threads_reads_every_case(monkeypatch, work, one, two, cores, gil_on, words):
    monkeypatch.setenv("PARALLEL_COURSE_CORES", str(cores))
    monkeypatch.setattr(gil, "gil_enabled", lambda: gil_on)
    text = gil.describe_threads(one, two, work)
    assert text.startswith(f"2 threads ran {one.wall / two.wall:.2f}× as fast as 1") and words in text
    assert ("only pretends" in text) == (cores == 1 and work != "wait")


def test_describe_threads_bad_input():
    rec = recording(1.0, (0, 1))
    with pytest.raises(ValueError, match="kind of work must be one of python, wait, c"):
        gil.describe_threads(rec, rec, "gpu")
    with pytest.raises(TypeError, match="two must be a timeline.Recording"):
        gil.describe_threads(rec, spans((0, 1)), "c")


def test_wake_up_lateness_stops_its_busy_thread():
    late = gil.wake_up_lateness(naps=3, nap=0.002)
    assert len(late) == 3 and all(x > -0.001 for x in late)
    assert not any(t.name == "busy spinner" for t in threading.enumerate())
    assert len(gil.wake_up_lateness(naps=2, nap=0.001, busy=False)) == 2


def test_wake_up_lateness_bad_input():
    with pytest.raises(ValueError, match="number of naps must be a whole number"):
        gil.wake_up_lateness(naps=0)
    with pytest.raises(ValueError, match="A nap must last more than 0"):
        gil.wake_up_lateness(nap=5)


def test_thread_task_functions_have_known_answers():
    assert gil.sha256_digest(2) == hashlib.sha256(gil._payload(1) * 2).hexdigest()
    assert gil.zlib_compress(1) > 2**20  # random bytes do not compress
    assert gil.json_roundtrip(10) == 10
    assert gil.sort_numbers(10) == 0.5
    tasks = gil.thread_tasks()
    assert set(tasks) == {"python_loop", "sleep", "numpy_math", "sha256", "zlib", "json", "sorting"}
    assert tasks["sleep"]() == tasks["sleep"].size and tasks["python_loop"].threads_help is False
    for name, bad in [("sha256_digest", 0), ("zlib_compress", -1), ("json_roundtrip", 1.5), ("sort_numbers", 0)]:
        with pytest.raises(ValueError, match="must be a whole number of at least 1"):
            getattr(gil, name)(bad)


needs_libc = pytest.mark.skipif(not gil.ctypes_available(), reason="no C library with usleep here (Windows)")


@needs_libc
def test_c_naps_sleep_and_return_their_length():
    for nap in (gil.c_nap, gil.c_nap_holding_gil):
        start = time.perf_counter()
        assert nap(0.02) == 0.02
        assert time.perf_counter() - start >= 0.015


def _counting_during(nap, seconds=0.2):
    """How far a pure-Python thread counts while this thread takes one nap."""
    stop, started, count = threading.Event(), threading.Event(), [0]

    def count_up():
        started.set()
        while not stop.is_set():
            count[0] += 1

    counter = threading.Thread(target=count_up, daemon=True)
    counter.start()
    try:
        assert started.wait(5)
        before = count[0]
        nap(seconds)
        return count[0] - before
    finally:
        stop.set()
        counter.join(5)


@needs_libc
@pytest.mark.skipif(not gil.gil_enabled(), reason="without a GIL, PyDLL has nothing to keep")
def test_pydll_keeps_the_gil_and_cdll_releases_it():
    released, kept = _counting_during(gil.c_nap), _counting_during(gil.c_nap_holding_gil)
    # During a 200 ms PyDLL nap the counter can only run in the switch interval or two before the call.
    assert kept < released / 4, (released, kept)


def test_c_naps_bad_input_and_no_c_library(monkeypatch):
    for bad in (0, -0.1, 1, True, "0.1"):
        with pytest.raises(ValueError, match="A nap must last more than 0 and less than 1 second"):
            gil.c_nap(bad)
    monkeypatch.setattr(gil, "_libc", lambda holding_gil: None)
    assert not gil.ctypes_available()
    with pytest.raises(RuntimeError, match="no C library with usleep"):
        gil.c_nap_holding_gil(0.01)


# --- checkers -----------------------------------------------------------------------------------------


def right_predictions():
    return {name: task.threads_help for name, task in gil.thread_tasks().items()}


def right_gil_status():
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED")), True if is_gil_enabled is None else is_gil_enabled()


@contextlib.contextmanager
def right_switch_interval(seconds):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@contextlib.contextmanager
def leaky_switch_interval(seconds):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    yield
    sys.setswitchinterval(previous)


@contextlib.contextmanager
def swallowing_switch_interval(seconds):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    except KeyError:
        pass
    finally:
        sys.setswitchinterval(previous)


def test_right_answers_pass(strict, capsys):
    assert lesson02.check_predictions(right_predictions)
    assert lesson02.check_overlap_fraction(timeline.overlap_fraction)
    assert lesson02.check_gil_status(right_gil_status)
    assert lesson02.check_switch_interval(right_switch_interval)
    assert capsys.readouterr().out.count("✅") == 4


@pytest.mark.parametrize(("checker", "answer", "hint"), [
    (lesson02.check_predictions, lambda: {**right_predictions(), "json": True}, "1 of 7 predictions are off"),
    (lesson02.check_predictions, lambda: {"sleep": True}, "exactly the keys"),
    (lesson02.check_predictions, lambda: {**right_predictions(), "zlib": "yes"}, "True or False"),
    (lesson02.check_overlap_fraction, lambda s: 0.0, "expected 1.0000"),
    (lesson02.check_overlap_fraction, lambda s: len(s) / 0, "raised ZeroDivisionError"),
    (lesson02.check_gil_status, lambda: (False, True), "imitating Python 3.14t"),
    (lesson02.check_gil_status, lambda: True, "return a pair"),
    (lesson02.check_switch_interval, lambda s: None, "must return a context manager"),
    (lesson02.check_switch_interval, leaky_switch_interval, "finally"),
    (lesson02.check_switch_interval, swallowing_switch_interval, "disappeared"),
])
def test_wrong_answers_fail_with_a_hint(strict, checker, answer, hint):
    original = sys.getswitchinterval()
    with pytest.raises(AssertionError, match=hint):
        checker(answer)
    assert sys.getswitchinterval() == original  # the checker cleans up after a wrong answer


def test_wrong_answer_only_prints_for_a_learner(lenient, capsys):
    assert not lesson02.check_overlap_fraction(lambda s: 0.5)
    assert "❌ Overlap fraction" in capsys.readouterr().out


def test_checkers_leave_sys_as_they_found_it(strict):
    had = hasattr(sys, "_is_gil_enabled")
    get = sysconfig.get_config_var
    with pytest.raises(AssertionError):
        lesson02.check_gil_status(lambda: (True, True))
    assert hasattr(sys, "_is_gil_enabled") == had and sysconfig.get_config_var is get


def test_stubs_pass_their_hint_through(strict):
    def stub(*_):
        raise NotImplementedError("write it")

    for checker in (lesson02.check_predictions, lesson02.check_overlap_fraction, lesson02.check_gil_status,
                    lesson02.check_switch_interval):
        with pytest.raises(NotImplementedError, match="write it"):
            checker(stub)
