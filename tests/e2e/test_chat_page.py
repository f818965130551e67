"""The chat page in a real Chromium against a served MangaAssist, as a customer uses it.

Every test reads the page through the stable hooks of docs/chat-page.md. The server paces the
offline responder at 40 ms per delta, so an answer streams over a second or two: long enough to
drop the network, hide the tab or kill the server in the middle of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Locator, Page, Request, WebSocket, expect

from tests.conftest import require_service
from tests.e2e.browser import (
    SHORT_TIMING,
    ChatPage,
    RestartableServer,
    chromium_problem,
    launch_chromium,
    page_server_env,
    squeeze,
)
from tests.e2e.conftest import Server, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ISEKAI_JA = "おすすめの異世界マンガは？"
HORROR_EN = "Any good horror manga?"
#: Questions asked once in this module: a repeated question is answered from the response cache
#: and arrives at once, with nothing left to interrupt.
SPORTS_JA = "おすすめのスポーツ漫画は？"
TEARJERKER_JA = "泣ける漫画が読みたい"
#: Notices a dead socket within half a second (a ping every 300 ms, 200 ms for its pong) and
#: reconnects patiently enough to outlast a 1.5 s network drop.
PATIENT_TIMING: dict[str, int] = {
    "backoffBaseMs": 200,
    "backoffMaxMs": 1000,
    "maxAttempts": 10,
    "pingIntervalMs": 300,
    "pongTimeoutMs": 200,
}
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One Chromium profile for the module, Japanese like most of the shop's customers."""
    require_service("Chromium", chromium_problem)
    with launch_chromium(tmp_path_factory.mktemp("chromium-profile")) as browser_context:
        yield browser_context


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("chat-page")
    with start_server(page_server_env(home), home) as running:
        yield running


@pytest.fixture
def chat(context: BrowserContext, chat_server: Server) -> Iterator[ChatPage]:
    """A new tab on the page with a fresh conversation."""
    page = ChatPage.open(context, f"{chat_server.base_url}/")
    yield page
    page.close()


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("MANGAASSIST_TEST_OUTPUT")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("chat-page-output")


def rest_answer(server: Server, question: str, language: str) -> dict[str, Any]:
    """The answer ``POST /v1/chat`` gives to ``question`` as the first of a new session."""
    body = {"message": question, "preferredLanguage": language}
    response = httpx.post(f"{server.base_url}/v1/chat", json=body, timeout=10)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def resumes(base_url: str) -> float:
    """Streams resumed so far, over every transport (from ``/metrics``)."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("mangaassist_stream_resumes_total")
    )


def card_titles(reply: Locator) -> list[str]:
    return [t.strip() for t in reply.locator(".product-card .product-title-ja").all_inner_texts()]


def assert_cards(reply: Locator, *, in_stock: str, out_of_stock: str) -> None:
    """Every card shows a Japanese title, a yen price and a stock badge in the answer's words."""
    cards = reply.locator(".product-card")
    expect(cards.first).to_be_visible()
    for card in cards.all():
        expect(card.locator(".product-title-ja")).not_to_have_text("")
        expect(card.locator(".product-price")).to_contain_text("¥")
        badge = card.locator(".stock-badge")
        shown = badge.inner_text().strip()
        assert shown in {in_stock, out_of_stock}, f".stock-badge text {shown!r}"
        expected = "true" if shown == in_stock else "false"
        assert badge.get_attribute("data-in-stock") == expected, f"badge {shown!r}"


def assert_shown_once(chat: ChatPage, index: int, final_text: str) -> None:
    """Every text the ``index``-th answer showed while streaming was a start of the final one.

    The page replaces the streamed text with ``done.answer.message`` at the end, so a delta
    shown twice is only visible while the answer streams.
    """
    final = squeeze(final_text)
    wrong = [
        s["text"] for s in chat.stream_samples(index) if not final.startswith(squeeze(s["text"]))
    ]
    assert not wrong, f"streamed text that is not a start of the answer: {wrong[:3]}"


