"""The curated word lists of the review checks: short, in Japanese and English, and honest.

Entries are regular expressions (``regex`` syntax) matched against the review after NFKC
normalization (full-width letters and digits become ASCII, half-width kana become full width)
and case folding. ``review_checks`` adds word boundaries itself: an entry that starts or ends
with a Latin letter must stand as a whole word, one that starts or ends with katakana must not
continue a longer katakana word (バカ is not in バカンス).

What is left out is as deliberate as what is in. Manga reviews describe fights and deaths all
day, so plot words (殺す, kill, die) are no threat; only threats aimed at a person
(殺してやる, "I'll kill you") are. Japanese kana words that hide inside everyday words
(カス in カスタム, しね in シネマ, くそ in 行くそうです) are not listed at all. Add words with a
test showing the review that needed them.
"""

from __future__ import annotations

__all__ = [
    "EMOJI_NEGATIVE",
    "EMOJI_POSITIVE",
    "HARASSMENT",
    "NEGATION_JA",
    "NEGATIVE_EN",
    "NEGATIVE_JA",
    "NEGATORS_EN",
    "POSITIVE_EN",
    "POSITIVE_JA",
    "PROFANITY",
    "SPOILER_MARKERS",
    "THREATS",
]

#: Threats of violence against a person, incitement to self-harm, doxxing: ``critical``.
THREATS = (
    r"殺してやる",
    r"殺すぞ",
    r"ぶっ殺",
    r"ぶっころ",
    r"殺害予告",
    r"爆破(?:予告|してやる|するぞ)",
    r"(?:燃やして|刺して|放火して)やる",
    r"(?:住所|家)(?:を|は)?特定",
    r"(?:i'?ll|i will|i'?m going to|im going to|gonna) (?:kill|hurt|stab|shoot|find) "
    r"(?:you|u|him|her|them|the author)",
    r"kill (?:yo)?urself",
    r"kys",
    r"i know where you live",
)

#: Abuse aimed at a person (the author, another reviewer, staff): ``high``.
HARASSMENT = (
    r"死ね(?![なるばま])",
    r"氏ね",
    r"消えろ",
    r"きもい",
    r"キモ(?:い|イ)",
    r"うざい",
    r"ウザ(?:い|イ)",
    r"ブス",
    r"(?:作者|作家|先生|お前|おまえ|あんた)(?:は|って|、)?(?:ゴミ|カス|クズ|バカ|馬鹿|アホ|無能)",
    r"idiots?",
    r"morons?",
    r"retard(?:ed|s)?",
    r"go die",
    r"drop dead",
    r"(?:author|artist|mangaka|you) (?:is|are) (?:trash|garbage|worthless|an idiot|a moron)",
)

#: Vulgar words and plain insults, whoever they aim at: ``medium``.
PROFANITY = (
    r"クソ",
    r"糞",
    r"ちくしょう",
    r"畜生",
    r"ファック",
    r"バカ",
    r"馬鹿",
    r"アホ",
    r"fuck(?:s|ed|er|ers|ing)?",
    r"motherfucker",
    r"shit(?:s|ty)?",
    r"bullshit",
    r"bitch(?:es)?",
    r"asshole",
    r"bastard",
    r"cunt",
    r"dickhead",
    r"wtf",
)

#: Markers of a review giving the story away: ``low`` (the shop may fold such reviews).
SPOILER_MARKERS = (r"ネタバレ", r"ねたばれ", r"spoilers?", r"spoiler alert")

#: Words of a pleased reader. Japanese entries are stems, so the negation check sees what
#: follows them (面白 + くない).
POSITIVE_JA = (
    "面白",
    "おもしろ",
    "オモシロ",
    "最高",
    "感動",
    "泣け",
    "好き",
    "素晴らし",
    "すばらし",
    "楽し",
    "傑作",
    "名作",
    "神作",
    "おすすめ",
    "オススメ",
    "お勧め",
    "満足",
    "良(?=[いかく])",
    "よかった",
    "美し",
    "かっこい",
    "カッコい",
    "可愛",
    "かわいい",
    "夢中",
)
#: Words of a disappointed reader.
NEGATIVE_JA = (
    "つまらな",
    "くだらな",
    "最悪",
    "がっかり",
    "ガッカリ",
    "残念",
    "退屈",
    "微妙",
    "ひど(?=[いかく])",
    "酷(?=[いかく])",
    "期待外れ",
    "期待はずれ",
    "駄作",
    "嫌い",
    "飽き",
    "無駄",
    "金返せ",
    "読みにく",
    "不満",
    "失望",
)
#: What, right after a Japanese sentiment word, negates it: 面白くない, 感動しなかった,
#: 好きではありません, 楽しめなかった, 飽きさせない.
NEGATION_JA = (
    r"(?:く|くは|くも|では|じゃ|じゃあ|には|とは|とも|し|でき|させ|れ|られ|め)?"
    r"(?:な(?:い|かった|く|さ)|ありません|ません|ねえ|ねー|ず)"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


POSITIVE_EN = _words(
    """good great amazing awesome excellent love loved loves lovely beautiful fun enjoyed
    enjoyable masterpiece recommend recommended best brilliant wonderful touching fantastic
    perfect favorite favourite gripping hilarious heartwarming liked"""
)
NEGATIVE_EN = _words(
    """bad boring bored awful terrible worst disappointing disappointed disappointment hate
    hated waste dull poor meh mediocre horrible confusing overrated rushed"""
)
#: Words that negate a sentiment word up to three words after them ("not good", "never
#: boring", "wouldn't recommend").
NEGATORS_EN = _words(
    """not no never nothing hardly barely without neither nor isn't wasn't aren't weren't
    don't didn't doesn't can't couldn't won't wouldn't shouldn't isnt wasnt arent werent dont
    didnt doesnt cant couldnt wont wouldnt shouldnt"""
)

EMOJI_POSITIVE = frozenset("😍🥰😊😄😁👍❤💕💖✨🔥🙌👏🤩💯")
EMOJI_NEGATIVE = frozenset("😡😠👎💔😞😩🤮😴🙄")
