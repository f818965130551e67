"""Named sample series shared by tests: small, real-looking, and easy to tell apart."""

from __future__ import annotations

from tests.conftest import make_record

DEMON_SLAYER = make_record(
    title="Demon Slayer",
    title_ja="鬼滅の刃",
    title_kana="きめつのやいば",
    title_romaji="Kimetsu no Yaiba",
    aliases=["鬼滅"],
    author="Koyoharu Gotouge",
    author_ja="吾峠呼世晴",
    author_romaji="Gotouge Koyoharu",
    price_jpy=528,
    stock=0,
    tags=["action", "tearjerker"],
)
FRIEREN = make_record(
    title="Frieren: Beyond Journey's End",
    title_ja="葬送のフリーレン",
    title_kana="そうそうのふりーれん",
    title_romaji="Sousou no Furiiren",
    author="Kanehito Yamada / Tsukasa Abe",
    author_ja="山田鐘人 / アベツカサ",
    author_romaji="Yamada Kanehito / Abe Tsukasa",
    price_jpy=594,
    stock=12,
    tags=["fantasy", "adventure"],
)
SLIME = make_record(
    title="That Time I Got Reincarnated as a Slime",
    title_ja="転生したらスライムだった件",
    title_kana="てんせいしたらすらいむだったけん",
    title_romaji="Tensei Shitara Suraimu Datta Ken",
    aliases=["転スラ"],
    author="Fuse / Taiki Kawakami",
    author_ja="伏瀬 / 川上泰樹",
    genre="isekai",
    demographic="seinen",
    price_jpy=748,
    stock=0,
    tags=["reincarnation", "fantasy"],
)
#: Mentions 鬼滅の刃 only in its synopsis: a title match must outrank it.
QUIET_SEAS = make_record(
    title="Quiet Seas",
    title_ja="静かな海",
    synopsis_en="A fisherman who loves Demon Slayer comics.",
    synopsis_ja="鬼滅の刃が大好きな漁師の物語です。",
    genre="seinen",
    demographic="seinen",
    price_jpy=990,
)
