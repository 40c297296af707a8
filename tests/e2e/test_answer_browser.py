"""What customers and operators see of the bot's answer quality (issue 10), in
Chromium against a real server with the multilingual embedder on a small bilingual
knowledge base written for this test (one article translated, the others in one
language only):

- a French visitor asking about an English-only article is told, in French, that the
  article exists only in English; asking about the translated one, gets the French;
- out-of-scope questions are handed off, not answered with a choice of two unrelated
  articles;
- a frustrated visitor gets an apologetic handoff, distinct from the neutral one, and
  the operator sees the ticket's raised priority;
- agent assist shows one suggestion per topic, in the customer's language first, the
  other language insertable from the same suggestion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.pages import PASSWORD, TIMEOUT, login
from tests.e2e.server import GuichetServer
from tests.e2e.ux import axe_violations, console_page, open_ticket

pytestmark = pytest.mark.e2e

KB = {
    "password-reset.md": """+++
id = "password-reset"
title = "Reset a forgotten password"
lang = "en"
+++

On the Pivert sign-in page, click **Forgot password?** and enter the email address of your
account. The reset link arrives within 5 minutes and is valid for 60 minutes.

Choose a new password of at least 12 characters. If you sign in with Google or Microsoft,
change the password with that provider instead.
""",
    "mot-de-passe-oublie.md": """+++
id = "mot-de-passe-oublie"
title = "Réinitialiser un mot de passe oublié"
lang = "fr"
+++

Sur la page de connexion de Pivert, cliquez sur **Mot de passe oublié ?** et saisissez
l'adresse e-mail de votre compte. Le lien arrive en 5 minutes et reste valable 60 minutes.

Choisissez un nouveau mot de passe d'au moins 12 caractères. Si vous vous connectez avec
Google ou Microsoft, changez le mot de passe chez ce fournisseur.
""",
    "data-export.md": """+++
id = "data-export"
title = "Export all your data"
lang = "en"
+++

Go to **Settings → Data export** and click **Start export**. Pivert prepares a ZIP archive
with one CSV file per table (customers, orders, invoices, products) and emails you a
download link when it is ready.

The link stays valid for 7 days. Large accounts can take up to an hour to export.
""",
    "invoice-download.md": """+++
id = "invoice-download"
title = "Download your invoices"
lang = "en"
+++

Every invoice Pivert sends you is under **Billing → Invoices**. Click an invoice to download
it as a PDF, or select several to download them in one ZIP file.
""",
    "plans-pricing.md": """+++
id = "plans-pricing"
title = "Plans and pricing"
lang = "en"
+++

Pivert has three plans: Starter, Business and Enterprise, billed monthly or yearly. Yearly
billing saves two months. You can change plan at any time from **Billing → Plan**.
""",
    "suivi-livraison.md": """+++
id = "suivi-livraison"
title = "Suivre une livraison"
lang = "fr"
+++

Dès que votre commande est expédiée, vous recevez un e-mail avec le numéro de suivi du
transporteur. Cliquez sur ce numéro pour voir où en est le colis.
""",
    "shipping-times.md": """+++
id = "shipping-times"
title = "Shipping times and carriers"
lang = "en"
+++

Orders placed before 2 pm ship the same working day. Delivery takes 2 to 4 working days in
France and 5 to 8 elsewhere in Europe, with Colissimo or DHL.
""",
    "change-email.md": """+++
id = "change-email"
title = "Change the email address of your account"
lang = "en"
+++

Open **Settings → Profile**, type the new address and confirm with your password. We send a
confirmation link to the new address; the change takes effect once you click it.
""",
}
BOT = ".guichet-msg[data-author=bot]"
TICKET = re.compile(r"G-\d+")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuichetServer]:
    root = tmp_path_factory.mktemp("answers")
    kb = root / "kb"
    kb.mkdir()
    for name, text in KB.items():
        (kb / name).write_text(text, encoding="utf-8")
    srv = GuichetServer(root / "srv", embedder="e5", GUICHET_KB_SOURCE_DIR=str(kb))
    srv.start(timeout=300)
    try:
        srv.add_user("olga", PASSWORD, "operator")
        yield srv
    finally:
        srv.stop()


async def widget(browser: Any, base: str, lang: str) -> Any:
    ctx = await browser.new_context(locale="fr-FR" if lang == "fr" else "en-US")
    page = await ctx.new_page()
    await page.goto(f"{base}/?lang={lang}")
    await page.click("#guichet-launcher")
    await page.locator("#guichet-status").wait_for(state="hidden", timeout=TIMEOUT)  # connected
    return page


async def ask(page: Any, text: str) -> str:
    """Send ``text``; the bot's next message, once shown."""
    before = await page.locator(BOT).count()
    await page.fill("#guichet-input", text)
    await page.click("#guichet-send")
    reply = page.locator(BOT).nth(before)
    await reply.wait_for(timeout=TIMEOUT)
    said: str = await reply.locator(".guichet-text").inner_text()  # without name, time, buttons
    return said.strip()


def number_in(text: str) -> str:
    found = TICKET.search(text)
    assert found is not None, text
    return found.group(0)


async def test_a_french_visitor_is_told_an_article_exists_only_in_english(
    server: GuichetServer, browser: Any
) -> None:
    page = await widget(browser, server.base_url, "fr")
    said = await ask(page, "Comment exporter toutes mes données ?")
    assert said.startswith("Voici ce que j'ai trouvé (cet article n'existe qu'en anglais) :"), said
    assert "Export all your data" in said and "ZIP archive" in said
    assert "Cette réponse vous a-t-elle aidé ?" in said

    # The topic the knowledge base has in French is answered in French, with no note.
    said = await ask(page, "J'ai oublié mon mot de passe, comment faire ?")
    assert said.startswith("Voici ce que j'ai trouvé :"), said
    assert "Réinitialiser un mot de passe oublié" in said and "anglais" not in said

    # An English visitor gets the English one, with no note either.
    english = await widget(browser, server.base_url, "en")
    said = await ask(english, "I forgot my password, what do I do?")
    assert said.startswith("Here is what I found:") and "Reset a forgotten password" in said


