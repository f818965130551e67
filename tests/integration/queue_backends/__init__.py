"""Fixtures of the queue conformance suite, one module per backend.

A backend module ``NAME`` defines the fixtures ``NAME_queue`` (a client), ``NAME_clients`` (makes
more clients on the same queues, as other processes would have), ``NAME_elapse`` (lets time pass
for the backend), ``NAME_child_spec`` (the arguments a child process opens it with) and the
function ``open_child(args)`` that a child process (``queue_fixtures``) calls with those
arguments after the name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mangaassist.queues.base import QueueBackend

__all__ = ["ChildSpec", "Clients", "Elapse"]

Elapse = Callable[[float], Awaitable[None]]
Clients = Callable[[], QueueBackend]
ChildSpec = Callable[[], list[str]]
