"""Synthetic catalog generator for scale tests and benchmarks.

`mangaassist catalog generate --count N --seed S` writes records made here. Every record follows
docs/catalog-format.md and carries ``"isbnSynthetic": true``.

Titles are assembled from curated word parts. Each part has its Japanese spelling, its hiragana
reading, its Hepburn romaji (no macrons, long vowels spelled out) and an English word, so
``titleJa``, ``titleKana``, ``titleRomaji`` and ``title`` always say the same thing. Authors are
built the same way from family and given names. The synopses name the title's theme words, so a
search over synopses finds the series.

Output depends only on ``(count, seed)``: all randomness comes from one ``random.Random(seed)``.
Only the standard library is used.

Example:
    >>> from pathlib import Path
    >>> write_jsonl(generate_records(100_000, seed=1), Path("catalog-100k.jsonl"))  # doctest: +SKIP
    100000
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple, TypeVar

__all__ = ["MAX_COUNT", "generate_records", "write_jsonl"]

_T = TypeVar("_T")

_ISBN_PREFIX = 9784999
"""First seven digits of synthetic ISBNs (docs/catalog-format.md)."""
_ISBN_BLOCK = 100_000
"""Records per ISBN prefix (five free digits); later blocks use 9784998, 9784997, ..."""
_ISBN_MIN_PREFIX = 9780000
MAX_COUNT = (_ISBN_PREFIX - _ISBN_MIN_PREFIX + 1) * _ISBN_BLOCK
"""Most records one call can generate with distinct synthetic ISBNs (500,000,000)."""

_GENRES = ("shonen", "shoujo", "seinen", "josei", "isekai", "horror", "sports")
_MAX_PART = 99
"""Highest arc number (第九十九部) appended to keep (titleJa, authorJa) pairs unique."""
_LAST_YEAR = 2026
_STOCK_ZERO_SHARE = 0.12


# ---------------------------------------------------------------------------------------------
# Word parts
# ---------------------------------------------------------------------------------------------


class _Word(NamedTuple):
    """A title or name part in all four scripts."""

    ja: str
    kana: str
    romaji: str
    en: str


def _hiragana(text: str) -> str:
    """Katakana converted to hiragana; ー, ・ and everything else unchanged."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def _words(rows: str) -> tuple[_Word, ...]:
    """Parse ``ja|kana|romaji|english`` rows, one per line."""
    return tuple(_Word(*line.split("|")) for line in rows.strip().splitlines())


def _katakana_words(rows: str) -> tuple[_Word, ...]:
    """Parse ``katakana|romaji|english`` rows; the reading is the katakana in hiragana."""
    out = []
    for line in rows.strip().splitlines():
        ja, romaji, en = line.split("|")
        out.append(_Word(ja, _hiragana(ja), romaji, en))
    return tuple(out)


def _simplified(romaji: str) -> str:
    """Romaji as names are printed in English: long vowels shortened (Satou -> Sato)."""
    return romaji.replace("ou", "o").replace("oo", "o").replace("uu", "u")


def _names(rows: str) -> tuple[_Word, ...]:
    """Parse ``kanji|kana|romaji[|english]`` name rows; English defaults to simplified romaji."""
    out = []
    for line in rows.strip().splitlines():
        ja, kana, romaji, *en = line.split("|")
        out.append(_Word(ja, kana, romaji, en[0] if en else _simplified(romaji)))
    return tuple(out)


_NOUNS = _words(
    """
竜|りゅう|Ryuu|Dragon
剣|つるぎ|Tsurugi|Sword
城|しろ|Shiro|Castle
星|ほし|Hoshi|Star
月|つき|Tsuki|Moon
花|はな|Hana|Flower
桜|さくら|Sakura|Cherry Blossom
海|うみ|Umi|Sea
空|そら|Sora|Sky
森|もり|Mori|Forest
炎|ほのお|Honoo|Flame
氷|こおり|Koori|Ice
雪|ゆき|Yuki|Snow
風|かぜ|Kaze|Wind
雷|いかずち|Ikazuchi|Thunder
影|かげ|Kage|Shadow
夢|ゆめ|Yume|Dream
魔女|まじょ|Majo|Witch
王|おう|Ou|King
姫|ひめ|Hime|Princess
騎士|きし|Kishi|Knight
侍|さむらい|Samurai|Samurai
忍|しのび|Shinobi|Shinobi
鬼|おに|Oni|Ogre
狐|きつね|Kitsune|Fox
狼|おおかみ|Ookami|Wolf
猫|ねこ|Neko|Cat
鴉|からす|Karasu|Crow
蝶|ちょう|Chou|Butterfly
獣|けもの|Kemono|Beast
神|かみ|Kami|God
天使|てんし|Tenshi|Angel
悪魔|あくま|Akuma|Devil
勇者|ゆうしゃ|Yuusha|Hero
魔王|まおう|Maou|Demon Lord
賢者|けんじゃ|Kenja|Sage
聖女|せいじょ|Seijo|Saint
人形|にんぎょう|Ningyou|Doll
時計|とけい|Tokei|Clock
鏡|かがみ|Kagami|Mirror
鍵|かぎ|Kagi|Key
扉|とびら|Tobira|Door
塔|とう|Tou|Tower
庭|にわ|Niwa|Garden
街|まち|Machi|Town
島|しま|Shima|Island
国|くに|Kuni|Kingdom
迷宮|めいきゅう|Meikyuu|Labyrinth
図書館|としょかん|Toshokan|Library
教室|きょうしつ|Kyoushitsu|Classroom
喫茶店|きっさてん|Kissaten|Cafe
厨房|ちゅうぼう|Chuubou|Kitchen
列車|れっしゃ|Ressha|Train
宝石|ほうせき|Houseki|Jewel
指輪|ゆびわ|Yubiwa|Ring
仮面|かめん|Kamen|Mask
歌|うた|Uta|Song
旋律|せんりつ|Senritsu|Melody
約束|やくそく|Yakusoku|Promise
記憶|きおく|Kioku|Memory
秘密|ひみつ|Himitsu|Secret
奇跡|きせき|Kiseki|Miracle
運命|うんめい|Unmei|Fate
亡霊|ぼうれい|Bourei|Phantom
死神|しにがみ|Shinigami|Reaper
帝国|ていこく|Teikoku|Empire
戦場|せんじょう|Senjou|Battlefield
翼|つばさ|Tsubasa|Wing
太陽|たいよう|Taiyou|Sun
虹|にじ|Niji|Rainbow
灯火|ともしび|Tomoshibi|Lamplight
刀|かたな|Katana|Blade
弓|ゆみ|Yumi|Bow
盾|たて|Tate|Shield
薔薇|ばら|Bara|Rose
椿|つばき|Tsubaki|Camellia
蛍|ほたる|Hotaru|Firefly
鯨|くじら|Kujira|Whale
魔法使い|まほうつかい|Mahoutsukai|Wizard
錬金術師|れんきんじゅつし|Renkinjutsushi|Alchemist
探偵|たんてい|Tantei|Detective
料理人|りょうりにん|Ryourinin|Chef
少年|しょうねん|Shounen|Boy
旅人|たびびと|Tabibito|Traveler
海賊|かいぞく|Kaizoku|Pirate
怪盗|かいとう|Kaitou|Phantom Thief
巫女|みこ|Miko|Shrine Maiden
"""
)

