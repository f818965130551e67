// MangaAssist chat page: the streaming protocol of docs/streaming.md, built for phones on
// Japanese carriers (app-level pings, backoff with jitter, resume after a drop or a hidden tab).
"use strict";

const DEFAULTS = {
  backoffBaseMs: 500, // first reconnect delay
  backoffMaxMs: 10000, // longest reconnect delay
  maxAttempts: 10, // then ask the customer (再試行)
  pingIntervalMs: 20000, // carrier NAT drops idle TCP after ~30 s
  pongTimeoutMs: 5000,
  sseAfterFailures: 2, // WebSocket never opened this many times in a row: try SSE
};
const config = { ...DEFAULTS, ...(window.MANGAASSIST_CONFIG || {}) };
const STORAGE_KEY = "mangaassist.conversation.v1";

const STRINGS = {
  ja: {
    skip: "メッセージ入力へ移動",
    retry: "再試行",
    newConversation: "新しい会話",
    conversation: "会話",
    suggestions: "質問の例",
    inputLabel: "メッセージ",
    hint: "Enterで送信、Shift+Enterで改行",
    send: "送信",
    placeholder: "例: おすすめの異世界マンガは？",
    connecting: "接続中...",
    reconnecting: "接続中...（再接続しています）",
    connected: "接続済み",
    failed: "接続できませんでした",
    toggle: "English",
    inStock: "在庫あり",
    outOfStock: "在庫なし",
    volumes: (n) => `全${n}巻`,
    price: (yen) => `¥${yen.toLocaleString("ja-JP")} / 冊`,
    answerReady: "回答: ",
    you: "あなた",
    assistant: "MangaAssist",
    chips: ["おすすめの異世界マンガ", "在庫を確認したい", "泣ける漫画が読みたい", "送料はいくらですか？"],
  },
  en: {
    skip: "Skip to the message box",
    retry: "Retry",
    newConversation: "New conversation",
    conversation: "Conversation",
    suggestions: "Example questions",
    inputLabel: "Message",
    hint: "Enter to send, Shift+Enter for a new line",
    send: "Send",
    placeholder: "e.g. Any good isekai manga?",
    connecting: "Connecting...",
    reconnecting: "Connecting... (reconnecting)",
    connected: "Connected",
    failed: "Could not connect",
    toggle: "日本語",
    inStock: "In stock",
    outOfStock: "Out of stock",
    volumes: (n) => `${n} volumes`,
    price: (yen) => `¥${yen.toLocaleString("en-US")} / vol.`,
    answerReady: "Answer: ",
    you: "You",
    assistant: "MangaAssist",
    chips: ["Recommend isekai manga", "Check stock", "Something heartwarming", "How much is shipping?"],
  },
};

const $ = (selector) => document.querySelector(selector);
const els = {
  messages: $("#messages"),
  input: $("#composer-input"),
  send: $("#send-button"),
  form: $("#composer"),
  status: $("#connection-status"),
  retry: $("#retry-button"),
  toggle: $("#language-toggle"),
  reset: $("#new-conversation"),
  chips: $(".suggestions"),
  announcer: $("#announcer"),
};

// -- state ---------------------------------------------------------------------------------

const saved = loadConversation();
const state = {
  language: saved.language || ((navigator.language || "ja").toLowerCase().startsWith("ja") ? "ja" : "en"),
  sessionId: saved.sessionId || null,
  messages: saved.messages || [], // {role, text, lang, products, complete, messageId, lastSeq}
  status: "connecting",
  transport: "websocket",
  pending: null, // a question typed while disconnected, sent once connected
};

function loadConversation() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
  } catch {
    return {};
  }
}

function saveConversation() {
  const data = { language: state.language, sessionId: state.sessionId, messages: state.messages.slice(-100) };
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(data));
  } catch {
    /* private mode or full storage: the conversation still works, it just won't survive a reload */
  }
}

function inflight() {
  const last = state.messages[state.messages.length - 1];
  return last && last.role === "assistant" && !last.complete ? last : null;
}

function exposeForTests() {
  window.__mangaassist = { state: state.status, transport: state.transport, sessionId: state.sessionId };
}

// -- rendering -----------------------------------------------------------------------------

function t(key) {
  return STRINGS[state.language][key];
}

