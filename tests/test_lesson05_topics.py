"""Lesson 05's extra topics: an exception that cannot make the pickle round trip, and one that can."""

import multiprocessing
import pickle
import subprocess
import sys
import textwrap

import pytest

from parallel_course.lessons import futures_demo


def in_a_fresh_python(code: str) -> None:
    """Run ``code`` in a new interpreter: importing dask.distributed (other tests do) installs tblib's pickling
    support for every exception class, which makes even ``TwoPartError`` travel, so this process cannot show it."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_two_part_error_pickles_but_does_not_unpickle():
    in_a_fresh_python("""
        import pickle
        from parallel_course.lessons import futures_demo
        data = pickle.dumps(futures_demo.TwoPartError(3, 0))
        try:
            pickle.loads(data)
        except TypeError:
            pass
        else:
            raise SystemExit("TwoPartError made the round trip")
    """)


def test_fixed_two_part_error_survives_the_round_trip():
    error = pickle.loads(pickle.dumps(futures_demo.FixedTwoPartError(3, 0)))
    assert isinstance(error, futures_demo.FixedTwoPartError)
    assert (error.numerator, error.denominator, str(error)) == (3, 0, "3/0")


def test_the_raisers_raise_their_exceptions():
    with pytest.raises(futures_demo.TwoPartError, match="3/0"):
        futures_demo.raise_two_part_error(3)
    with pytest.raises(futures_demo.FixedTwoPartError):
        futures_demo.raise_fixed_two_part_error(3)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork for a quick pool")
def test_an_unpicklable_exception_breaks_the_pool_and_a_fixed_one_does_not():
    in_a_fresh_python("""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool
        from parallel_course.lessons import futures_demo
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
            broke = executor.submit(futures_demo.raise_two_part_error, 3).exception(timeout=60)
        assert isinstance(broke, BrokenProcessPool), repr(broke)
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
            error = executor.submit(futures_demo.raise_fixed_two_part_error, 3).exception(timeout=60)
        assert isinstance(error, futures_demo.FixedTwoPartError) and str(error) == "3/0", repr(error)
    """)