# Attributive forms, ready to stand before a noun.
_ADJECTIVES = _words(
    """
蒼き|あおき|Aoki|Azure
紅き|あかき|Akaki|Crimson
黒き|くろき|Kuroki|Black
白き|しろき|Shiroki|White
遠い|とおい|Tooi|Distant
古い|ふるい|Furui|Ancient
小さな|ちいさな|Chiisana|Little
大きな|おおきな|Ookina|Great
優しい|やさしい|Yasashii|Gentle
静かな|しずかな|Shizuka na|Silent
眠れる|ねむれる|Nemureru|Sleeping
失われた|うしなわれた|Ushinawareta|Lost
忘れられた|わすれられた|Wasurerareta|Forgotten
呪われた|のろわれた|Norowareta|Cursed
美しき|うつくしき|Utsukushiki|Beautiful
気高き|けだかき|Kedakaki|Noble
儚い|はかない|Hakanai|Fleeting
孤独な|こどくな|Kodoku na|Lonely
最後の|さいごの|Saigo no|Last
永遠の|えいえんの|Eien no|Eternal
黄金の|おうごんの|Ougon no|Golden
月夜の|つきよの|Tsukiyo no|Moonlit
灼熱の|しゃくねつの|Shakunetsu no|Scorching
真夜中の|まよなかの|Mayonaka no|Midnight
輝ける|かがやける|Kagayakeru|Shining
燃える|もえる|Moeru|Burning
凍える|こごえる|Kogoeru|Freezing
さまよう|さまよう|Samayou|Wandering
囚われの|とらわれの|Toraware no|Captive
眠らない|ねむらない|Nemuranai|Sleepless
名もなき|なもなき|Namonaki|Nameless
見えない|みえない|Mienai|Invisible
はぐれ|はぐれ|Hagure|Stray
禁じられた|きんじられた|Kinjirareta|Forbidden
壊れた|こわれた|Kowareta|Broken
青い|あおい|Aoi|Blue
赤い|あかい|Akai|Red
甘い|あまい|Amai|Sweet
"""
)

_LOANWORDS = _katakana_words(
    """
ブラッド|Buraddo|Blood
クラウン|Kuraun|Crown
シャドウ|Shadou|Shadow
ナイト|Naito|Knight
スター|Sutaa|Star
ドラゴン|Doragon|Dragon
ゲート|Geeto|Gate
ソード|Soodo|Sword
ブレイブ|Bureibu|Brave
ハート|Haato|Heart
ムーン|Muun|Moon
ファントム|Fantomu|Phantom
ロード|Roodo|Lord
マジック|Majikku|Magic
ガーデン|Gaaden|Garden
ワールド|Waarudo|World
エンド|Endo|End
ゼロ|Zero|Zero
クロス|Kurosu|Cross
ブルー|Buruu|Blue
レッド|Reddo|Red
ダーク|Daaku|Dark
ライト|Raito|Light
フェアリー|Fearii|Fairy
ウィッチ|Witchi|Witch
キング|Kingu|King
クイーン|Kuiin|Queen
ロスト|Rosuto|Lost
メモリー|Memorii|Memory
リバース|Ribaasu|Rebirth
ノクターン|Nokutaan|Nocturne
カルテット|Karutetto|Quartet
アイドル|Aidoru|Idol
ステージ|Suteeji|Stage
メロディ|Merodi|Melody
ソウル|Souru|Soul
エンジェル|Enjeru|Angel
ブレイド|Bureido|Blade
ストーム|Sutoomu|Storm
フレイム|Fureimu|Flame
パレード|Pareedo|Parade
"""
)

_SPORTS = _words(
    """
野球|やきゅう|Yakyuu|Baseball
卓球|たっきゅう|Takkyuu|Table Tennis
陸上|りくじょう|Rikujou|Track
水泳|すいえい|Suiei|Swimming
剣道|けんどう|Kendou|Kendo
柔道|じゅうどう|Juudou|Judo
弓道|きゅうどう|Kyuudou|Archery
相撲|すもう|Sumou|Sumo
自転車|じてんしゃ|Jitensha|Cycling
空手|からて|Karate|Karate
体操|たいそう|Taisou|Gymnastics
新体操|しんたいそう|Shintaisou|Rhythmic Gymnastics
登山|とざん|Tozan|Climbing
駅伝|えきでん|Ekiden|Relay Running
競技かるた|きょうぎかるた|Kyougi Karuta|Competitive Karuta
"""
) + _katakana_words(
    """
サッカー|Sakkaa|Soccer
バスケ|Basuke|Basketball
バレー|Baree|Volleyball
テニス|Tenisu|Tennis
ボクシング|Bokushingu|Boxing
ラグビー|Ragubii|Rugby
スケート|Sukeeto|Skating
ハンドボール|Handobooru|Handball
バドミントン|Badominton|Badminton
ゴルフ|Gorufu|Golf
フェンシング|Fenshingu|Fencing
ダンス|Dansu|Dance
サーフィン|Saafin|Surfing
ソフトボール|Sofutobooru|Softball
マラソン|Marason|Marathon
ボート|Booto|Rowing
"""
)
_MARTIAL_SPORTS = frozenset({"剣道", "柔道", "弓道", "相撲", "空手", "ボクシング", "フェンシング"})

_SPORT_SUFFIXES = _words(
    """
魂|だましい|Damashii|Spirit
日和|びより|Biyori|Days
少年|しょうねん|Shounen|Boys
女子|じょし|Joshi|Girls
部|ぶ|Bu|Club
"""
)

