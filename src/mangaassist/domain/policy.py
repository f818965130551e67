"""Store policies the assistant quotes: shipping, returns and payment (values from settings)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PAYMENT_LABELS", "StorePolicy"]

#: Names of payment methods by code, in Japanese and English.
PAYMENT_LABELS: dict[str, tuple[str, str]] = {
    "credit_card": ("クレジットカード", "credit card"),
    "paypay": ("PayPay", "PayPay"),
    "konbini": ("コンビニ払い", "convenience-store payment"),
    "cod": ("代金引換", "cash on delivery"),
    "bank_transfer": ("銀行振込", "bank transfer"),
    "apple_pay": ("Apple Pay", "Apple Pay"),
}


@dataclass(frozen=True, slots=True)
class StorePolicy:
    """The facts of shipping, returns and payment that answers quote."""

    shipping_fee_jpy: int = 550
    free_shipping_from_jpy: int = 5000
    delivery_days: str = "1-3"
    return_days: int = 14
    payment_methods: tuple[str, ...] = ("credit_card", "paypay", "konbini", "cod")

    def payment_labels(self, language: str) -> list[str]:
        """The accepted payment methods in ``language``."""
        index = 0 if language == "ja" else 1
        return [PAYMENT_LABELS.get(code, (code, code))[index] for code in self.payment_methods]
