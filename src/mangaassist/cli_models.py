"""``mangaassist models``: checks of the real models behind ``MANGAASSIST_LLM_URL``.

``calibrate`` measures the token estimator (``text/token_estimate.py``) against what Bedrock
counts (the CountTokens operation, free of charge) on Japanese, English, mixed and emoji texts
and on the catalog's synopses. History budgets and cost guards rest on that estimate: it should
err high by a few percent, and a sample it under-counts is worth a look.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mangaassist.llm.base import ModelAuthError, ModelError, ModelMessage, ModelRequest
from mangaassist.settings import Settings
from mangaassist.text.token_estimate import estimate_messages_tokens

__all__ = ["CalibrationRow", "calibration_samples", "models_app", "summarize"]

models_app = typer.Typer(help="The real models: token calibration.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

#: Texts the estimator finds hard, before the catalog's synopses.
BUILTIN_SAMPLES: tuple[tuple[str, str], ...] = (
    ("ja question", "『呪術廻戦』の最新刊はいつ入荷しますか？予約はできますか？"),
    (
        "ja keigo",
        "恐れ入りますが、ご注文の商品は現在在庫切れとなっております。入荷次第ご連絡いたします。",
    ),
    (
        "en question",
        "Do you have the complete box set of Fullmetal Alchemist in English, and how much is "
        "shipping to Osaka?",
    ),
    (
        "mixed",
        "ONE PIECE 108巻 と Chainsaw Man vol. 15 を合わせて¥1,144 (tax incl.) で買えますか？",
    ),
    ("emoji", "おすすめありがとう！😊📚 家族👨‍👩‍👧‍👦で読みます 🇯🇵✨"),
    ("rare kanji", "𠮷野家の髙橋さんは「鬱」と「薔薇」を書けますか。"),
    ("numbers", "ISBN 978-4-08-883622-3, order #20261122-0042, total 12,540 JPY"),
    ("full/half width", "ｶﾀｶﾅ と ＡＢＣ１２３ の全角英数、　全角スペース"),
)
DEFAULT_SAMPLES = 16
#: Characters of a sample shown in the table.
LABEL_CHARS = 28


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """One sample: what the estimator says and what the model counts."""

    label: str
    estimate: int
    counted: int

    @property
    def ratio(self) -> float:
        """Estimate over count: above 1 errs high (safe), below 1 under-counts."""
        return self.estimate / self.counted if self.counted else float("inf")


def calibration_samples(count: int) -> list[tuple[str, str]]:
    """The first ``count`` samples: the built-in texts, then catalog synopses (ja, en, ...)."""
    samples = list(BUILTIN_SAMPLES)
    if len(samples) < count:
        from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog

        for record in parse_catalog(BUILTIN_CATALOG).records:
            samples.append((f"synopsis ja {record.title}", record.synopsis_ja))
            samples.append((f"synopsis en {record.title}", record.synopsis_en))
            if len(samples) >= count:
                break
    return samples[:count]


def summarize(rows: Sequence[CalibrationRow]) -> tuple[float, float, int]:
    """Mean absolute percentage error, mean signed error (bias, % of the count; positive errs
    high) and how many samples the estimate under-counts."""
    counted = [r for r in rows if r.counted > 0]
    if not counted:
        return 0.0, 0.0, 0
    errors_pct = [100 * (r.estimate - r.counted) / r.counted for r in counted]
    mape = sum(abs(e) for e in errors_pct) / len(errors_pct)
    bias = sum(errors_pct) / len(errors_pct)
    return mape, bias, sum(1 for r in counted if r.estimate < r.counted)


@models_app.command("calibrate")
def calibrate(
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Model id (repeatable); default: the fast and quality ones."),
    ] = None,
    samples: Annotated[
        int, typer.Option(min=1, max=200, help="Sample texts: built-in ones, then synopses.")
    ] = DEFAULT_SAMPLES,
) -> None:
    """Compare the token estimator with Bedrock's CountTokens, per model and sample."""
    from mangaassist.llm.bedrock import BedrockProvider

    settings = Settings()
    try:
        provider = BedrockProvider.from_url(settings.llm_url)
    except ValueError as exc:
        errors.print(
            f"[red]models calibrate needs MANGAASSIST_LLM_URL to name Bedrock:[/red] {exc}",
            highlight=False,
        )
        raise typer.Exit(2) from None
    model_ids = list(dict.fromkeys(model or [settings.fast_model_id, settings.quality_model_id]))
    texts = calibration_samples(samples)

    async def count(model_id: str) -> list[CalibrationRow]:
        rows = []
        for label, text in texts:
            request = ModelRequest(system="", messages=(ModelMessage("user", text),))
            counted = await provider.count_tokens(model_id, request)
            rows.append(CalibrationRow(label, estimate_messages_tokens([("user", text)]), counted))
        return rows

    async def run() -> dict[str, list[CalibrationRow]]:
        try:
            return {model_id: await count(model_id) for model_id in model_ids}
        finally:
            await provider.close()

    try:
        results = asyncio.run(run())
    except ModelAuthError as exc:
        errors.print(
            f"[red]no AWS credentials, or no access to the model:[/red] {exc}", highlight=False
        )
        raise typer.Exit(2) from None
    except ModelError as exc:
        errors.print(f"[red]CountTokens failed ({exc.kind}):[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    for model_id, rows in results.items():
        _print_model(model_id, rows)


def _print_model(model_id: str, rows: Sequence[CalibrationRow]) -> None:
    table = Table(title=f"{model_id} — estimate vs CountTokens")
    for column in ("sample", "estimate", "counted", "ratio"):
        table.add_column(column, justify="left" if column == "sample" else "right")
    for row in rows:
        label = row.label if len(row.label) <= LABEL_CHARS else row.label[: LABEL_CHARS - 1] + "…"
        style = "red" if row.estimate < row.counted else None
        table.add_row(label, str(row.estimate), str(row.counted), f"{row.ratio:.2f}", style=style)
    console.print(table)
    mape, bias, under = summarize(rows)
    console.print(
        f"{model_id}: MAPE {mape:.1f}%, bias {bias:+.1f}% "
        f"({'errs high' if bias >= 0 else 'under-counts'}), "
        f"under-counted {under} of {len(rows)} samples",
        highlight=False,
    )
