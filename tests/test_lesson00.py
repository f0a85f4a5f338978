"""Lesson 00's course map and setup check agree with the lessons that exist."""

import json
import re
from pathlib import Path

from parallel_course.tools import setup_check

ROOT = Path(__file__).resolve().parents[1]
MAP_ROW = re.compile(r"^\| (\d\d) \| (.+) \| (ready|coming)[^|]*\|$")


def course_map() -> dict[int, tuple[str, str]]:
    notebook = json.loads((ROOT / "notebooks" / "00_welcome_and_setup.ipynb").read_text(encoding="utf-8"))
    rows = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if match := MAP_ROW.match(line):
                    rows[int(match[1])] = (match[2], match[3])
    return rows


def test_course_map_lists_every_lesson_once():
    assert sorted(course_map()) == list(range(13))


def test_course_map_says_ready_for_exactly_the_lessons_that_exist():
    existing = sorted(int(path.name[:2]) for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    ready = sorted(number for number, (_, status) in course_map().items() if status == "ready")
    assert ready == existing, "Update the course map in lesson 00 (and setup_check.READY_UNTIL) for new lessons."
    assert max(ready) == setup_check.READY_UNTIL


def test_course_map_promises_no_dates():
    for topic, _ in course_map().values():
        assert not re.search(r"\b20\d\d\b|\b(spring|summer|autumn|winter|soon)\b", topic, re.IGNORECASE), topic
