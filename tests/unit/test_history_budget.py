"""The history budget: which earlier turns reach the model within an input-token budget."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mangaassist.domain.history import HistoryBudget
from mangaassist.domain.session import Role, Turn

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def turns_of(*texts: str) -> list[Turn]:
    """Turns alternating user/assistant; each text's length is its token cost under ``len``."""
    roles = (Role.USER, Role.ASSISTANT)
    return [Turn(roles[i % 2], text, T0) for i, text in enumerate(texts)]


def texts(turns: list[Turn]) -> list[str]:
    return [turn.text for turn in turns]


def budget(max_tokens: int) -> HistoryBudget:
    return HistoryBudget(max_tokens, len)


def test_everything_is_sent_when_it_fits() -> None:
    history = turns_of("aaaa", "bbbb", "cccc", "dddd", "eeee", "ffff")

    assert budget(24).select(history) == history


def test_cost_is_the_sum_of_the_estimates() -> None:
    assert budget(100).cost(turns_of("ab", "cde", "")) == 5


def test_keeps_first_last_three_and_the_newest_middle_turns_that_fit() -> None:
    # Given 8 turns of 10 tokens and room for 7 of them
    history = turns_of(*(c * 10 for c in "abcdefgh"))

    # When the budget is applied
    chosen = budget(70).select(history)

    # Then the oldest middle turn ("b") is the one dropped and order is kept
    assert texts(chosen) == [c * 10 for c in "acdefgh"]


def test_only_first_and_last_three_when_no_middle_turn_fits() -> None:
    history = turns_of(*(c * 10 for c in "abcdefgh"))

    assert texts(budget(45).select(history)) == [c * 10 for c in "afgh"]


def test_middle_turns_stop_at_the_first_that_does_not_fit() -> None:
    # The newest middle turn ("d", 30 tokens) is too big; older small ones are not skipped to.
    history = turns_of("a", "b", "c", "d" * 30, "e", "f", "g")

    assert texts(budget(10).select(history)) == ["a", "e", "f", "g"]


def test_a_big_first_turn_is_still_kept_when_it_fits() -> None:
    history = turns_of("A" * 50, "b" * 10, "c" * 10, "d" * 5, "e" * 5, "f" * 5)

    assert texts(budget(75).select(history)) == ["A" * 50, "c" * 10, "d" * 5, "e" * 5, "f" * 5]


def test_reserved_tokens_reduce_the_budget() -> None:
    history = turns_of(*(c * 10 for c in "abcdef"))
    whole = budget(60)

    assert whole.select(history) == history
    assert texts(whole.select(history, reserved=10)) == [c * 10 for c in "acdef"]
    assert texts(whole.select(history, reserved=20)) == [c * 10 for c in "adef"]


def test_most_recent_turns_when_first_and_last_three_do_not_fit() -> None:
    # The first turn plus the last three is 40 tokens, over a budget of 25.
    history = turns_of(*(c * 10 for c in "abcdef"))

    assert texts(budget(25).select(history)) == [c * 10 for c in "ef"]


def test_most_recent_turns_stop_at_a_turn_too_big_to_fit() -> None:
    history = turns_of("a" * 5, "b" * 5, "c" * 5, "d" * 50, "e" * 5, "f" * 5)

    assert texts(budget(20).select(history)) == ["e" * 5, "f" * 5]


def test_nothing_when_the_last_turn_alone_is_too_big() -> None:
    history = turns_of("a", "b", "c", "d" * 100)

    assert budget(50).select(history) == []


def test_empty_history_selects_nothing() -> None:
    assert budget(1000).select([]) == []


def test_zero_or_negative_budget_selects_nothing() -> None:
    history = turns_of("a", "b")

    assert budget(0).select(history) == []
    assert budget(-5).select(history) == []
    assert budget(10).select(history, reserved=10) == []
    assert budget(10).select(history, reserved=50) == []


def test_short_conversations_over_budget_keep_the_newest() -> None:
    # With two turns, "first + last three" is the whole conversation.
    history = turns_of("a" * 10, "b" * 10)

    assert texts(budget(15).select(history)) == ["b" * 10]


def test_selection_keeps_the_turn_objects_and_their_product_ids() -> None:
    # "その2巻は？" needs the assistant turn that showed the series to survive the budget.
    shown = Turn(Role.ASSISTANT, "x" * 10, T0, product_ids=("MNG-AAAAAAAA",))
    a, b, *rest = turns_of(*(c * 10 for c in "abdefg"))
    history = [a, b, shown, *rest]

    chosen = budget(60).select(history)

    assert chosen == [a, shown, *rest]
    assert chosen[1] is shown
    assert chosen[1].product_ids == ("MNG-AAAAAAAA",)


def _is_subsequence(part: list[Turn], whole: list[Turn]) -> bool:
    positions = iter(range(len(whole)))
    return all(any(whole[i] is turn for i in positions) for turn in part)


@given(
    lengths=st.lists(st.integers(min_value=0, max_value=60), max_size=25),
    max_tokens=st.integers(min_value=-10, max_value=400),
    reserved=st.integers(min_value=0, max_value=100),
)
def test_selection_is_an_ordered_subsequence_within_budget(
    lengths: list[int], max_tokens: int, reserved: int
) -> None:
    history = [Turn(Role.USER, "x" * n, T0, request_id=str(i)) for i, n in enumerate(lengths)]
    chooser = budget(max_tokens)
    limit = max_tokens - reserved

    chosen = chooser.select(history, reserved=reserved)

    assert _is_subsequence(chosen, history)
    assert not chosen or chooser.cost(chosen) <= limit
    if history and len(history[-1].text) <= limit and limit > 0:
        assert chosen
        assert chosen[-1] is history[-1]
