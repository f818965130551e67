"""EventBridge pattern conformance: every AWS-verified case of the shared test data.

A file without a suffix must match, ``_NEG`` must not, ``_EXC`` must be refused as invalid
(see the data's README.md). A missing data directory fails here; it never skips.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import json5
import pytest

from mangaassist.events.patterns import (
    InvalidEventPattern,
    compile_pattern,
    matches,
    merge_duplicate_keys,
    validate_pattern,
)

#: A copy of ../shared/testdata/eventbridge-patterns (LocalStack's AWS-verified cases, Apache-2.0,
#: attribution in its README and LICENSE), kept in the repository so any clone can run it.
DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "eventbridge-patterns"
CASES = sorted(DATA_DIR.glob("*.json5"))
#: 66 matches, 51 non-matches, 38 invalid patterns, as delivered with the data.
EXPECTED_KINDS = {"match": 66, "no match": 51, "invalid": 38}


def _kind(path: Path) -> str:
    if path.stem.endswith("_EXC"):
        return "invalid"
    return "no match" if path.stem.endswith("_NEG") else "match"


def test_all_cases_are_present() -> None:
    assert DATA_DIR.is_dir(), f"the AWS-verified pattern cases are missing: {DATA_DIR}"
    assert Counter(_kind(path) for path in CASES) == EXPECTED_KINDS


# With the directory gone, the placeholder case fails on reading instead of pytest skipping an
# empty parameter set.
@pytest.mark.parametrize("path", CASES or [DATA_DIR / "missing.json5"], ids=lambda p: p.name)
def test_aws_verified_case(path: Path) -> None:
    case = json5.loads(path.read_text(encoding="utf-8"))
    pattern, event = case["EventPattern"], case["Event"]

    if _kind(path) == "invalid":
        with pytest.raises(InvalidEventPattern):
            validate_pattern(pattern)
        with pytest.raises(InvalidEventPattern):
            matches(pattern, event)
    else:
        expected = _kind(path) == "match"
        assert matches(pattern, event) is expected
        assert compile_pattern(pattern).matches(event) is expected


def test_a_repeated_key_keeps_its_last_condition_as_aws_documents() -> None:
    # Given the documented pattern that names "location" twice (prefix "us-", then anything-but
    # "us-east"), read with duplicates kept, and an event from eu-central-1
    event = json.loads((DATA_DIR / "complex_multi_key_event.json").read_text(encoding="utf-8"))
    text = (DATA_DIR / "complex_multi_key_event_pattern.json").read_text(encoding="utf-8")
    pattern = json.loads(text, object_pairs_hook=merge_duplicate_keys)

    # Then only the last condition counts, and it matches
    assert pattern == {"detail": {"location": [{"anything-but": "us-east"}]}}
    assert matches(pattern, event)
    assert compile_pattern(pattern).matches(event)
    # (the first condition alone would have refused the event)
    assert not matches({"detail": {"location": [{"prefix": "us-"}]}}, event)
