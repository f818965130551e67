"""Error messages in English and Japanese, by stable error code."""

from __future__ import annotations

from typing import Literal

__all__ = ["Language", "field_message", "message"]

Language = Literal["ja", "en"]

_MESSAGES: dict[str, tuple[str, str]] = {
    "ADMIN_DISABLED": (
        "The admin API is off: set MANGAASSIST_ADMIN_TOKEN to use it.",
        "管理APIは無効です。MANGAASSIST_ADMIN_TOKEN を設定してください。",
    ),
    "ADMIN_UNAUTHORIZED": (
        "Send the admin token as `Authorization: Bearer <token>`.",
        "管理トークンを `Authorization: Bearer <token>` で送信してください。",
    ),
    "API_KEY_NOT_FOUND": (
        "No API key has the prefix {prefix}.",
        "プレフィックス {prefix} のAPIキーは存在しません。",
    ),
    "PLAN_UNKNOWN": (
        "There is no usage plan called {plan}; known plans: {plans}.",
        "利用プラン {plan} は存在しません。利用できるプラン: {plans}",
    ),
    "EVENT_RULE_NOT_FOUND": (
        "No event rule is called {name}.",
        "イベントルール {name} は存在しません。",
    ),
    "EVENT_RULE_NOT_DELETABLE": (
        "The rule {name} is {origin}, not saved through this API: disable it with "
        '`"state": "DISABLED"` instead.',
        "ルール {name} はこのAPIで保存されたものではありません（{origin}）。"
        '`"state": "DISABLED"` で無効にしてください。',
    ),
    "EVENT_RULE_NAME_MISMATCH": (
        "The rule's name in the body ({body}) differs from the one in the path ({path}).",
        "本文のルール名（{body}）とパスのルール名（{path}）が一致しません。",
    ),
    "EVENT_RULE_INVALID": ("The rule is not valid: {reason}", "ルールが正しくありません: {reason}"),
    "EVENT_PATTERN_INVALID": (
        "The event pattern is not valid: {reason}",
        "イベントパターンが正しくありません: {reason}",
    ),
    "EVENT_TARGET_INPUT_INVALID": (
        "A target's input transformation is not valid: {reason}",
        "ターゲットの入力変換が正しくありません: {reason}",
    ),
    "EVENT_TARGET_UNKNOWN_HANDLER": (
        "A target names an unknown handler: {reason}",
        "ターゲットに存在しないハンドラーが指定されています: {reason}",
    ),
    "EVENT_INVALID": ("The event is not valid: {reason}", "イベントが正しくありません: {reason}"),
    "EVENT_BUS_UNAVAILABLE": (
        "The event bus could not take the events; retry later.",
        "イベントバスが応答しません。しばらくしてから再試行してください。",
    ),
    "EVENT_REPLAY_UNAVAILABLE": (
        "Replays of this bus are run by EventBridge (StartReplay), not here.",
        "このイベントバスのリプレイはEventBridge（StartReplay）で実行してください。",
    ),
    "EVENT_ARCHIVE_NOT_FOUND": (
        "No event archive is called {name}.",
        "イベントアーカイブ {name} は存在しません。",
    ),
    "WEBHOOK_ENDPOINT_NOT_DISABLED": (
        "The endpoint {url} is not disabled.",
        "エンドポイント {url} は無効化されていません。",
    ),
    "MALFORMED_JSON": (
        "The request body is not valid JSON.",
        "リクエスト本文が正しいJSON形式ではありません。",
    ),
    "VALIDATION_ERROR": (
        "The request is not valid: see details.",
        "リクエストの内容に誤りがあります。詳細をご確認ください。",
    ),
    "PAYLOAD_TOO_LARGE": (
        "The request body is larger than {limit} bytes.",
        "リクエスト本文が大きすぎます（上限は{limit}バイトです）。",
    ),
    "NOT_FOUND": ("There is nothing at this address.", "このアドレスには何もありません。"),
    "PRODUCT_NOT_FOUND": (
        "No product has the id {id}.",
        "ID {id} の商品は見つかりませんでした。",
    ),
    "METHOD_NOT_ALLOWED": (
        "This method is not allowed here.",
        "このメソッドはここでは使用できません。",
    ),
    "EMPTY_MESSAGE": ("The message is empty.", "メッセージを入力してください。"),
    "MESSAGE_TOO_LONG": (
        "The message is too long (at most {max} characters).",
        "メッセージが長すぎます（最大{max}文字）",
    ),
    "MESSAGE_TOO_LARGE": (
        "The message is too large (at most {max_bytes} bytes of UTF-8).",
        "メッセージのデータ量が大きすぎます（最大{max_bytes}バイト）。",
    ),
    "CONTROL_CHARACTERS": (
        "The message contains {count} control characters that are not allowed.",
        "メッセージに使用できない制御文字が{count}個含まれています。",
    ),
    "INVALID_UNICODE": (
        "The message contains invalid Unicode (an unpaired surrogate).",
        "メッセージに不正な文字（対になっていないサロゲート）が含まれています。",
    ),
    "TOKEN_BUDGET_EXCEEDED": (
        "The message and conversation are too long to answer ({tokens} tokens, at most "
        "{limit}). Please shorten it or start a new conversation.",
        "メッセージと会話履歴が長すぎるためお答えできません（{tokens}トークン、上限{limit}）。"
        "短くするか、新しい会話を始めてください。",
    ),
    "SESSION_NOT_FOUND": (
        "No conversation has the id {id} (it may have expired).",
        "会話 {id} は見つかりませんでした（有効期限が切れた可能性があります）。",
    ),
    "INVISIBLE_CHARACTERS_REMOVED": (
        "Invisible formatting characters were removed from the message.",
        "メッセージから表示されない制御用の文字を取り除きました。",
    ),
    "MIXED_SCRIPT": (
        "The message mixes Japanese with other scripts in an unusual way.",
        "メッセージに日本語と他の文字体系が混在しています。",
    ),
    "MALFORMED_FRAME": (
        'The frame is not a JSON object of the form {{"action": ..., "data": {{...}}}}.',
        'フレームは {{"action": ..., "data": {{...}}}} 形式のJSONオブジェクトで送信してください。',
    ),
    "UNKNOWN_ACTION": (
        "Unknown action. Use sendMessage, ping, resume, cancel, getHistory or clearSession.",
        "不明なアクションです。sendMessage、ping、resume、cancel、getHistory、clearSession の"
        "いずれかを指定してください。",
    ),
    "FRAME_TOO_LARGE": (
        "The frame is larger than {limit} bytes.",
        "フレームが大きすぎます（上限は{limit}バイトです）。",
    ),
    "GENERATION_IN_PROGRESS": (
        "An answer is still being generated on this connection; wait for it or cancel it.",
        "このコネクションでは回答を生成中です。完了を待つか、キャンセルしてください。",
    ),
    "RESUME_NOT_AVAILABLE": (
        "That message can no longer be resumed (unknown or older than the resume window).",
        "このメッセージは再開できません（存在しないか、再開可能な時間を過ぎています）。",
    ),
    "NOT_CANCELLABLE": (
        "That message is not being generated on this server.",
        "このメッセージはこのサーバーで生成中ではありません。",
    ),
    "RATE_LIMITED": (
        "Too many requests; please slow down and try again shortly.",
        "リクエストが多すぎます。少し時間をおいてからもう一度お試しください。",
    ),
    "QUOTA_EXCEEDED": (
        "The request quota for this period is used up; it resets at the start of the next "
        "(see Retry-After).",
        "この期間のリクエスト上限に達しました。次の期間の開始までお待ちください"
        "（Retry-After を参照）。",
    ),
    "UNAUTHENTICATED": (
        "This API needs credentials: send an API key as `X-Api-Key` or a token as "
        "`Authorization: Bearer <token>`.",
        "このAPIには認証が必要です。APIキーを `X-Api-Key` で、またはトークンを "
        "`Authorization: Bearer <token>` で送信してください。",
    ),
    "API_KEY_INVALID": (
        "The API key is not valid.",
        "APIキーが正しくありません。",
    ),
    "API_KEY_REVOKED": (
        "This API key has been revoked; ask for a new one.",
        "このAPIキーは失効しています。新しいキーを発行してください。",
    ),
    "API_KEY_PLAN_UNKNOWN": (
        "This API key's usage plan ({plan}) no longer exists; ask for a new key.",
        "このAPIキーの利用プラン（{plan}）は存在しません。新しいキーを発行してください。",
    ),
    "TOKEN_INVALID": (
        "The bearer token is not valid ({reason}).",
        "アクセストークンが正しくありません（{reason}）。",
    ),
    "TOKEN_EXPIRED": (
        "The bearer token has expired; get a new one.",
        "アクセストークンの有効期限が切れています。新しいトークンを取得してください。",
    ),
    "ORIGIN_NOT_ALLOWED": (
        "Pages from this origin may not connect.",
        "このオリジンのページからは接続できません。",
    ),
    "ACCESS_UNAVAILABLE": (
        "Access control cannot check limits right now; please try again shortly.",
        "現在利用制限を確認できません。少し時間をおいてからもう一度お試しください。",
    ),
    "BATCH_REQUEST_NOT_FOUND": (
        "No batch analysis request has the id {id}.",
        "ID {id} のバッチ分析リクエストは見つかりませんでした。",
    ),
    "BATCH_BACKLOG_FULL": (
        "Too many analyses are waiting; please try again in {seconds} seconds.",
        "処理待ちの分析が多すぎます。{seconds}秒後にもう一度お試しください。",
    ),
    "QUEUE_UNAVAILABLE": (
        "The job queue cannot be reached right now; please try again later.",
        "現在ジョブキューに接続できません。しばらくしてからもう一度お試しください。",
    ),
    "CALLBACK_URL_NOT_HTTPS": (
        "The callback URL must use https ({reason}).",
        "コールバックURLは https で指定してください（{reason}）。",
    ),
    "CALLBACK_URL_INVALID": (
        "The callback URL is not valid ({reason}).",
        "コールバックURLが正しくありません（{reason}）。",
    ),
    "CALLBACK_URL_FORBIDDEN": (
        "The callback URL points to a non-public address ({reason}).",
        "コールバックURLが公開されていないアドレスを指しています（{reason}）。",
    ),
    "CALLBACK_URL_UNRESOLVABLE": (
        "The callback URL's host cannot be resolved ({reason}).",
        "コールバックURLのホスト名を解決できません（{reason}）。",
    ),
    "WEBHOOK_SOURCE_UNKNOWN": (
        "No webhook source of that name is configured.",
        "その名前のWebhook送信元は設定されていません。",
    ),
    "WEBHOOK_SIGNATURE_MISSING": (
        "The webhook signature (or its timestamp) header is missing.",
        "Webhookの署名ヘッダー（またはタイムスタンプ）がありません。",
    ),
    "WEBHOOK_SIGNATURE_INVALID": (
        "The webhook signature does not match the body.",
        "Webhookの署名が本文と一致しません。",
    ),
    "WEBHOOK_TIMESTAMP_INVALID": (
        "The webhook timestamp is not a Unix time in seconds.",
        "Webhookのタイムスタンプが秒単位のUNIX時刻ではありません。",
    ),
    "WEBHOOK_TIMESTAMP_STALE": (
        "The webhook timestamp is more than {seconds} seconds from now; check the sender's "
        "clock, and sign each retry with a fresh timestamp.",
        "Webhookのタイムスタンプが現在時刻から{seconds}秒以上ずれています。送信元の時計を確認し、"
        "再送のたびに新しいタイムスタンプで署名してください。",
    ),
    "WEBHOOK_PAYLOAD_INVALID": (
        "The webhook payload cannot be used: see details. Resending it unchanged will not help.",
        "Webhookの内容を処理できません。詳細をご確認ください。同じ内容での再送は不要です。",
    ),
    "WEBHOOK_IN_PROGRESS": (
        "This delivery is being processed right now; retry after {seconds} seconds.",
        "この配信は現在処理中です。{seconds}秒後に再送してください。",
    ),
    "WEBHOOK_PROCESSING_FAILED": (
        "The webhook could not be processed right now; retry after {seconds} seconds.",
        "現在Webhookを処理できません。{seconds}秒後に再送してください。",
    ),
    "ANSWER_INTERRUPTED": (
        "The answer was cut short because the assistant stopped responding. Please ask again.",
        "アシスタントの応答が途中で止まったため、回答が中断されました。もう一度お尋ねください。",
    ),
    "INTERNAL_ERROR": (
        "Something went wrong on our side. Please try again.",
        "サーバー側で問題が発生しました。もう一度お試しください。",
    ),
}