_SCHOOL_NAMES = _names(
    """
桜丘|さくらがおか|Sakuragaoka
青葉|あおば|Aoba
白鳥|しらとり|Shiratori
星野|ほしの|Hoshino
緑川|みどりかわ|Midorikawa
朝日|あさひ|Asahi
若葉|わかば|Wakaba
東雲|しののめ|Shinonome
北斗|ほくと|Hokuto
海星|かいせい|Kaisei
翔陽|しょうよう|Shouyou
月見|つきみ|Tsukimi
大空|おおぞら|Oozora
風見|かざみ|Kazami
紅陵|こうりょう|Kouryou
清流|せいりゅう|Seiryuu
稲荷崎|いなりざき|Inarizaki
英明|えいめい|Eimei
白樺|しらかば|Shirakaba
山吹|やまぶき|Yamabuki
"""
)

_SCHOOL_KINDS = _words(
    """
高校|こうこう|Koukou|High School
中学|ちゅうがく|Chuugaku|Middle School
学園|がくえん|Gakuen|Academy
"""
)

_FAMILY_NAMES = _names(
    """
佐藤|さとう|Satou
鈴木|すずき|Suzuki
高橋|たかはし|Takahashi
田中|たなか|Tanaka
伊藤|いとう|Itou
渡辺|わたなべ|Watanabe
山本|やまもと|Yamamoto
中村|なかむら|Nakamura
小林|こばやし|Kobayashi
加藤|かとう|Katou
吉田|よしだ|Yoshida
山田|やまだ|Yamada
佐々木|ささき|Sasaki
山口|やまぐち|Yamaguchi
松本|まつもと|Matsumoto
井上|いのうえ|Inoue|Inoue
木村|きむら|Kimura
林|はやし|Hayashi
斎藤|さいとう|Saitou
清水|しみず|Shimizu
山崎|やまざき|Yamazaki
森|もり|Mori
池田|いけだ|Ikeda
橋本|はしもと|Hashimoto
阿部|あべ|Abe
石川|いしかわ|Ishikawa
山下|やました|Yamashita
中島|なかじま|Nakajima
石井|いしい|Ishii
小川|おがわ|Ogawa
前田|まえだ|Maeda
岡田|おかだ|Okada
長谷川|はせがわ|Hasegawa
藤田|ふじた|Fujita
後藤|ごとう|Gotou
近藤|こんどう|Kondou
村上|むらかみ|Murakami
遠藤|えんどう|Endou
青木|あおき|Aoki
坂本|さかもと|Sakamoto
福田|ふくだ|Fukuda
太田|おおた|Oota
西村|にしむら|Nishimura
藤井|ふじい|Fujii
岡本|おかもと|Okamoto
松田|まつだ|Matsuda
中川|なかがわ|Nakagawa
中野|なかの|Nakano
原田|はらだ|Harada
小野|おの|Ono
田村|たむら|Tamura
竹内|たけうち|Takeuchi
金子|かねこ|Kaneko
和田|わだ|Wada
中山|なかやま|Nakayama
石田|いしだ|Ishida
上田|うえだ|Ueda
森田|もりた|Morita
柴田|しばた|Shibata
酒井|さかい|Sakai
工藤|くどう|Kudou
横山|よこやま|Yokoyama
宮崎|みやざき|Miyazaki
荒木|あらき|Araki
桜井|さくらい|Sakurai
"""
)

_GIVEN_NAMES = _names(
    """
翔太|しょうた|Shouta
健太|けんた|Kenta
大輔|だいすけ|Daisuke
拓也|たくや|Takuya
直樹|なおき|Naoki
浩二|こうじ|Kouji
雄一|ゆういち|Yuuichi
恭平|きょうへい|Kyouhei
亮|りょう|Ryou
誠|まこと|Makoto
隆|たかし|Takashi
悠真|ゆうま|Yuuma
蓮|れん|Ren
陽翔|はると|Haruto
大和|やまと|Yamato
和也|かずや|Kazuya
達也|たつや|Tatsuya
修|おさむ|Osamu
浩平|こうへい|Kouhei
剛|つよし|Tsuyoshi
哲也|てつや|Tetsuya
智|さとし|Satoshi
光|ひかる|Hikaru
秀樹|ひでき|Hideki
純|じゅん|Jun
洋介|ようすけ|Yousuke
健二|けんじ|Kenji
一郎|いちろう|Ichirou
正樹|まさき|Masaki
啓太|けいた|Keita
陸|りく|Riku
湊|みなと|Minato
優子|ゆうこ|Yuuko
陽子|ようこ|Youko
美咲|みさき|Misaki
さくら|さくら|Sakura
葵|あおい|Aoi
陽菜|ひな|Hina
結衣|ゆい|Yui
愛|あい|Ai
真由美|まゆみ|Mayumi
恵|めぐみ|Megumi
由紀|ゆき|Yuki
明美|あけみ|Akemi
直美|なおみ|Naomi
麻衣|まい|Mai
彩|あや|Aya
香織|かおり|Kaori
千尋|ちひろ|Chihiro
美穂|みほ|Miho
奈々|なな|Nana
里奈|りな|Rina
凛|りん|Rin
楓|かえで|Kaede
紗希|さき|Saki
瞳|ひとみ|Hitomi
綾乃|あやの|Ayano
桃子|ももこ|Momoko
智子|ともこ|Tomoko
京子|きょうこ|Kyouko
雪菜|ゆきな|Yukina
遥|はるか|Haruka
詩織|しおり|Shiori
"""
)

# Extra theme words for sports synopses when the title names only the sport.
_SPORT_THEMES = _words(
    """
勝利|しょうり|Shouri|Victory
夏|なつ|Natsu|Summer
夢|ゆめ|Yume|Dream
約束|やくそく|Yakusoku|Promise
絆|きずな|Kizuna|Bond
"""
)

_DIGITS = _words(
    """
一|いち|Ichi|1
二|に|Ni|2
三|さん|San|3
四|よん|Yon|4
五|ご|Go|5
六|ろく|Roku|6
七|なな|Nana|7
八|はち|Hachi|8
九|きゅう|Kyuu|9
"""
)


def _numeral(n: int) -> _Word:
    """Japanese numeral for 1..99 (二十三 / にじゅうさん / Nijuusan / 23)."""
    tens, ones = divmod(n, 10)
    ja, kana, romaji = "", "", ""
    if tens:
        if tens > 1:
            digit = _DIGITS[tens - 1]
            ja, kana, romaji = digit.ja, digit.kana, digit.romaji
        ja, kana, romaji = ja + "十", kana + "じゅう", romaji + "juu"
    if ones:
        digit = _DIGITS[ones - 1]
        ja, kana, romaji = ja + digit.ja, kana + digit.kana, romaji + digit.romaji.lower()
    return _Word(ja, kana, romaji.capitalize(), str(n))


