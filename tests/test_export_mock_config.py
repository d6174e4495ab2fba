"""Writing Step Functions Local mock-config files, read back by the engine's reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl_export.mock_config import (
    Outcome,
    Return,
    Throw,
    mock_config,
    mocked_response,
    render_mock_config,
)
from asl_export.render import ExportError
from engine.mock_config import load_mock_config

DECLINED = Throw("CardDeclined", "insufficient funds")


def test_consecutive_identical_outcomes_collapse_into_ranges() -> None:
    outcomes: list[Outcome] = [DECLINED, DECLINED, DECLINED, Return({"id": 1}), DECLINED]
    assert mocked_response(outcomes) == {
        "0-2": {"Throw": {"Error": "CardDeclined", "Cause": "insufficient funds"}},
        "3": {"Return": {"id": 1}},
        "4": {"Throw": {"Error": "CardDeclined", "Cause": "insufficient funds"}},
    }


def test_throw_without_cause_and_return_of_null() -> None:
    assert mocked_response([Throw("X"), Return(None)]) == {
        "0": {"Throw": {"Error": "X"}},
        "1": {"Return": None},
    }


def test_document_shape_and_shared_responses() -> None:
    document = mock_config(
        {
            "Happy": {"Charge": [Return({"ok": True})]},
            "Declined": {"Charge": [DECLINED], "Refund": [Return({"ok": True})]},
        },
        state_machine="Orders",
    )
    assert document == {
        "StateMachines": {
            "Orders": {
                "TestCases": {
                    "Happy": {"Charge": "Charge:Happy"},
                    "Declined": {"Charge": "Charge:Declined", "Refund": "Charge:Happy"},
                }
            }
        },
        "MockedResponses": {
            "Charge:Happy": {"0": {"Return": {"ok": True}}},
            "Charge:Declined": {
                "0": {"Throw": {"Error": "CardDeclined", "Cause": "insufficient funds"}}
            },
        },
    }


def test_merging_into_an_existing_file_keeps_its_entries() -> None:
    existing = mock_config({"A": {"S": [Return(1)]}}, state_machine="M1")
    merged = mock_config({"B": {"S": [Return(2)]}}, state_machine="M2", existing=existing)
    assert list(merged["StateMachines"]) == ["M1", "M2"]
    assert merged["MockedResponses"] == {"S:A": {"0": {"Return": 1}}, "S:B": {"0": {"Return": 2}}}
    assert existing["StateMachines"] == {"M1": {"TestCases": {"A": {"S": "S:A"}}}}


def test_response_names_never_collide() -> None:
    existing = {"StateMachines": {}, "MockedResponses": {"S:A": {"0": {"Return": 0}}}}
    document = mock_config({"A": {"S": [Return(1)]}}, state_machine="M", existing=existing)
    assert document["StateMachines"]["M"]["TestCases"]["A"] == {"S": "S:A:2"}


def test_a_state_without_outcomes_is_an_error() -> None:
    with pytest.raises(ExportError, match="test case 'A', state 'S': give at least one outcome"):
        mock_config({"A": {"S": []}}, state_machine="M")


_outcomes = st.lists(
    st.sampled_from([Return({"ok": True}), Return(None), Return([1, "x"]), DECLINED, Throw("E")]),
    min_size=1,
    max_size=8,
)


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["Happy", "Fail", "Retry"]),
        st.dictionaries(st.sampled_from(["A", "B c", "D"]), _outcomes, min_size=1, max_size=3),
        min_size=1,
        max_size=3,
    )
)
def test_engine_reader_reads_back_every_invocation(
    scenarios: dict[str, dict[str, list[Outcome]]],
) -> None:
    config = load_mock_config(json.loads(render_mock_config(scenarios, state_machine="M")))
    for case, states in scenarios.items():
        mapping = config.test_case("M", case)
        assert set(mapping) == set(states)
        for state, outcomes in states.items():
            for invocation, outcome in enumerate(outcomes):
                response = config.response_for(mapping[state], invocation)
                assert response is not None
                if isinstance(outcome, Return):
                    assert response.throw is None
                    assert response.return_ == outcome.value
                else:
                    assert response.throw is not None
                    assert (response.throw.error, response.throw.cause) == (
                        outcome.error,
                        outcome.cause,
                    )
            assert config.response_for(mapping[state], len(outcomes)) is None


def test_written_file_loads_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(render_mock_config({"Happy": {"S": [Return(1)]}}, state_machine="M"))
    config = load_mock_config(path)
    assert config.test_case("M", "Happy") == {"S": "S:Happy"}