def assert_streamed(chat: ChatPage, index: int, final_text: str) -> None:
    """The ``index``-th answer was busy while its text grew, before it was complete."""
    assert_shown_once(chat, index, final_text)
    samples = chat.stream_samples(index)
    lengths = [len(s["text"]) for s in samples if s["busy"] == "true" and s["text"]]
    summary = [(s["busy"], s["state"], len(s["text"])) for s in samples]
    assert len(set(lengths)) >= 2, f"no growing text while aria-busy=true: {summary}"
    assert lengths == sorted(lengths), f"text shrank while streaming: {summary}"
    assert min(lengths) < len(final_text), summary
    assert samples[-1]["state"] == "complete", summary


def test_japanese_and_english_questions_stream_answers_with_product_cards(
    chat: ChatPage, chat_server: Server
) -> None:
    # Given a Japanese customer on the page
    chat.record_stream()
    # When they type a question and press Enter
    reply = chat.send(ISEKAI_JA)
    chat.wait_complete(reply)
    # Then the answer streamed in, in Japanese, with the cards of the products it talks about
    text = reply.locator(".message-text").inner_text()
    assert_streamed(chat, 1, text)
    expect(reply).to_have_attribute("lang", "ja")
    rest = rest_answer(chat_server, ISEKAI_JA, "ja")
    assert squeeze(text) == squeeze(rest["message"])
    assert card_titles(reply) == [p["titleJa"] for p in rest["products"]]
    assert_cards(reply, in_stock="在庫あり", out_of_stock="在庫なし")

    # When they switch to English and ask in English
    chat.set_language("en")
    reply = chat.send(HORROR_EN)
    chat.wait_complete(reply)
    # Then the answer and its cards are in English
    expect(reply).to_have_attribute("lang", "en")
    assert_streamed(chat, 2, reply.locator(".message-text").inner_text())
    assert card_titles(reply) == [
        p["titleJa"] for p in rest_answer(chat_server, HORROR_EN, "en")["products"]
    ]
    assert_cards(reply, in_stock="In stock", out_of_stock="Out of stock")


def test_shift_enter_and_ime_composition_do_not_send(chat: ChatPage) -> None:
    # Shift+Enter adds a line and sends nothing
    chat.input.fill("一行目")
    chat.input.press("Shift+Enter")
    chat.page.keyboard.insert_text("二行目")
    chat.page.wait_for_timeout(300)
    expect(chat.input).to_have_value("一行目\n二行目")
    expect(chat.user_messages).to_have_count(0)
    # Enter sends both lines
    chat.input.press("Enter")
    expect(chat.user_messages).to_have_count(1)
    expect(chat.user_messages.first.locator(".message-text")).to_contain_text("二行目")
    chat.wait_complete(chat.assistant_messages.first)

    # Enter while the IME is converting (変換中) confirms the conversion and sends nothing
    chat.input.fill("こんにちは")
    chat.input.evaluate(
        """el => {
            el.dispatchEvent(new CompositionEvent('compositionstart', {bubbles: true, data: ''}));
            el.dispatchEvent(new KeyboardEvent('keydown', {
                key: 'Enter', code: 'Enter', keyCode: 229, which: 229,
                isComposing: true, bubbles: true, cancelable: true,
            }));
            el.dispatchEvent(new KeyboardEvent('keyup', {
                key: 'Enter', code: 'Enter', isComposing: true, bubbles: true, cancelable: true,
            }));
        }"""
    )
    chat.page.wait_for_timeout(400)
    expect(chat.user_messages).to_have_count(1)
    expect(chat.input).to_have_value("こんにちは")
    # After the conversion ends, Enter sends
    chat.input.evaluate(
        """el => el.dispatchEvent(
            new CompositionEvent('compositionend', {bubbles: true, data: 'こんにちは'}))"""
    )
    chat.input.press("Enter")
    expect(chat.user_messages).to_have_count(2)
    expect(chat.user_messages.nth(1).locator(".message-text")).to_have_text("こんにちは")
    chat.wait_complete(chat.assistant_messages.nth(1))


