"""A conservative estimate of model tokens, for budgets checked before calling the model.

A budget that under-counts sends a request the model rejects or truncates mid-answer; one that
over-counts by a few percent only drops an old turn early. So every rule here errs upward. The
design documents disagree on Japanese (1.5 characters per token in one place, 1.5 tokens per
character in another); Claude-family tokenizers spend about one token per kana or common kanji
and more on rare kanji, so 1.2 per character stays on the safe side.

Costs by kind of character:

- Japanese (kana, kanji, ー, 々) and full-width forms and CJK punctuation: 1.2 tokens each.
- ASCII letters: a word of n letters costs ceil(n / 4), counted per word rather than over the
  whole run, since even "a" or "in" is a token of its own. English comes out near len / 4 to
  len / 3, a little above the usual four characters per token.
- ASCII digits: ceil(n / 3) per number, as tokenizers split numbers into short groups.
- ASCII punctuation: 1 each. Whitespace: a single space is free (it rides on the next word, as
  in " stock"); any other run costs ceil(n / 4), at least 1.
- Other letters and digits (Cyrillic, Hangul, accented Latin, circled numbers): 1 each.
- Everything else (emoji, their joiners, skin tones and selectors, symbols, marks): 2 per code
  point, so a family emoji of seven code points costs 14.

The total is never below ceil(UTF-8 bytes / 4). Each cost grows with the length of its run, so
appending text never lowers the estimate: estimate(a + b) >= max(estimate(a), estimate(b)), and
estimate(a + b) <= estimate(a) + estimate(b) + 1 (two single spaces meeting cost one token).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import regex

__all__ = ["MESSAGE_OVERHEAD_TOKENS", "estimate_messages_tokens", "estimate_tokens"]

#: Role marker and separators the API adds around every message of a conversation.
MESSAGE_OVERHEAD_TOKENS: Final = 4

#: Costs are summed in tenths of a token so 1.2 per Japanese character stays exact.
_WIDE_TENTHS: Final = 12
_PUNCTUATION_TENTHS: Final = 10
_OTHER_LETTER_TENTHS: Final = 10
_SYMBOL_TENTHS: Final = 20
_LETTERS_PER_TOKEN: Final = 4
_DIGITS_PER_TOKEN: Final = 3
_SPACES_PER_TOKEN: Final = 4
_BYTES_PER_TOKEN: Final = 4

#: Runs of ASCII letters, digits and spaces are priced by length; every other kind is priced per
#: character, and is matched one character at a time so no run swallows a neighbour of another kind.
_RUNS = regex.compile(
    r"(?P<wide>[\p{Hiragana}\p{Katakana}\p{Han}ー々〆ヶ\u3000-\u303F\u30A0-\u30FF\uFF00-\uFFEF]+)"
    r"|(?P<word>[A-Za-z]+)"
    r"|(?P<number>[0-9]+)"
    r"|(?P<space>[^\S\u3000]+)"
    r"|(?P<punctuation>[!-/:-@\[-`{-~]+)"
    r"|(?P<letter>[\p{L}\p{N}])"
    r"|(?P<symbol>.)",
    regex.DOTALL,
)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _run_tenths(kind: str, length: int) -> int:
    """Cost in tenths of a token of a run of ``length`` characters of one kind."""
    if kind == "wide":
        return _WIDE_TENTHS * length
    if kind == "word":
        return 10 * _ceil_div(length, _LETTERS_PER_TOKEN)
    if kind == "number":
        return 10 * _ceil_div(length, _DIGITS_PER_TOKEN)
    if kind == "space":
        return 0 if length == 1 else 10 * _ceil_div(length, _SPACES_PER_TOKEN)
    if kind == "punctuation":
        return _PUNCTUATION_TENTHS * length
    if kind == "letter":
        return _OTHER_LETTER_TENTHS * length
    return _SYMBOL_TENTHS * length


def estimate_tokens(text: str) -> int:
    """Estimate the model tokens of ``text``, erring high: 0 for ``""``, at least 1 otherwise.

    Japanese text of n characters is at least n tokens; English is close to len / 4, a little
    above. See the module documentation for the cost of each kind of character.
    """
    if not text:
        return 0
    tenths = 0
    for run in _RUNS.finditer(text):
        tenths += _run_tenths(run.lastgroup or "symbol", len(run.group()))
    by_kind = _ceil_div(tenths, 10)
    by_bytes = _ceil_div(len(text.encode("utf-8", "surrogatepass")), _BYTES_PER_TOKEN)
    return max(by_kind, by_bytes)


def estimate_messages_tokens(messages: Sequence[tuple[str, str]]) -> int:
    """Estimate the tokens of a conversation of ``(role, text)`` pairs, erring high.

    Each message costs its text plus ``MESSAGE_OVERHEAD_TOKENS`` for the role marker and the
    separators around it; the role name itself is covered by that overhead.
    """
    return sum(estimate_tokens(text) + MESSAGE_OVERHEAD_TOKENS for _role, text in messages)