function applyLanguage() {
  document.documentElement.lang = state.language;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  document.querySelectorAll("[data-i18n-label]").forEach((el) => {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  });
  els.input.placeholder = t("placeholder");
  els.toggle.textContent = t("toggle");
  els.toggle.lang = state.language === "ja" ? "en" : "ja";
  els.toggle.dataset.language = state.language;
  els.toggle.setAttribute("aria-pressed", String(state.language === "en"));
  els.chips.replaceChildren(
    ...t("chips").map((text) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "suggestion-chip";
      chip.textContent = text;
      chip.addEventListener("click", () => ask(text));
      return chip;
    }),
  );
  renderStatus();
}

function renderStatus() {
  const key = state.status === "connected" ? "connected" : state.status;
  els.status.dataset.state = state.status;
  els.status.textContent = t(key);
  els.retry.hidden = state.status !== "failed";
  exposeForTests();
}

function setStatus(status) {
  state.status = status;
  renderStatus();
}

function productCard(product, lang) {
  const strings = STRINGS[lang];
  const card = document.createElement("li");
  card.className = "product-card";
  const add = (tag, className, text, attrs = {}) => {
    const el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
    card.append(el);
    return el;
  };
  add("p", "product-title-ja", product.titleJa, { lang: "ja" });
  add("p", "product-title", product.title, { lang: "en" });
  add("p", "product-author", lang === "ja" ? product.authorJa || product.author : product.author);
  add("p", "product-volumes", strings.volumes(product.volumes));
  const row = document.createElement("div");
  row.className = "product-row";
  const price = document.createElement("span");
  price.className = "product-price";
  price.textContent = strings.price(product.priceJpy);
  const badge = document.createElement("span");
  badge.className = "stock-badge";
  badge.dataset.inStock = String(Boolean(product.inStock));
  badge.textContent = product.inStock ? strings.inStock : strings.outOfStock;
  row.append(price, badge);
  card.append(row);
  return card;
}

function renderMessage(message) {
  let li = message.element;
  if (!li) {
    li = document.createElement("li");
    li.className = "message";
    const who = document.createElement("p");
    who.className = "visually-hidden";
    const text = document.createElement("p");
    text.className = "message-text";
    li.append(who, text);
    els.messages.append(li);
    Object.defineProperty(message, "element", { value: li, enumerable: false, writable: true });
  }
  li.dataset.role = message.role;
  li.lang = message.lang || state.language;
  li.firstChild.textContent = message.role === "user" ? STRINGS[li.lang].you : STRINGS[li.lang].assistant;
  li.querySelector(".message-text").textContent = message.text;
  li.classList.toggle("error-text", Boolean(message.error));
  if (message.role === "assistant") {
    li.setAttribute("aria-busy", String(!message.complete));
    li.dataset.state = message.complete ? "complete" : "streaming";
  }
  li.querySelector(".products")?.remove();
  if (message.products && message.products.length) {
    const list = document.createElement("ul");
    list.className = "products";
    list.setAttribute("aria-label", message.lang === "en" ? "Products" : "商品");
    list.append(...message.products.map((p) => productCard(p, li.lang)));
    li.append(list);
  }
}

function renderAll() {
  els.messages.replaceChildren();
  state.messages.forEach((m) => {
    m.element = undefined;
    renderMessage(m);
  });
  updateComposer();
}

function updateComposer() {
  els.send.disabled = Boolean(inflight()) || Boolean(state.pending);
}