async def test_out_of_scope_questions_are_handed_off_without_a_choice_of_unrelated_articles(
    server: GuichetServer, browser: Any
) -> None:
    for question in ("How do I run payroll for my employees?", "Can I pay with Bitcoin?"):
        page = await widget(browser, server.base_url, "en")
        said = await ask(page, question)
        number_in(said)  # handed to a person: told the ticket number
        assert "Please pick one" not in said
        assert await page.locator(".guichet-quick-reply[data-id='pick:1']").count() == 0


async def test_a_frustrated_visitor_gets_an_apology_and_a_raised_priority(
    server: GuichetServer, browser: Any
) -> None:
    calm = await widget(browser, server.base_url, "en")
    await ask(calm, "How do I change the email address of my account?")
    neutral = await ask(calm, "I want to talk to a person")
    assert "sorry" not in neutral.lower()
    calm_number = number_in(neutral)

    angry = await widget(browser, server.base_url, "en")
    said = await ask(angry, "This is useless, I already told you three times!!! Nothing works")
    assert "I'm sorry this has been so frustrating" in said and "won't have to explain it again" in said
    angry_number = number_in(said)
    assert said != neutral.replace(calm_number, angry_number)

    french = await widget(browser, server.base_url, "fr")
    said_fr = await ask(french, "C'EST INADMISSIBLE, VOTRE SERVICE NE MARCHE JAMAIS")
    assert "Je suis désolé" in said_fr and "vous n'aurez pas à tout réexpliquer" in said_fr
    number_in(said_fr)

    op = await login(browser, server.base_url, "olga")
    angry_row = op.locator(f".ticket-row[data-number='{angry_number}']")
    await angry_row.wait_for(timeout=TIMEOUT)
    calm_row = op.locator(f".ticket-row[data-number='{calm_number}']")
    await calm_row.wait_for(timeout=TIMEOUT)
    assert await calm_row.get_attribute("data-priority") == "P3"
    assert await angry_row.get_attribute("data-priority") == "P2"  # one level up for frustration
    await open_ticket(op, angry_number)
    await op.wait_for_selector("#ticket-priority .prio-P2:has-text('P2')", timeout=TIMEOUT)
    events = await op.inner_text("#conversation")
    assert "Priority P2 (from P3): frustration" in events, events


async def test_agent_assist_shows_one_suggestion_per_topic_in_the_customers_language(
    server: GuichetServer, browser: Any
) -> None:
    page = await widget(browser, server.base_url, "fr")
    await ask(page, "J'ai oublié mon mot de passe et je ne reçois pas le lien")
    number = number_in(await ask(page, "Je veux parler à un conseiller"))

    op = await login(browser, server.base_url, "olga")
    await op.locator(f".ticket-row[data-number='{number}']").wait_for(timeout=TIMEOUT)
    await open_ticket(op, number)
    items = op.locator("#assist .assist-item")
    await items.first.wait_for(timeout=TIMEOUT)
    ids = await items.evaluate_all("(li) => li.map((x) => x.dataset.articleId)")
    assert ids[0] == "mot-de-passe-oublie", ids  # the customer's language first
    assert "password-reset" not in ids, ids  # its translation is not a suggestion of its own
    assert await items.first.locator(".assist-lang").inner_text() == "FR"
    await items.first.locator(".assist-insert").click()
    assert "Mot de passe oublié" in await op.input_value("#reply-text")


async def test_agent_assist_offers_the_other_language_of_a_suggestion(
    server: GuichetServer, browser: Any
) -> None:
    """The console's rendering of a grouped suggestion (the API's answer given by the
    test, since whether the index ranks a pair apart depends on its embedder)."""
    page = await widget(browser, server.base_url, "fr")
    number = number_in(await ask(page, "Je veux parler à un conseiller"))
    canned = {
        "questions": ["Mot de passe perdu"], "lang": "fr", "available": True,
        "suggestions": [{
            "article_id": "mot-de-passe-oublie", "title": "Réinitialiser un mot de passe oublié",
            "snippet": "Sur la page de connexion…", "answer": "Cliquez sur Mot de passe oublié ?",
            "confidence": 0.93, "lang": "fr",
            "translations": [{"article_id": "password-reset", "title": "Reset a forgotten password",
                              "lang": "en", "snippet": "On the sign-in page…",
                              "answer": "Click Forgot password? on the sign-in page."}],
        }],
    }
    op = await console_page(browser, server.base_url, bypass_csp=True)  # axe goes in inline

    async def fulfil(route: Any) -> None:
        await route.fulfill(status=200, content_type="application/json", body=json.dumps(canned))

    await op.route(re.compile(r".*/api/conversations/\d+/suggestions.*"), fulfil)
    await op.locator(f".ticket-row[data-number='{number}']").wait_for(timeout=TIMEOUT)
    await open_ticket(op, number)
    item = op.locator("#assist .assist-item")
    await item.first.wait_for(timeout=TIMEOUT)
    assert await item.count() == 1
    other = item.locator(".assist-insert-translation[data-lang=en]")
    assert await other.inner_text() == "English"
    assert "Reset a forgotten password" in (await other.get_attribute("title") or "")
    await other.click()
    assert await op.input_value("#reply-text") == "Click Forgot password? on the sign-in page."
    assert await item.locator(".assist-title").get_attribute("lang") == "fr"
    assert await axe_violations(op, "#assist") == []