def test_the_conversation_survives_a_reload(chat: ChatPage) -> None:
    reply = chat.ask(ISEKAI_JA)
    cards = reply.locator(".product-card").count()
    before = chat.transcript()
    session = chat.app_state()["sessionId"]
    assert session

    chat.page.reload()
    chat.wait_state("connected")

    assert chat.transcript() == before
    assert [role for role, _, _ in before] == ["user", "assistant"]
    expect(chat.assistant_messages.first.locator(".product-card")).to_have_count(cards)
    assert chat.app_state()["sessionId"] == session


def test_the_conversation_goes_on_after_the_server_restarts(
    context: BrowserContext, tmp_path: Path
) -> None:
    with RestartableServer(page_server_env(tmp_path), tmp_path) as server:
        chat = ChatPage.open(context, f"{server.base_url}/", config=SHORT_TIMING)
        try:
            # Given one question answered
            chat.ask(ISEKAI_JA)
            session = chat.app_state()["sessionId"]
            chat.record_connection_states()
            # When the server goes away, the page tries again, then asks the customer
            server.stop()
            chat.wait_state("failed", timeout_ms=20_000)
            states = chat.connection_states()
            assert "reconnecting" in states, states
            assert states.index("reconnecting") < states.index("failed"), states
            expect(chat.status).to_contain_text("接続できませんでした")
            expect(chat.retry_button).to_be_visible()
            expect(chat.retry_button).to_contain_text("再試行")
            # When the server is back on the same port and the customer presses 再試行
            server.start()
            chat.retry_button.click()
            chat.wait_state("connected")
            expect(chat.retry_button).to_be_hidden()
            # Then the same conversation goes on
            reply = chat.ask("葬送のフリーレンってどんな話？")
            expect(reply.locator(".message-text")).to_contain_text("山田鐘人")
            assert chat.app_state()["sessionId"] == session
            stored = httpx.get(f"{server.base_url}/v1/sessions/{session}/messages", timeout=5)
            roles = [m["role"] for m in stored.json()["messages"]]
            assert roles == ["user", "assistant", "user", "assistant"], stored.text
        finally:
            chat.close()


def test_an_answer_completes_once_after_the_network_drops(
    context: BrowserContext, chat_server: Server
) -> None:
    chat = ChatPage.open(context, f"{chat_server.base_url}/", config=PATIENT_TIMING)
    try:
        # Given an answer streaming in
        chat.record_stream()
        reply = chat.send(SPORTS_JA)
        first = chat.wait_first_delta()
        chat.record_connection_states()
        # When the phone loses the network for 1.5 s
        context.set_offline(True)
        try:
            chat.page.wait_for_timeout(1500)
            during_drop = chat.connection_states()
        finally:
            context.set_offline(False)
        # Then the answer completes, every part of it shown exactly once
        chat.wait_complete(reply)
        text = reply.locator(".message-text").inner_text()
        assert squeeze(text).count(squeeze(first)) == 1, text
        assert squeeze(text) == squeeze(rest_answer(chat_server, SPORTS_JA, "ja")["message"])
        assert_shown_once(chat, 1, text)
        chat.wait_state("connected")
        # And while nothing arrived the status said so (接続中...: no pong within 200 ms)
        assert {"connecting", "reconnecting"} & set(during_drop), (
            f"#connection-status data-state during the 1.5 s drop: {during_drop}; "
            f"after it: {chat.connection_states()}"
        )
    finally:
        chat.close()


def test_hiding_the_tab_mid_answer_resumes_it(chat: ChatPage, chat_server: Server) -> None:
    question = TEARJERKER_JA
    resumed_before = resumes(chat_server.base_url)
    # Given an answer streaming in
    chat.record_stream()
    reply = chat.send(question)
    first = chat.wait_first_delta()
    # When the customer switches to another app for half a second and comes back
    chat.set_visibility("hidden")
    chat.page.wait_for_timeout(500)
    chat.set_visibility("visible")
    # Then the answer is resumed and completes, every part of it exactly once
    chat.wait_complete(reply)
    text = reply.locator(".message-text").inner_text()
    assert squeeze(text).count(squeeze(first)) == 1, text
    assert squeeze(text) == squeeze(rest_answer(chat_server, question, "ja")["message"])
    assert_shown_once(chat, 1, text)
    chat.wait_state("connected")
    assert resumes(chat_server.base_url) > resumed_before, "the answer was not resumed"


