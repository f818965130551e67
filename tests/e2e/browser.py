"""Helpers for driving the chat page in Debian's Chromium: the browser, the page, the server.

Nothing here downloads a browser: Playwright drives ``/usr/bin/chromium`` (docs/chat-page.md is
the DOM contract these helpers read). ``RestartableServer`` is a served MangaAssist that can be
stopped and started again on the same port and store, as a deploy or a crash does to a customer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

from tests.e2e.conftest import Server, wait_until_healthy

__all__ = [
    "CHROMIUM",
    "SHORT_TIMING",
    "ChatPage",
    "RestartableServer",
    "chromium_problem",
    "launch_chromium",
    "page_server_env",
    "squeeze",
]

CHROMIUM = Path("/usr/bin/chromium")
#: Flags that keep Chromium quiet and offline apart from the pages it is told to open.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: Reconnect timing shortened for tests (defaults: 500, 10000, 10, 20000, 5000).
SHORT_TIMING: dict[str, int] = {
    "backoffBaseMs": 100,
    "backoffMaxMs": 400,
    "maxAttempts": 4,
    "pingIntervalMs": 1000,
    "pongTimeoutMs": 1000,
}
#: Long enough for an answer paced at 40 ms per delta, plus a reconnect.
ANSWER_TIMEOUT_MS = 15_000
CLI = [sys.executable, "-m", "mangaassist"]

# Records every state of the newest assistant message as the DOM changes, so a test can tell
# that the text grew while the message was busy, however fast the deltas come.
_STREAM_RECORDER = """
() => {
  const list = document.querySelector('#messages');
  window.__streamSamples = [];
  const snap = () => {
    const all = list.querySelectorAll('li.message[data-role="assistant"]');
    const li = all[all.length - 1];
    if (!li) return;
    const text = li.querySelector('.message-text');
    window.__streamSamples.push({
      index: all.length,
      busy: li.getAttribute('aria-busy'),
      state: li.getAttribute('data-state'),
      text: text ? text.textContent : '',
    });
  };
  new MutationObserver(snap).observe(list, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}
"""

_STATUS_RECORDER = """
() => {
  const status = document.querySelector('#connection-status');
  window.__connectionStates = [status.getAttribute('data-state')];
  new MutationObserver(() => {
    const state = status.getAttribute('data-state');
    const seen = window.__connectionStates;
    if (seen[seen.length - 1] !== state) seen.push(state);
  }).observe(status, {attributes: true, attributeFilter: ['data-state']});
}
"""

_NEWEST_STREAMING_TEXT = """
() => {
  const all = document.querySelectorAll('#messages > li.message[data-role="assistant"]');
  const li = all[all.length - 1];
  const text = li && li.querySelector('.message-text');
  const shown = text ? text.textContent : '';
  return li && li.getAttribute('aria-busy') === 'true' && shown ? shown : null;
}
"""

_FOCUS_STYLE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    id: el.id,
    classes: Array.from(el.classList),
    tag: el.tagName.toLowerCase(),
    outlineStyle: style.outlineStyle,
    outlineWidth: style.outlineWidth,
    boxShadow: style.boxShadow,
  };
}
"""


def chromium_problem() -> str | None:
    """Why Debian's Chromium cannot be driven, or None when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@contextmanager
def launch_chromium(user_data_dir: Path, *, locale: str = "ja-JP") -> Iterator[BrowserContext]:
    """A headless persistent Chromium context on a fresh profile, as a Japanese customer's."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale=locale,
        )
        try:
            yield context
        finally:
            context.close()


def squeeze(text: str) -> str:
    """``text`` without whitespace: how the page lays out lines is not what is compared."""
    return re.sub(r"\s+", "", text)


