"""Fixtures for kb_index tests: a tiny knowledge base on disk and the hash embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.embedder import HashEmbedder

RESET_MD = """+++
id = "password-reset"
title = "Reset your password"
lang = "en"
tags = ["account", "login"]
+++

Click **Forgot password** on the sign-in page and type your email address.
We email you a reset link that is valid for one hour.
"""

REFUNDS_MD = """---
id: refunds
title: Refunds for yearly plans
lang: en
tags: [billing, refund]
---

Yearly plans are refunded in full within 14 days of the payment.
After that, unused months are refunded pro rata.
"""

FAQ_CSV = (
    "id,question,answer,title,lang,tags\n"
    'shipping,How much does shipping cost?,"Shipping costs 5 euros in France and is free above'
    ' 50 euros.",Shipping costs,en,shop;shipping\n'
    "shipping,Is delivery free?,,,,\n"
)

FAQ_JSONL = (
    '{"id": "livraison", "lang": "fr", "question": "Comment suivre mon colis ?",'
    ' "answer": "Le lien de suivi du colis est dans l\'e-mail d\'expédition."}\n'
    '{"id": "livraison", "question": "Où est ma commande ?"}\n'
)


def write_kb(root: Path) -> Path:
    (root / "account").mkdir(parents=True)
    (root / "account" / "reset.md").write_text(RESET_MD, "utf-8")
    (root / "refunds.md").write_text(REFUNDS_MD, "utf-8")
    (root / "faq.csv").write_text(FAQ_CSV, "utf-8")
    (root / "faq.jsonl").write_text(FAQ_JSONL, "utf-8")
    return root


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A tiny valid KB: 4 articles in 4 formats (TOML, YAML, CSV, JSONL)."""
    return write_kb(tmp_path / "kb")


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(dim=256)