# ---------------------------------------------------------------------------------------------
# Seeded choices
# ---------------------------------------------------------------------------------------------


def _choose(rng: random.Random, seq: Sequence[_T]) -> _T:
    """A uniformly random element (faster than ``Random.choice``; still seeded)."""
    return seq[int(rng.random() * len(seq))]


def _choose_weighted(rng: random.Random, seq: Sequence[_T], cum_weights: Sequence[float]) -> _T:
    """A random element of ``seq`` by cumulative weights; zero-weight elements never come up."""
    return seq[bisect_right(cum_weights, rng.random() * cum_weights[-1])]


class _Weighted(NamedTuple):
    """Values with cumulative weights."""

    values: tuple[str, ...]
    cum: tuple[float, ...]


def _weighted(**weights: float) -> _Weighted:
    return _Weighted(tuple(weights), tuple(accumulate(weights.values())))


# ---------------------------------------------------------------------------------------------
# Title patterns
# ---------------------------------------------------------------------------------------------


class _Title(NamedTuple):
    """A composed title, the words its synopsis should mention and the tags it implies."""

    ja: str
    kana: str
    romaji: str
    en: str
    themes: tuple[_Word, ...]
    sport: _Word | None = None
    tags: tuple[str, ...] = ()


_Pattern = Callable[[random.Random], _Title]


def _two(rng: random.Random, words: Sequence[_Word]) -> tuple[_Word, _Word]:
    """Two different random words."""
    first = _choose(rng, words)
    second = _choose(rng, words)
    while second is first:
        second = _choose(rng, words)
    return first, second


def _adj_noun_of_noun(rng: random.Random) -> _Title:
    """「蒼き竜の城」 -> "The Castle of the Azure Dragon"."""
    adj = _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"{adj.ja}{n1.ja}の{n2.ja}",
        f"{adj.kana}{n1.kana}の{n2.kana}",
        f"{adj.romaji} {n1.romaji} no {n2.romaji}",
        f"The {n2.en} of the {adj.en} {n1.en}",
        (n2, n1),
    )


def _noun_of_adj_noun(rng: random.Random) -> _Title:
    """「竜の蒼き城」 -> "The Azure Castle of the Dragon"."""
    adj = _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"{n1.ja}の{adj.ja}{n2.ja}",
        f"{n1.kana}の{adj.kana}{n2.kana}",
        f"{n1.romaji} no {adj.romaji} {n2.romaji}",
        f"The {adj.en} {n2.en} of the {n1.en}",
        (n2, n1),
    )


def _adj_noun_of_adj_noun(rng: random.Random) -> _Title:
    """「蒼き竜の小さな城」 -> "The Little Castle of the Azure Dragon"."""
    a1, a2 = _choose(rng, _ADJECTIVES), _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"{a1.ja}{n1.ja}の{a2.ja}{n2.ja}",
        f"{a1.kana}{n1.kana}の{a2.kana}{n2.kana}",
        f"{a1.romaji} {n1.romaji} no {a2.romaji} {n2.romaji}",
        f"The {a2.en} {n2.en} of the {a1.en} {n1.en}",
        (n2, n1),
    )


def _adj_noun_and_adj_noun(rng: random.Random) -> _Title:
    """「小さな魔女と眠れる竜」 -> "The Little Witch and the Sleeping Dragon"."""
    a1, a2 = _choose(rng, _ADJECTIVES), _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"{a1.ja}{n1.ja}と{a2.ja}{n2.ja}",
        f"{a1.kana}{n1.kana}と{a2.kana}{n2.kana}",
        f"{a1.romaji} {n1.romaji} to {a2.romaji} {n2.romaji}",
        f"The {a1.en} {n1.en} and the {a2.en} {n2.en}",
        (n1, n2),
    )


def _noun_and_noun(rng: random.Random) -> _Title:
    """「狼と魔女」 -> "The Wolf and the Witch"."""
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"{n1.ja}と{n2.ja}",
        f"{n1.kana}と{n2.kana}",
        f"{n1.romaji} to {n2.romaji}",
        f"The {n1.en} and the {n2.en}",
        (n1, n2),
    )


def _loanwords(rng: random.Random) -> _Title:
    """「ブラッド・クラウン」 -> "Blood Crown"."""
    k1, k2 = _two(rng, _LOANWORDS)
    return _Title(
        f"{k1.ja}・{k2.ja}",
        f"{k1.kana}・{k2.kana}",
        f"{k1.romaji} {k2.romaji}",
        f"{k1.en} {k2.en}",
        (k2, k1),
    )


def _monogatari(rng: random.Random) -> _Title:
    """「小さな魔女と鯨の物語」 -> "The Tale of the Little Witch and the Whale"."""
    adj = _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"{adj.ja}{n1.ja}と{n2.ja}の物語",
        f"{adj.kana}{n1.kana}と{n2.kana}のものがたり",
        f"{adj.romaji} {n1.romaji} to {n2.romaji} no Monogatari",
        f"The Tale of the {adj.en} {n1.en} and the {n2.en}",
        (n1, n2),
    )


def _shoujo(rng: random.Random) -> _Title:
    """「最後の竜少女」 -> "The Last Dragon Girl"."""
    adj, noun = _choose(rng, _ADJECTIVES), _choose(rng, _NOUNS)
    return _Title(
        f"{adj.ja}{noun.ja}少女",
        f"{adj.kana}{noun.kana}しょうじょ",
        f"{adj.romaji} {noun.romaji} Shoujo",
        f"The {adj.en} {noun.en} Girl",
        (noun,),
    )


def _reincarnated_as(rng: random.Random) -> _Title:
    """「転生したら蒼き竜の騎士だった件」 -> "That Time I Got Reincarnated as the Knight of ..."."""
    adj = _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"転生したら{adj.ja}{n1.ja}の{n2.ja}だった件",
        f"てんせいしたら{adj.kana}{n1.kana}の{n2.kana}だったけん",
        f"Tensei Shitara {adj.romaji} {n1.romaji} no {n2.romaji} Datta Ken",
        f"That Time I Got Reincarnated as the {n2.en} of the {adj.en} {n1.en}",
        (n2, n1),
        tags=("reincarnation",),
    )


