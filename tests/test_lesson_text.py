"""The text a learner reads: no authoring context leaks into lessons, exercises or solutions."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb"))
# The learner never saw the notes the course grew from, so a lesson must not point at them. (A *random* seed is
# fine: "seed" alone is allowed only as in "random seed" or "seeds".)
AUTHORING_CONTEXT = re.compile(
    r"(?<!random )\bseed\b(?!s)|\bseed_|\bseed's\b|course overview|\bthe overview\b|"
    r"\bthe original (?:example|program|script|code|version|course)|\bin the original\b",
    re.IGNORECASE)


def learner_text(path: Path) -> list[tuple[int, str]]:
    cells = json.loads(path.read_text())["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_authoring_context_in_learner_text(path):
    found = [f"cell {i}: …{m.group(0)}…" for i, text in learner_text(path) for m in AUTHORING_CONTEXT.finditer(text)]
    assert not found, f"{path.name} refers to authoring context the learner never saw: {found}"


def test_the_authoring_context_pattern_catches_the_usual_slips():
    for slip in ("The seed's example", "the course overview introduced", "worker in the original",
                 "writes seed_example.py", "As the overview says"):
        assert AUTHORING_CONTEXT.search(slip), slip
    for fine in ("a random seed", "send names, seeds or paths", "restores the original value"):
        assert not AUTHORING_CONTEXT.search(fine), fine