function scrollToEnd() {
  const last = els.messages.lastElementChild;
  if (last) last.scrollIntoView({ block: "end", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
}

function announce(text, lang) {
  // Once, when the answer is complete: screen readers hear the whole answer, not each token.
  els.announcer.textContent = "";
  els.announcer.lang = lang;
  setTimeout(() => {
    els.announcer.textContent = STRINGS[lang].answerReady + text;
  }, 50);
}

// -- protocol events (shared by WebSocket and SSE) -------------------------------------------

function onAck(frame) {
  const message = inflight();
  if (!message) return;
  message.messageId = frame.messageId;
  state.sessionId = frame.sessionId;
  saveConversation();
  exposeForTests();
}

function onDelta(frame) {
  const message = inflight();
  if (!message || frame.messageId !== message.messageId || frame.seq <= message.lastSeq) return;
  message.text += frame.text;
  message.lastSeq = frame.seq;
  renderMessage(message);
  saveConversation();
}

function onFinal(frame) {
  const message = inflight();
  if (!message || (frame.messageId && frame.messageId !== message.messageId)) return;
  message.complete = true;
  message.lastSeq = frame.seq || message.lastSeq;
  if (frame.type === "done") {
    message.text = frame.answer.message;
    message.lang = frame.answer.language;
    message.products = frame.answer.products;
    state.sessionId = frame.answer.sessionId;
  } else if (frame.type === "error") {
    message.error = true;
    message.text = message.text ? `${message.text}\n${frame.message}` : frame.message;
  }
  renderMessage(message);
  saveConversation();
  updateComposer();
  announce(message.text, message.lang || state.language);
  scrollToEnd();
  exposeForTests();
}

function onProtocolError(frame) {
  // An error about a frame (not the end of an answer): show it, keep the conversation going.
  const message = inflight();
  if (message && !message.messageId) {
    message.complete = true;
    message.error = true;
    message.text = frame.message;
    renderMessage(message);
    saveConversation();
    updateComposer();
    announce(frame.message, state.language);
  }
}

function handleFrame(frame) {
  switch (frame.type) {
    case "hello":
      return;
    case "pong":
      connection.pong();
      return;
    case "ack":
      return onAck(frame);
    case "delta":
      return onDelta(frame);
    case "done":
    case "cancelled":
      return onFinal(frame);
    case "error":
      return "seq" in frame ? onFinal(frame) : onProtocolError(frame);
    default:
      return;
  }
}

// -- WebSocket transport with heartbeats, backoff and resume ----------------------------------

const connection = {
  ws: null,
  attempts: 0,
  neverOpened: 0,
  timer: null,
  pingTimer: null,
  pongTimer: null, // set while a ping waits for its pong
  paused: false,

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const mobile = /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent) ? "?clientType=mobile" : "";
    return `${scheme}//${location.host}/v1/ws${mobile}`;
  },

  connect() {
    clearTimeout(this.timer);
    if (this.paused || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    setStatus(this.attempts ? "reconnecting" : "connecting");
    let opened = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this.attempts = 0;
      this.neverOpened = 0;
      state.transport = "websocket";
      setStatus("connected");
      this.startPings();
      const message = inflight();
      if (message && message.messageId) {
        this.send("resume", { messageId: message.messageId, afterSeq: message.lastSeq });
      } else if (message && message.question && !state.pending) {
        state.pending = message.question; // sent but never acknowledged: ask again (same id)
      }
      flushPending();
    };
    ws.onmessage = (event) => {
      try {
        handleFrame(JSON.parse(event.data));
      } catch (error) {
        console.error("bad frame", error);
      }
    };
    ws.onclose = () => {
      this.stopPings();
      if (this.ws !== ws) return;
      this.ws = null;
      if (!opened) this.neverOpened += 1;
      if (!this.paused) this.scheduleReconnect();
    };
  },

  scheduleReconnect() {
    this.attempts += 1;
    if (this.attempts > config.maxAttempts) {
      setStatus("failed");
      return;
    }
    if (this.neverOpened >= config.sseAfterFailures) trySse();
    setStatus("reconnecting");
    const ceiling = Math.min(config.backoffMaxMs, config.backoffBaseMs * 2 ** (this.attempts - 1));
    const delay = config.backoffBaseMs / 2 + Math.random() * (ceiling - config.backoffBaseMs / 2);
    this.timer = setTimeout(() => this.connect(), Math.max(0, delay));
  },

  retryNow() {
    this.attempts = 0;
    this.neverOpened = 0;
    this.connect();
  },

  send(action, data) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ action, data }));
    return true;
  },

  startPings() {
    this.stopPings();
    this.pingTimer = setInterval(() => {
      if (!this.send("ping", { ts: Date.now() })) return;
      // One deadline per unanswered ping: a later ping must not push it back.
      if (this.pongTimer === null) {
        this.pongTimer = setTimeout(() => this.lost(), config.pongTimeoutMs);
      }
    }, config.pingIntervalMs);
  },

  pong() {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  },

  stopPings() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  },

  lost() {
    // No pong: the line is dead (a tunnel, a NAT that dropped us). Do not wait for the close
    // handshake, which a dead network delays until it comes back: reconnect now. Late frames
    // of the old socket are harmless, deltas are deduplicated by seq.
    const ws = this.ws;
    this.ws = null;
    this.stopPings();
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
    if (!this.paused) this.scheduleReconnect();
  },

  pause() {
    // Hidden tab: close cleanly (iOS would kill the socket anyway) and keep all state.
    this.paused = true;
    clearTimeout(this.timer);
    this.stopPings();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, "hidden");
    }
  },

  resume() {
    this.paused = false;
    this.attempts = 0;
    this.connect(); // at once: the answer in flight is resumed on open
  },
};