def _became_in_another_world(rng: random.Random) -> _Title:
    """「異世界で小さな国の魔女になりました」 -> "I Became the Witch of the Little Kingdom ..."."""
    adj = _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"異世界で{adj.ja}{n1.ja}の{n2.ja}になりました",
        f"いせかいで{adj.kana}{n1.kana}の{n2.kana}になりました",
        f"Isekai de {adj.romaji} {n1.romaji} no {n2.romaji} ni Narimashita",
        f"I Became the {n2.en} of the {adj.en} {n1.en} in Another World",
        (n2, n1),
    )


def _tensei(rng: random.Random) -> _Title:
    """「最後の魔王転生」 -> "Reincarnation of the Last Demon Lord"."""
    adj, noun = _choose(rng, _ADJECTIVES), _choose(rng, _NOUNS)
    return _Title(
        f"{adj.ja}{noun.ja}転生",
        f"{adj.kana}{noun.kana}てんせい",
        f"{adj.romaji} {noun.romaji} Tensei",
        f"Reincarnation of the {adj.en} {noun.en}",
        (noun,),
        tags=("reincarnation",),
    )


def _curse(rng: random.Random) -> _Title:
    """「忘れられた人形と鏡の呪い」 -> "The Curse of the Forgotten Doll and the Mirror"."""
    adj = _choose(rng, _ADJECTIVES)
    n1, n2 = _two(rng, _NOUNS)
    return _Title(
        f"{adj.ja}{n1.ja}と{n2.ja}の呪い",
        f"{adj.kana}{n1.kana}と{n2.kana}ののろい",
        f"{adj.romaji} {n1.romaji} to {n2.romaji} no Noroi",
        f"The Curse of the {adj.en} {n1.en} and the {n2.en}",
        (n1, n2),
        tags=("supernatural",),
    )


def _kaidan(rng: random.Random) -> _Title:
    """「真夜中の鏡怪談」 -> "Midnight Mirror Ghost Stories"."""
    adj, noun = _choose(rng, _ADJECTIVES), _choose(rng, _NOUNS)
    return _Title(
        f"{adj.ja}{noun.ja}怪談",
        f"{adj.kana}{noun.kana}かいだん",
        f"{adj.romaji} {noun.romaji} Kaidan",
        f"{adj.en} {noun.en} Ghost Stories",
        (noun,),
        tags=("supernatural",),
    )


def _sport_tags(sport: _Word) -> tuple[str, ...]:
    return ("martial_arts",) if sport.ja in _MARTIAL_SPORTS else ()


def _club_of(rng: random.Random) -> _Title:
    """「野球部の小さな魔女」 -> "The Little Witch of the Baseball Club"."""
    sport, adj, noun = _choose(rng, _SPORTS), _choose(rng, _ADJECTIVES), _choose(rng, _NOUNS)
    return _Title(
        f"{sport.ja}部の{adj.ja}{noun.ja}",
        f"{sport.kana}ぶの{adj.kana}{noun.kana}",
        f"{sport.romaji} Bu no {adj.romaji} {noun.romaji}",
        f"The {adj.en} {noun.en} of the {sport.en} Club",
        (noun,),
        sport,
        ("school", *_sport_tags(sport)),
    )


def _club_of_the(rng: random.Random) -> _Title:
    """「眠れる竜の野球部」 -> "The Baseball Club of the Sleeping Dragon"."""
    sport, adj, noun = _choose(rng, _SPORTS), _choose(rng, _ADJECTIVES), _choose(rng, _NOUNS)
    return _Title(
        f"{adj.ja}{noun.ja}の{sport.ja}部",
        f"{adj.kana}{noun.kana}の{sport.kana}ぶ",
        f"{adj.romaji} {noun.romaji} no {sport.romaji} Bu",
        f"The {sport.en} Club of the {adj.en} {noun.en}",
        (noun,),
        sport,
        ("school", *_sport_tags(sport)),
    )


def _school_club(rng: random.Random) -> _Title:
    """「青葉高校野球部」 -> "Aoba High School Baseball Club"."""
    place, kind = _choose(rng, _SCHOOL_NAMES), _choose(rng, _SCHOOL_KINDS)
    sport = _choose(rng, _SPORTS)
    return _Title(
        f"{place.ja}{kind.ja}{sport.ja}部",
        f"{place.kana}{kind.kana}{sport.kana}ぶ",
        f"{place.romaji} {kind.romaji} {sport.romaji} Bu",
        f"{place.en} {kind.en} {sport.en} Club",
        (),
        sport,
        ("school", *_sport_tags(sport)),
    )


def _adj_sport_club(rng: random.Random) -> _Title:
    """「燃える野球部」 -> "The Burning Baseball Club"."""
    adj, sport = _choose(rng, _ADJECTIVES), _choose(rng, _SPORTS)
    return _Title(
        f"{adj.ja}{sport.ja}部",
        f"{adj.kana}{sport.kana}ぶ",
        f"{adj.romaji} {sport.romaji} Bu",
        f"The {adj.en} {sport.en} Club",
        (),
        sport,
        ("school", *_sport_tags(sport)),
    )


def _sport_suffix(rng: random.Random) -> _Title:
    """「卓球魂」 -> "Table Tennis Spirit"."""
    sport, suffix = _choose(rng, _SPORTS), _choose(rng, _SPORT_SUFFIXES)
    return _Title(
        f"{sport.ja}{suffix.ja}",
        f"{sport.kana}{suffix.kana}",
        f"{sport.romaji} {suffix.romaji}",
        f"{sport.en} {suffix.en}",
        (),
        sport,
        _sport_tags(sport),
    )


# Pattern weights per genre. Small-vocabulary patterns get small weights so that 100,000
# records repeat few titles.
_GENERIC: tuple[tuple[_Pattern, float], ...] = (
    (_adj_noun_of_noun, 2.5),
    (_noun_of_adj_noun, 1.5),
    (_adj_noun_of_adj_noun, 3),
    (_adj_noun_and_adj_noun, 3),
    (_monogatari, 0.6),
    (_noun_and_noun, 0.3),
    (_loanwords, 0.15),
)
_PATTERNS: dict[str, tuple[tuple[_Pattern, float], ...]] = {
    "shonen": _GENERIC,
    "shoujo": (*_GENERIC, (_shoujo, 0.4)),
    "seinen": _GENERIC,
    "josei": (*_GENERIC, (_shoujo, 0.2)),
    "isekai": (
        (_reincarnated_as, 4),
        (_became_in_another_world, 2),
        (_tensei, 0.3),
        (_adj_noun_of_noun, 1),
        (_adj_noun_of_adj_noun, 1),
        (_adj_noun_and_adj_noun, 1),
        (_loanwords, 0.1),
    ),
    "horror": (
        (_curse, 1),
        (_kaidan, 0.3),
        (_adj_noun_of_noun, 1.5),
        (_noun_of_adj_noun, 1),
        (_adj_noun_of_adj_noun, 2),
        (_adj_noun_and_adj_noun, 1.5),
        (_loanwords, 0.1),
    ),
    "sports": (
        (_club_of, 5),
        (_club_of_the, 5),
        (_school_club, 0.3),
        (_adj_sport_club, 0.3),
        (_sport_suffix, 0.05),
    ),
}
_PATTERN_CHOICES = {
    genre: (tuple(p for p, _ in table), tuple(accumulate(w for _, w in table)))
    for genre, table in _PATTERNS.items()
}