#: Japanese for the pydantic error types a client can trigger; English comes from pydantic.
_FIELD_MESSAGES_JA: dict[str, str] = {
    "missing": "必須の項目です。",
    "extra_forbidden": "この項目は使用できません。",
    "string_type": "文字列で指定してください。",
    "string_too_short": "{min_length}文字以上で入力してください。",
    "string_too_long": "{max_length}文字以内で入力してください。",
    "string_pattern_mismatch": "形式が正しくありません。",
    "int_type": "整数で指定してください。",
    "int_parsing": "整数で指定してください。",
    "int_from_float": "整数で指定してください。",
    "bool_type": "true か false で指定してください。",
    "bool_parsing": "true か false で指定してください。",
    "greater_than_equal": "{ge}以上の値を指定してください。",
    "less_than_equal": "{le}以下の値を指定してください。",
    "enum": "次のいずれかを指定してください: {expected}",
    "literal_error": "次のいずれかを指定してください: {expected}",
    "model_type": "JSONオブジェクトで指定してください。",
    "model_attributes_type": "JSONオブジェクトで指定してください。",
    "dict_type": "JSONオブジェクトで指定してください。",
    "list_type": "配列で指定してください。",
    "value_error": "値が正しくありません。",
}


def message(code: str, language: Language, **params: object) -> str:
    """The localized message of an error code, with ``params`` filled in."""
    english, japanese = _MESSAGES.get(code, _MESSAGES["INTERNAL_ERROR"])
    return (japanese if language == "ja" else english).format(**params)


def field_message(error_type: str, english: str, language: Language, ctx: dict[str, object]) -> str:
    """The message for one invalid field: pydantic's English, or our Japanese for its type."""
    if language != "ja" or error_type not in _FIELD_MESSAGES_JA:
        return english
    try:
        return _FIELD_MESSAGES_JA[error_type].format(**ctx)
    except (KeyError, IndexError):
        return english
