"""From a message and its conversation to a ``Plan``: intent, criteria and grounded products."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from mangaassist.chat.catalog_view import CatalogView
from mangaassist.chat.intents import classify
from mangaassist.chat.plan import Intent, Plan
from mangaassist.chat.recommend import recommend
from mangaassist.chat.signals import (
    find_genre,
    find_tag,
    find_volume,
    has_signal,
    mentions_latest_volume,
)
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.session import Role, Turn
from mangaassist.text.fold import fold

__all__ = ["ConversationContext", "plan_message"]

#: Series shown per recommendation, and most works listed for one author.
RECOMMENDATIONS = 3
AUTHOR_WORKS = 5


@dataclass(frozen=True, slots=True)
class ConversationContext:
    """What earlier turns tell the planner: the series in focus and what was already shown."""

    focus_id: str = ""
    shown_ids: tuple[str, ...] = ()
    last_recommend_request: str = ""

    @classmethod
    def of(cls, turns: Sequence[Turn]) -> ConversationContext:
        """The context of a conversation so far (turns in order)."""
        focus = ""
        shown: list[str] = []
        last_request = ""
        for i, turn in enumerate(turns):
            if turn.role == Role.ASSISTANT and turn.product_ids:
                focus = turn.product_ids[0]
                shown.extend(turn.product_ids)
            if (
                turn.role == Role.USER
                and turn.intent == Intent.RECOMMEND
                and not has_signal(fold(turn.text), "others")  # "他には？" repeats a request
            ):
                answered = i + 1 < len(turns) and turns[i + 1].role == Role.ASSISTANT
                if answered:
                    last_request = turn.text
        return cls(focus, tuple(dict.fromkeys(shown)), last_request)


def plan_message(
    message: str, language: str, view: CatalogView, context: ConversationContext
) -> Plan:
    """Decide what to answer; every series the plan names comes from ``view``."""
    folded = fold(message)
    series, authors = view.names_in(message)
    reading = classify(
        folded,
        titles=len(series),
        authors=len(authors),
        has_topic=context.focus_id in view.by_id and not authors,
    )
    base = Plan(intent=reading.intent, language=language)
    intent = reading.intent

    if intent == Intent.RECOMMEND:
        return _recommendation(base, folded, series, view, context, reading.asks_for_others)
    if intent in (Intent.STOCK_PRICE, Intent.TITLE_INFO):
        focus = series[0] if series else None
        used_context = False
        if focus is None and context.focus_id in view.by_id:
            focus, used_context = view.by_id[context.focus_id], True
        products = tuple(series[:RECOMMENDATIONS]) if series else ((focus,) if focus else ())
        return replace(
            base,
            focus=focus,
            products=products,
            volume=find_volume(folded),
            latest_volume=mentions_latest_volume(folded),
            used_context=used_context,
            needs_title=focus is None,
        )
    if intent == Intent.AUTHOR_WORKS and authors:
        author = authors[0]
        named = {r.id for r in series}  # "besides Hunter x Hunter": they know that one
        works = sorted(
            (view.by_id[i] for i in view.works.get(author, ()) if i not in named),
            key=lambda r: (not r.in_stock, -r.volumes, r.title),
        )
        return replace(
            base,
            author=author,
            author_en=view.author_english.get(author, author),
            products=tuple(works[:AUTHOR_WORKS]),
        )
    return base


def _recommendation(
    base: Plan,
    folded: str,
    series: list[SeriesRecord],
    view: CatalogView,
    context: ConversationContext,
    asks_for_others: bool,
) -> Plan:
    genre, tag = find_genre(folded), find_tag(folded)
    similar_to = series[0] if series else None
    exclude: tuple[str, ...] = tuple(s.id for s in series)
    follow_up = False
    if asks_for_others and context.shown_ids:
        follow_up = True
        exclude = context.shown_ids
        if context.last_recommend_request and not (genre or tag):
            earlier = fold(context.last_recommend_request)
            genre, tag = find_genre(earlier), find_tag(earlier)
            earlier_series, _ = view.names_in(context.last_recommend_request)
            similar_to = earlier_series[0] if earlier_series else None
            exclude = (*exclude, *(s.id for s in earlier_series))
    products = recommend(
        view.records,
        genre=genre,
        tag=tag,
        similar_to=similar_to,
        exclude_ids=exclude,
        limit=RECOMMENDATIONS,
    )
    return replace(
        base,
        genre=genre,
        tag=tag,
        similar_to=similar_to,
        products=tuple(products),
        follow_up=follow_up,
        used_context=follow_up,
    )