def page_server_env(home: Path) -> dict[str, str]:
    """Server environment with a fresh store and answers paced to stream over a second or two."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANGAASSIST_")}
    env |= {
        "MANGAASSIST_STORE_URL": f"sqlite:///{home / 'chat-page.db'}",
        "MANGAASSIST_OFFLINE_DELTA_DELAY_MS": "40",
        "MANGAASSIST_LOG_FORMAT": "json",
    }
    return env


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RestartableServer:
    """A ``mangaassist serve`` process that can be stopped and started on the same port."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / "restartable-server.log"
        self._process: subprocess.Popen[bytes] | None = None
        subprocess.run(
            [*CLI, "catalog", "load", "--if-empty"], env=env, check=True, capture_output=True
        )

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def start(self, timeout_s: float = 30.0) -> None:
        """Serve on ``self.port`` and wait until ``/healthz`` answers."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_healthy(Server(self.base_url, self._process, self.log_path), timeout_s)

    def stop(self) -> None:
        """SIGTERM, as a deploy does; killed when it takes longer than 15 s."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> RestartableServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ChatPage:
    """The chat page seen through the hooks of docs/chat-page.md."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.messages = page.locator("#messages > li.message")
        self.user_messages = page.locator('#messages > li.message[data-role="user"]')
        self.assistant_messages = page.locator('#messages > li.message[data-role="assistant"]')
        self.input = page.locator("#composer-input")
        self.send_button = page.locator("#send-button")
        self.status = page.locator("#connection-status")
        self.retry_button = page.locator("#retry-button")
        self.language_toggle = page.locator("#language-toggle")

    @classmethod
    def open(
        cls, context: BrowserContext, url: str, *, config: dict[str, int] | None = None
    ) -> ChatPage:
        """A new tab on a fresh conversation (nothing kept from earlier tests), connected."""
        page = context.new_page()
        if config is not None:
            page.add_init_script(f"window.MANGAASSIST_CONFIG = {json.dumps(config)};")
        chat = cls(page)
        chat.goto_fresh(url)
        return chat

    def goto_fresh(self, url: str) -> None:
        self.page.goto(url)
        self.page.evaluate("() => localStorage.clear()")
        self.page.reload()
        self.wait_state("connected")

    def close(self) -> None:
        self.page.close()

    def wait_state(self, state: str, timeout_ms: float = 10_000) -> None:
        expect(self.status).to_have_attribute("data-state", state, timeout=timeout_ms)

    def app_state(self) -> dict[str, Any]:
        """``window.__mangaassist``: state, transport and sessionId."""
        state: dict[str, Any] = self.page.evaluate("() => ({...window.__mangaassist})")
        return state

    def set_language(self, language: str) -> None:
        """Switch the interface (and the next questions) to ``language`` with the toggle."""
        if self.language_toggle.get_attribute("data-language") != language:
            self.language_toggle.click()
        expect(self.language_toggle).to_have_attribute("data-language", language)

    def send(self, question: str) -> Locator:
        """Type ``question`` and press Enter; the assistant message that answers it."""
        answered = self.assistant_messages.count()
        self.input.fill(question)
        self.input.press("Enter")
        reply = self.assistant_messages.nth(answered)
        expect(reply).to_be_attached(timeout=ANSWER_TIMEOUT_MS)
        return reply

    def ask(self, question: str) -> Locator:
        """Send ``question`` and wait until its answer is complete."""
        reply = self.send(question)
        self.wait_complete(reply)
        return reply

    @staticmethod
    def wait_complete(reply: Locator) -> None:
        expect(reply).to_have_attribute("data-state", "complete", timeout=ANSWER_TIMEOUT_MS)
        expect(reply).not_to_have_attribute("aria-busy", "true")

    def wait_first_delta(self) -> str:
        """Wait (every frame) until the newest answer shows text while busy; that text."""
        text: str = self.page.wait_for_function(
            _NEWEST_STREAMING_TEXT,
            timeout=ANSWER_TIMEOUT_MS,
        ).json_value()
        return text

    def transcript(self) -> list[tuple[str, str, str]]:
        """(role, lang, text) of every message, in order."""
        rows: list[list[str]] = self.page.eval_on_selector_all(
            "#messages > li.message",
            """items => items.map(li => [
                li.getAttribute('data-role'),
                li.getAttribute('lang') || '',
                (li.querySelector('.message-text') || li).innerText,
            ])""",
        )
        return [(role, lang, text) for role, lang, text in rows]

    def record_stream(self) -> None:
        """Start recording every DOM state of the newest assistant message."""
        self.page.evaluate(_STREAM_RECORDER)

    def stream_samples(self, index: int) -> list[dict[str, Any]]:
        """Recorded states of the ``index``-th (1-based) assistant message."""
        samples: list[dict[str, Any]] = self.page.evaluate("() => window.__streamSamples")
        return [s for s in samples if s["index"] == index]

    def record_connection_states(self) -> None:
        """Start recording every ``data-state`` the connection status goes through."""
        self.page.evaluate(_STATUS_RECORDER)

    def connection_states(self) -> list[str]:
        states: list[str] = self.page.evaluate("() => window.__connectionStates")
        return states

    def focused(self) -> dict[str, Any] | None:
        """The focused element (id, classes, tag) and its focus indicator styles."""
        info: dict[str, Any] | None = self.page.evaluate(_FOCUS_STYLE)
        return info

    def set_visibility(self, state: str) -> None:
        """Pretend the tab was hidden or shown again, as switching apps on a phone does."""
        self.page.evaluate(
            """state => {
                Object.defineProperty(document, 'visibilityState',
                    {configurable: true, get: () => state});
                Object.defineProperty(document, 'hidden',
                    {configurable: true, get: () => state === 'hidden'});
                document.dispatchEvent(new Event('visibilitychange'));
            }""",
            state,
        )
