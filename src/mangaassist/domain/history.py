"""The history budget: which earlier turns go to the model, within an input-token budget.

From the design documents' sync-timeout runbook: long conversations made the prompt, and so the
model's latency, grow without bound. The budget keeps the first turn (it sets the topic), the last
three (the immediate context) and then as many of the most recent middle turns as still fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mangaassist.domain.session import Turn

__all__ = ["HistoryBudget"]

#: Turns always kept from the end of the conversation.
RECENT_TURNS = 3


class HistoryBudget:
    """Selects history turns whose estimated tokens fit ``max_tokens``."""

    def __init__(self, max_tokens: int, estimate: Callable[[str], int]) -> None:
        self.max_tokens = max_tokens
        self._estimate = estimate

    def cost(self, turns: Sequence[Turn]) -> int:
        """Estimated tokens of ``turns``."""
        return sum(self._estimate(turn.text) for turn in turns)

    def select(self, turns: Sequence[Turn], reserved: int = 0) -> list[Turn]:
        """The turns to send, in conversation order, fitting ``max_tokens - reserved``.

        ``reserved`` is what the new message and the system prompt already use. When even the
        first and last three turns do not fit, the most recent turns that fit are kept.
        """
        budget = self.max_tokens - reserved
        if budget <= 0 or not turns:
            return []
        costs = [self._estimate(turn.text) for turn in turns]
        if sum(costs) <= budget:
            return list(turns)
        mandatory = {0, *range(max(1, len(turns) - RECENT_TURNS), len(turns))}
        if sum(costs[i] for i in mandatory) > budget:
            return self._most_recent_that_fit(turns, costs, budget)
        chosen = set(mandatory)
        used = sum(costs[i] for i in mandatory)
        for i in range(len(turns) - RECENT_TURNS - 1, 0, -1):  # newest middle turns first
            if used + costs[i] > budget:
                break
            chosen.add(i)
            used += costs[i]
        return [turns[i] for i in sorted(chosen)]

    @staticmethod
    def _most_recent_that_fit(turns: Sequence[Turn], costs: list[int], budget: int) -> list[Turn]:
        kept: list[Turn] = []
        used = 0
        for turn, cost in zip(reversed(turns), reversed(costs), strict=True):
            if used + cost > budget:
                break
            kept.append(turn)
            used += cost
        return kept[::-1]