// -- SSE fallback (when WebSocket cannot connect at all) --------------------------------------

async function trySse() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    if (!response.ok) return;
  } catch {
    return; // the server is down, not just WebSocket: keep trying WebSocket
  }
  state.transport = "sse";
  setStatus("connected");
  flushPending();
}

async function askOverSse(question, message) {
  const headers = { "content-type": "application/json" };
  if (message.messageId) headers["Last-Event-ID"] = `${message.messageId}:${message.lastSeq}`;
  try {
    const response = await fetch("/v1/chat/stream", {
      method: "POST",
      headers,
      body: JSON.stringify(questionData(question)),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      onProtocolError({ message: body.error?.message || t("failed") });
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let split;
      while ((split = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) handleFrame({ type: event, ...JSON.parse(data) });
      }
    }
  } catch {
    setTimeout(() => inflight() && askOverSse(question, message), config.backoffBaseMs);
  }
}

// -- asking ----------------------------------------------------------------------------------

function newId() {
  return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).replace(/[^A-Za-z0-9_-]/g, "");
}

function questionData(question) {
  const data = { message: question, preferredLanguage: state.language };
  if (state.sessionId) data.sessionId = state.sessionId;
  const message = inflight();
  if (message && message.clientMessageId && state.transport === "websocket") {
    data.clientMessageId = message.clientMessageId; // a resend after a lost ack is not answered twice
  }
  return data;
}

function ask(text) {
  const question = text.trim();
  if (!question || inflight()) return;
  state.messages.push({ role: "user", text: question, lang: state.language, complete: true });
  state.messages.push({
    role: "assistant", text: "", lang: state.language, products: [], complete: false,
    messageId: null, lastSeq: 0, question, clientMessageId: newId(),
  });
  state.messages.slice(-2).forEach(renderMessage);
  saveConversation();
  state.pending = question;
  updateComposer();
  scrollToEnd();
  flushPending();
}

function flushPending() {
  const question = state.pending;
  if (!question) return;
  const message = inflight();
  if (state.transport === "sse") {
    state.pending = null;
    askOverSse(question, message);
  } else if (connection.send("sendMessage", questionData(question))) {
    state.pending = null;
  }
  updateComposer();
}

// -- wiring ----------------------------------------------------------------------------------

let composing = false;
els.input.addEventListener("compositionstart", () => {
  composing = true;
});
els.input.addEventListener("compositionend", () => {
  setTimeout(() => {
    composing = false; // Safari sends the Enter that ends composition after compositionend
  }, 0);
});
els.input.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.shiftKey) return;
  if (event.isComposing || composing || event.keyCode === 229) return; // 変換確定の Enter
  event.preventDefault();
  els.form.requestSubmit();
});
els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (els.send.disabled) return;
  ask(els.input.value);
  els.input.value = "";
});
els.retry.addEventListener("click", () => connection.retryNow());
els.toggle.addEventListener("click", () => {
  state.language = state.language === "ja" ? "en" : "ja";
  saveConversation();
  applyLanguage();
});
els.reset.addEventListener("click", () => {
  state.messages = [];
  state.sessionId = null;
  state.pending = null;
  saveConversation();
  renderAll();
  exposeForTests();
  els.input.focus();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") connection.pause();
  else connection.resume();
});
window.addEventListener("online", () => connection.retryNow());

applyLanguage();
renderAll();
const unfinished = inflight();
if (unfinished && !unfinished.messageId && unfinished.question) state.pending = unfinished.question;
connection.connect();