def serious_violations(page: Page) -> list[str]:
    """axe-core violations a screen reader or keyboard user would hit hard."""
    response: dict[str, Any] = Axe().run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(", ".join(node["target"]) for node in v["nodes"])
        for v in response["violations"]
        if v["impact"] in SERIOUS
    ]


def test_no_serious_accessibility_violations_in_either_language(chat: ChatPage) -> None:
    chat.ask(ISEKAI_JA)
    japanese = serious_violations(chat.page)
    chat.set_language("en")
    chat.ask(HORROR_EN)
    english = serious_violations(chat.page)
    assert not japanese, "\n".join(japanese)
    assert not english, "\n".join(english)


def _control(focused: dict[str, Any]) -> str | None:
    if focused["id"] in ("composer-input", "send-button", "language-toggle"):
        return str(focused["id"])
    if "suggestion-chip" in focused["classes"]:
        return "suggestion-chip"
    return None


def _has_focus_ring(focused: dict[str, Any]) -> bool:
    outline = focused["outlineStyle"] != "none" and focused["outlineWidth"] != "0px"
    return bool(outline or focused["boxShadow"] != "none")


def test_keyboard_reaches_every_control_with_a_visible_focus_ring(chat: ChatPage) -> None:
    # The send button may only be enabled with something to send
    chat.input.fill("こんにちは")
    chat.input.blur()
    reached: dict[str, dict[str, Any]] = {}
    for _ in range(60):
        chat.page.keyboard.press("Tab")
        focused = chat.focused()
        control = _control(focused) if focused else None
        if focused and control and control not in reached:
            reached[control] = focused
        if len(reached) == 4:
            break
    expect(chat.user_messages).to_have_count(0)
    assert set(reached) == {"composer-input", "send-button", "suggestion-chip", "language-toggle"}
    no_ring = {name: f for name, f in reached.items() if not _has_focus_ring(f)}
    assert not no_ring, f"focused without a visible outline or box-shadow: {no_ring}"


def test_screenshots_on_a_phone_and_a_desktop(chat: ChatPage, output_dir: Path) -> None:
    paths: list[Path] = []
    for width, height in ((360, 740), (1280, 800)):
        chat.page.set_viewport_size({"width": width, "height": height})
        if not paths:
            chat.ask(ISEKAI_JA)
            scroll_width = chat.page.evaluate("() => document.documentElement.scrollWidth")
            assert scroll_width <= 360, f"horizontal scroll at 360 px: scrollWidth {scroll_width}"
        chat.page.wait_for_timeout(200)  # let the layout settle after the resize
        path = output_dir / f"chat-page-{width}x{height}.png"
        chat.page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    for path in paths:
        print(f"screenshot: {path}")
        assert path.stat().st_size > 0


def test_no_request_leaves_the_shop(context: BrowserContext, chat_server: Server) -> None:
    page = context.new_page()
    urls: list[str] = []

    def on_request(request: Request) -> None:
        urls.append(request.url)

    def on_websocket(websocket: WebSocket) -> None:
        urls.append(websocket.url)

    page.on("request", on_request)
    page.on("websocket", on_websocket)
    chat = ChatPage(page)
    try:
        chat.goto_fresh(f"{chat_server.base_url}/")
        chat.ask(ISEKAI_JA)
        chat.page.wait_for_timeout(300)
    finally:
        chat.close()
    hosts = {urlsplit(u).hostname for u in urls if urlsplit(u).scheme not in ("data", "blob")}
    assert hosts == {"127.0.0.1"}, sorted(urls)
