"""ISBN-13 check digits."""

from __future__ import annotations

__all__ = ["is_valid_isbn13", "isbn13_check_digit"]


def isbn13_check_digit(first12: str) -> str:
    """The check digit that completes the 12 leading digits of an ISBN-13."""
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_isbn13(isbn: str) -> bool:
    """True for 13 ASCII digits whose last digit is the ISBN-13 check digit."""
    return (
        len(isbn) == 13
        and isbn.isascii()
        and isbn.isdigit()
        and isbn13_check_digit(isbn[:12]) == isbn[12]
    )