# ---------------------------------------------------------------------------------------------
# Genre-dependent attributes
# ---------------------------------------------------------------------------------------------

_DEMOGRAPHICS = {
    "shonen": _weighted(shonen=92, kodomo=8),
    "shoujo": _weighted(shoujo=94, kodomo=6),
    "seinen": _weighted(seinen=1),
    "josei": _weighted(josei=1),
    "isekai": _weighted(seinen=55, shonen=35, josei=6, shoujo=4),
    "horror": _weighted(seinen=55, shonen=20, shoujo=15, josei=10),
    "sports": _weighted(shonen=75, seinen=15, shoujo=6, kodomo=4),
}

_AGE_RATINGS = {
    "shonen": _weighted(all=45, teen=50, mature=5),
    "shoujo": _weighted(all=55, teen=45),
    "seinen": _weighted(teen=30, mature=55, adult=15),
    "josei": _weighted(teen=50, mature=45, adult=5),
    "isekai": _weighted(all=10, teen=65, mature=25),
    "horror": _weighted(teen=25, mature=55, adult=20),
    "sports": _weighted(all=65, teen=35),
}
_AGE_RATING_VALUES = {"all": "all", "teen": "13+", "mature": "16+", "adult": "18+"}


def _tag_rule(core: str, pool: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Tags every series of a genre has, and the pool the rest are drawn from."""
    return tuple(core.split()), tuple(pool.split())


_TAGS = {
    "shonen": _tag_rule(
        "action",
        "adventure comedy fantasy martial_arts supernatural school inspiring coming_of_age"
        " monsters sci_fi mecha drama tearjerker",
    ),
    "shoujo": _tag_rule(
        "romance",
        "school comedy drama slice_of_life heartwarming tearjerker fantasy magic idol music"
        " coming_of_age family",
    ),
    "seinen": _tag_rule(
        "",
        "drama psychological thriller crime sci_fi dark_fantasy historical military workplace"
        " mystery action post_apocalyptic cooking slice_of_life iyashikei detective art",
    ),
    "josei": _tag_rule(
        "drama",
        "romance workplace slice_of_life family cooking comedy heartwarming tearjerker"
        " iyashikei art music psychological",
    ),
    "isekai": _tag_rule(
        "fantasy",
        "reincarnation magic game adventure comedy monsters action cooking slice_of_life"
        " romance dark_fantasy",
    ),
    "horror": _tag_rule(
        "scary",
        "supernatural psychological mystery thriller survival dark_fantasy monsters school"
        " post_apocalyptic detective gore",
    ),
    "sports": _tag_rule(
        "inspiring",
        "school comedy drama coming_of_age tearjerker heartwarming romance slice_of_life",
    ),
}
_MATURE_TAGS = frozenset({"gore"})
_CHILD_UNSUITABLE = frozenset({"gore", "psychological", "crime", "thriller", "dark_fantasy"})

_PUBLISHERS = {
    demographic: tuple(names.split("|"))
    for demographic, names in {
        "shonen": "Shueisha|Kodansha|Shogakukan|Akita Shoten|Square Enix",
        "shoujo": "Shueisha|Hakusensha|Kodansha|Shogakukan|Akita Shoten",
        "seinen": "Kodansha|Shogakukan|Shueisha|Kadokawa|Square Enix|Hakusensha|Futabasha"
        "|Tokuma Shoten",
        "josei": "Shodensha|Kodansha|Shueisha|Shogakukan|Futabasha",
        "kodomo": "Shogakukan|Kodansha",
        "isekai": "Kadokawa|Micro Magazine|Overlap|Futabasha|Square Enix",
    }.items()
}

# Tax-included prices of one tankobon. Books for younger readers are cheap; seinen, josei and
# large-format books cost more.
_PRICES = (484, 495, 528, 550, 594, 605, 660, 693, 715, 748, 770, 792, 825, 880, 990, 1100)
_PRICE_CUM = {
    demographic: tuple(accumulate(weights))
    for demographic, weights in {
        "kodomo": (20, 15, 25, 20, 12, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        "shonen": (10, 8, 20, 18, 14, 6, 8, 5, 4, 3, 2, 1, 1, 0, 0, 0),
        "shoujo": (10, 10, 18, 18, 14, 6, 8, 5, 4, 3, 2, 1, 1, 0, 0, 0),
        "seinen": (1, 1, 4, 5, 6, 4, 12, 14, 14, 12, 9, 6, 5, 3, 2, 2),
        "josei": (1, 1, 4, 5, 6, 4, 12, 14, 14, 12, 9, 6, 5, 3, 2, 2),
    }.items()
}


# ---------------------------------------------------------------------------------------------
# Synopses: (English, Japanese) templates. {t1}/{t2} are theme words, {sport} the sport.
# ---------------------------------------------------------------------------------------------

_SYNOPSES: dict[str, tuple[tuple[str, str], ...]] = {
    "shonen": (
        (
            "A hot-blooded boy sets out to find the legendary {t1}. "
            "Rivals, friendship and the secret of the {t2} await him.",
            "熱血少年が伝説の{T1}を探す旅に出ます。"
            "ライバルや仲間との出会い、そして{T2}の秘密が彼を待っています。",
        ),
        (
            "When the {t1} awakens, an ordinary student must fight to protect everyone he loves. "
            "His only weapon is the power of the {t2}.",
            "{T1}が目覚めたとき、平凡な高校生が大切な人を守るために戦います。"
            "武器は{T2}の力だけです。",
        ),
        (
            "A young swordsman trains day and night to surpass the {t1}. "
            "His battle with the {t2} will decide the fate of the world.",
            "若き剣士が{T1}を超えるため、日々修行に励みます。{T2}との戦いが世界の運命を決めます。",
        ),
    ),
    "shoujo": (
        (
            "A shy high school girl meets a mysterious boy beneath the {t1}. "
            "Their promise about the {t2} slowly turns into first love.",
            "内気な女子高生が、{T1}の下で不思議な少年と出会います。"
            "{T2}をめぐる約束が、やがて初恋に変わっていきます。",
        ),
        (
            "Two childhood friends share a secret about the {t1}. "
            "A sweet and funny story of love, school and the {t2}.",
            "幼なじみの二人は{T1}にまつわる秘密を共有しています。"
            "恋と学校と{T2}の物語を、甘く楽しく描きます。",
        ),
    ),
    "seinen": (
        (
            "In a city ruled by the {t1}, a weary veteran takes one last job. "
            "The truth behind the {t2} is darker than anyone imagined.",
            "{T1}が支配する街で、疲れ果てたベテランが最後の仕事を引き受けます。"
            "{T2}の裏に隠された真実は、誰の想像よりも暗いものでした。",
        ),
        (
            "A quiet office worker's life changes the day he finds the {t1}. "
            "A grounded, psychological tale of ambition and the {t2}.",
            "ある日{T1}を見つけたことで、平凡な会社員の人生が一変します。"
            "野心と{T2}をめぐる、重厚な心理ドラマです。",
        ),
    ),
    "josei": (
        (
            "A thirty-year-old editor in Tokyo rediscovers the {t1} she once loved. "
            "Work, friendship and the {t2} shape a gentle, grown-up romance.",
            "東京で働く三十歳の編集者が、かつて愛した{T1}と再会します。"
            "仕事と友情、そして{T2}が織りなす大人の恋愛物語です。",
        ),
        (
            "After leaving her job, a woman opens a small shop named after the {t1}. "
            "Her customers bring stories of love, loss and the {t2}.",
            "仕事を辞めた女性が、{T1}にちなんだ小さな店を開きます。"
            "訪れる客たちが、恋と別れと{T2}の物語を運んできます。",
        ),
    ),
    "isekai": (
        (
            "After dying in an accident, an office worker wakes up in a world of the {t1}. "
            "Armed with modern knowledge, he sets out to master the {t2}.",
            "事故で命を落とした会社員が、{T1}の存在する異世界で目を覚まします。"
            "現代の知識を武器に、{T2}の攻略に挑みます。",
        ),
        (
            "A high school girl is summoned to a fantasy world ruled by the {t1}. "
            "Leveling up with new companions, she searches for the {t2} that can send her home.",
            "女子高生が{T1}の支配する異世界に召喚されます。"
            "仲間とともにレベルを上げながら、元の世界に帰るための{T2}を探します。",
        ),
    ),
    "horror": (
        (
            "Students who whisper the name of the {t1} vanish one by one. "
            "Something is waiting beyond the {t2}.",
            "{T1}の名をささやいた生徒が、一人また一人と消えていきます。"
            "{T2}の向こうで、何かが待っています。",
        ),
        (
            "A village festival honoring the {t1} hides a terrible ritual. "
            "Every night the {t2} comes a little closer.",
            "{T1}を祀る村の祭りには、恐ろしい儀式が隠されています。"
            "夜ごとに{T2}が少しずつ近づいてきます。",
        ),
    ),
    "sports": (
        (
            "A small but fearless rookie joins the weakest {sport} club in the prefecture. "
            "With sweat, rivalry and the {t1} in their hearts, the team aims for nationals.",
            "小柄だけど怖いもの知らずの新入生が、県内最弱の{SPORT}部に入部します。"
            "汗と友情と{T1}を胸に、チームは全国大会を目指します。",
        ),
        (
            "A former ace who quit {sport} after an injury is pulled back into the game. "
            "With new teammates and the {t1}, he learns to love the sport again.",
            "けがで{SPORT}をやめた元エースが、再び試合の舞台に戻ります。"
            "新しい仲間と{T1}とともに、もう一度{SPORT}を好きになっていきます。",
        ),
    ),
}


# ---------------------------------------------------------------------------------------------
# Ids and ISBNs (docs/catalog-format.md)
# ---------------------------------------------------------------------------------------------


def _derive_id(title_ja: str, author_ja: str) -> str:
    """The product id the catalog derives from title and author (docs/catalog-format.md)."""
    digest = hashlib.sha256(f"{title_ja}\x1f{author_ja}".encode()).digest()
    # The first 8 base32 characters encode exactly the first 5 bytes: same string, less work.
    return "MNG-" + base64.b32encode(digest[:5]).decode()


def _isbn13_check_digit(first12: str) -> str:
    """The ISBN-13 check digit completing 12 leading digits."""
    digits = [int(d) for d in first12]
    total = sum(digits[0::2]) + 3 * sum(digits[1::2])
    return str((10 - total % 10) % 10)


def _synthetic_isbn(index: int) -> str:
    """ISBN-13 of record ``index``: 9784999 + five digits; later blocks 9784998, 9784997, ..."""
    block, serial = divmod(index, _ISBN_BLOCK)
    first12 = f"{_ISBN_PREFIX - block}{serial:05d}"
    return first12 + _isbn13_check_digit(first12)


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


def _person(rng: random.Random) -> _Word:
    family, given = _choose(rng, _FAMILY_NAMES), _choose(rng, _GIVEN_NAMES)
    return _Word(
        family.ja + given.ja,
        family.kana + given.kana,
        f"{family.romaji} {given.romaji}",
        f"{given.en} {family.en}",
    )


def _author(rng: random.Random, genre: str) -> _Word:
    """One author, or now and then a writer / artist team (joined with `` / ``)."""
    first = _person(rng)
    if rng.random() >= (0.12 if genre in ("seinen", "isekai", "shonen") else 0.05):
        return first
    second = _person(rng)
    while second.ja == first.ja:
        second = _person(rng)
    return _Word(*(f"{a} / {b}" for a, b in zip(first, second, strict=True)))


def _with_part(title: _Title, part: int) -> _Title:
    """The title with an arc number: 「… 第二部」 / "…: Part 2" in every script."""
    num = _numeral(part)
    return title._replace(
        ja=f"{title.ja} 第{num.ja}部",
        kana=f"{title.kana} だい{num.kana}ぶ",
        romaji=f"{title.romaji} Dai {num.romaji} Bu",
        en=f"{title.en}: Part {part}",
    )


def _build(rng: random.Random, genre: str, seen_ids: set[str]) -> tuple[_Title, _Word, str]:
    """Title, author and an id not used yet; a repeated pair gets an arc number."""
    patterns, cum_weights = _PATTERN_CHOICES[genre]
    while True:
        title = _choose_weighted(rng, patterns, cum_weights)(rng)
        author = _author(rng, genre)
        record_id = _derive_id(title.ja, author.ja)
        if record_id not in seen_ids:
            return title, author, record_id
        for part in range(2, _MAX_PART + 1):
            numbered = _with_part(title, part)
            record_id = _derive_id(numbered.ja, author.ja)
            if record_id not in seen_ids:
                return numbered, author, record_id
        # Every arc number is taken (practically impossible): draw another title and author.


def _tags(rng: random.Random, genre: str, title: _Title, kodomo: bool) -> list[str]:
    """Two to five distinct tags that fit the genre and the title."""
    core, pool = _TAGS[genre]
    tags = list(dict.fromkeys((*core, *title.tags)))
    want = 2 + int(rng.random() * 4)
    while len(tags) < want:
        tag = _choose(rng, pool)
        if tag not in tags and not (kodomo and tag in _CHILD_UNSUITABLE):
            tags.append(tag)
    return tags[:5]


def _synopsis(rng: random.Random, genre: str, title: _Title) -> tuple[str, str]:
    """English and Japanese synopsis naming the title's theme words (and its sport)."""
    themes = title.themes or (_choose(rng, _SPORT_THEMES),)
    t1 = themes[0]
    if len(themes) > 1:
        t2 = themes[1]
    else:
        t2 = _choose(rng, _NOUNS)
        while t2 is t1:
            t2 = _choose(rng, _NOUNS)
    en, ja = _choose(rng, _SYNOPSES[genre])
    sport = title.sport
    return (
        en.format(t1=t1.en.lower(), t2=t2.en.lower(), sport=sport.en.lower() if sport else ""),
        ja.format(T1=t1.ja, T2=t2.ja, SPORT=sport.ja if sport else ""),
    )


def _release_year(rng: random.Random, genre: str) -> int:
    if genre == "isekai":
        return round(rng.triangular(2006, _LAST_YEAR, 2021))
    return round(rng.triangular(1970, _LAST_YEAR, 2017))


def _status_and_volumes(rng: random.Random, year: int) -> tuple[str, int]:
    """Status and volume count: recent series run on, volumes are mostly few."""
    age = _LAST_YEAR - year
    ongoing_share = 0.9 if age <= 4 else 0.5 if age <= 12 else 0.12
    status = "ongoing" if rng.random() < ongoing_share else "completed"
    volumes = 1 + int(rng.expovariate(1 / 11))
    # At most about five volumes a year, and 120 in all.
    return status, max(1, min(volumes, (age + 1) * 5, 120))


def _stock(rng: random.Random) -> int:
    """Copies in stock: about one series in eight sold out, otherwise 1..300, mostly few."""
    if rng.random() < _STOCK_ZERO_SHARE:
        return 0
    return min(300, int(rng.triangular(1, 301, 20)))


def _record(rng: random.Random, index: int, genre: str, seen_ids: set[str]) -> dict[str, object]:
    title, author, record_id = _build(rng, genre, seen_ids)
    seen_ids.add(record_id)

    demographic = _choose_weighted(rng, *_DEMOGRAPHICS[genre])
    kodomo = demographic == "kodomo"
    tags = _tags(rng, genre, title, kodomo)
    if kodomo:
        age_rating = "all"
    else:
        age_rating = _AGE_RATING_VALUES[_choose_weighted(rng, *_AGE_RATINGS[genre])]
        if age_rating in ("all", "13+") and _MATURE_TAGS.intersection(tags):
            age_rating = "16+"
    publisher = _choose(rng, _PUBLISHERS["isekai" if genre == "isekai" else demographic])
    year = _release_year(rng, genre)
    status, volumes = _status_and_volumes(rng, year)
    price = _choose_weighted(rng, _PRICES, _PRICE_CUM[demographic])
    stock = _stock(rng)
    synopsis_en, synopsis_ja = _synopsis(rng, genre, title)

    return {
        "id": record_id,
        "title": title.en,
        "titleJa": title.ja,
        "titleKana": title.kana,
        "titleRomaji": title.romaji,
        "author": author.en,
        "authorJa": author.ja,
        "authorKana": author.kana,
        "authorRomaji": author.romaji,
        "genre": genre,
        "tags": tags,
        "demographic": demographic,
        "publisher": publisher,
        "volumes": volumes,
        "status": status,
        "priceJpy": price,
        "stock": stock,
        "releaseYear": year,
        "ageRating": age_rating,
        "synopsisEn": synopsis_en,
        "synopsisJa": synopsis_ja,
        "isbn": _synthetic_isbn(index),
        "isbnSynthetic": True,
    }


def _generate(count: int, seed: int) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    seen_ids: set[str] = set()
    genres = list(_GENRES)
    for index in range(count):
        if index % len(genres) == 0:
            # Every run of seven records holds each genre once, in random order.
            rng.shuffle(genres)
        yield _record(rng, index, genres[index % len(genres)], seen_ids)


def generate_records(count: int, seed: int = 0) -> Iterator[dict[str, object]]:
    """Yield `count` synthetic series records, deterministic for a given seed.

    Every record is valid per docs/catalog-format.md and carries ``"isbnSynthetic": true``;
    ids and ISBNs are distinct. The seven genres are spread evenly: every run of seven records
    holds each genre once. Records are made lazily, one at a time.

    Args:
        count: Number of records, 0 to ``MAX_COUNT``.
        seed: Seed of the random generator. The same ``(count, seed)`` always gives the same
            records, and a longer run starts with the records of a shorter one.

    Returns:
        An iterator over record dicts with camelCase keys in the order of the format document.

    Raises:
        ValueError: If ``count`` is negative or larger than ``MAX_COUNT`` (raised at the call,
            not at the first ``next``).
    """
    if not 0 <= count <= MAX_COUNT:
        raise ValueError(f"count must be between 0 and {MAX_COUNT}, got {count}")
    return _generate(count, seed)


def write_jsonl(records: Iterable[dict[str, object]], path: Path) -> int:
    """Write records as UTF-8 JSON Lines (ensure_ascii=False); return the count.

    Args:
        records: Records to write, one JSON object per line, keys in their given order.
        path: File to create or overwrite; its directory must exist.

    Returns:
        The number of records written.
    """
    encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: faster than dumps()
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(encode(record))
            out.write("\n")
            written += 1
    return written
