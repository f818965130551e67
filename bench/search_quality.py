"""Search quality on the curated catalog: does the expected series come up in the top 3?

``python -m bench.search_quality`` prints the table and writes it to ``bench/RESULTS.md``;
``tests/unit/test_search_quality.py`` asserts every case, so a regression fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass

from mangaassist.catalog.index import SearchIndex
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog

TOP = 3


@dataclass(frozen=True)
class Case:
    """A query, what kind of writing it is, and the Japanese titles that count as a hit."""

    query: str
    kind: str
    expected: tuple[str, ...]


def _c(query: str, kind: str, *expected: str) -> Case:
    return Case(query, kind, expected)


CASES: tuple[Case, ...] = (
    _c("鬼滅の刃", "kanji", "鬼滅の刃"),
    _c("進撃の巨人", "kanji", "進撃の巨人"),
    _c("鋼の錬金術師", "kanji", "鋼の錬金術師"),
    _c("寄生獣", "kanji", "寄生獣"),
    _c("名探偵コナン", "kanji + katakana", "名探偵コナン"),
    _c("攻殻機動隊", "kanji", "攻殻機動隊"),
    _c("わんぴーす", "hiragana", "ONE PIECE"),
    _c("きめつのやいば", "hiragana", "鬼滅の刃"),
    _c("しんげきのきょじん", "hiragana", "進撃の巨人"),
    _c("じゅじゅつかいせん", "hiragana", "呪術廻戦"),
    _c("ふるーつばすけっと", "hiragana", "フルーツバスケット"),
    _c("ワンピース", "katakana", "ONE PIECE"),
    _c("チェンソーマン", "katakana", "チェンソーマン"),
    _c("ベルセルク", "katakana", "ベルセルク"),
    _c("スパイファミリー", "katakana", "SPY×FAMILY"),
    _c("ﾜﾝﾋﾟｰｽ", "half-width", "ONE PIECE"),
    _c("ﾌﾘｰﾚﾝ", "half-width", "葬送のフリーレン"),
    _c("ﾊｲｷｭｰ", "half-width", "ハイキュー!!"),
    _c("ﾁｪﾝｿｰﾏﾝ", "half-width", "チェンソーマン"),
    _c("kimetsu no yaiba", "romaji", "鬼滅の刃"),
    _c("shingeki no kyojin", "romaji", "進撃の巨人"),
    _c("jujutsu kaisen", "romaji", "呪術廻戦"),
    _c("hagane no renkinjutsushi", "romaji", "鋼の錬金術師"),
    _c("kimi ni todoke", "romaji", "君に届け"),
    _c("tensei shitara slime", "romaji + English", "転生したらスライムだった件"),
    _c("kusuriya no hitorigoto", "romaji", "薬屋のひとりごと"),
    _c("demon slayer", "English", "鬼滅の刃"),
    _c("attack on titan", "English", "進撃の巨人"),
    _c("my hero academia", "English", "僕のヒーローアカデミア"),
    _c("fullmetal alchemist", "English", "鋼の錬金術師"),
    _c("spy x family", "English", "SPY×FAMILY"),
    _c("the apothecary diaries", "English", "薬屋のひとりごと"),
    _c("delicious in dungeon", "English", "ダンジョン飯"),
    _c("尾田栄一郎", "author (kanji)", "ONE PIECE"),
    _c("oda eiichiro", "author (romaji)", "ONE PIECE"),
    _c("伊藤潤二", "author (kanji)", "うずまき", "富江"),
    _c("矢沢あい", "author (kanji)", "NANA"),
    _c("羽海野チカ", "author (kanji)", "ハチミツとクローバー", "3月のライオン"),
    _c("isayama hajime", "author (romaji)", "進撃の巨人"),
    _c("Naoko Takeuchi", "author (English)", "美少女戦士セーラームーン"),
    _c("鬼滅", "partial title", "鬼滅の刃"),
    _c("フリーレン", "partial title", "葬送のフリーレン"),
    _c("推しの子", "partial title", "【推しの子】"),
    _c("かぐや様", "partial title", "かぐや様は告らせたい～天才たちの恋愛頭脳戦～"),
    _c("転スラ", "abbreviation", "転生したらスライムだった件"),
    _c("リゼロ", "abbreviation", "Re:ゼロから始める異世界生活"),
    _c("ヒロアカ", "abbreviation", "僕のヒーローアカデミア"),
    _c("frier", "partial word", "葬送のフリーレン"),
    _c("naurto", "one typo", "NARUTO―ナルト―"),
    _c("freiren", "one typo", "葬送のフリーレン"),
    _c("one peice", "one typo", "ONE PIECE"),
    _c("chainsow man", "one typo", "チェンソーマン"),
    _c("haikuy", "one typo", "ハイキュー!!"),
    _c("vinland sga", "one typo", "ヴィンランド・サガ"),
    _c("berserkk", "one typo", "ベルセルク"),
)


@dataclass(frozen=True)
class Outcome:
    """What the index returned for a case."""

    case: Case
    top: tuple[str, ...]

    @property
    def hit(self) -> bool:
        return any(title in self.top for title in self.case.expected)


def evaluate(index: SearchIndex) -> list[Outcome]:
    """Run every case against ``index``."""
    return [
        Outcome(case, tuple(h.record.title_ja for h in index.search(case.query, limit=TOP).hits))
        for case in CASES
    ]


def report(outcomes: list[Outcome]) -> str:
    """The Markdown table with the hit rate."""
    hits = sum(o.hit for o in outcomes)
    lines = [
        f"## Search quality, curated catalog: {hits}/{len(outcomes)} "
        f"({hits / len(outcomes):.0%}) with the expected series in the top {TOP}",
        "",
        "Command: `python -m bench.search_quality`",
        "",
        "| query | kind | expected | top 3 | hit |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {o.case.query} | {o.case.kind} | {' / '.join(o.case.expected)} | "
        f"{' · '.join(o.top)} | {'yes' if o.hit else '**no**'} |"
        for o in outcomes
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench.results import record_section

    parsed = parse_catalog(BUILTIN_CATALOG)
    text = report(evaluate(SearchIndex(parsed.records)))
    print(text)
    record_section("## Search quality", text)


if __name__ == "__main__":
    main()
