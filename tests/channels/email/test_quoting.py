"""New text, quoted history and signature are told apart (French and English forms)."""

from __future__ import annotations

import pytest

from channels.email.parse import parse_message
from channels.email.quoting import split_reply
from tests.channels.email.mail_samples import message

NEW = "Merci, mais le colis n'est toujours pas arrivé."


@pytest.mark.parametrize(
    "attribution",
    [
        "Le mar. 3 déc. 2024 à 10:00, Support <support@guichet.test> a écrit :",
        "Le 03/12/2024 à 10:00, support@guichet.test a écrit :",
        "On Tue, Dec 3, 2024 at 10:00 AM Support <support@guichet.test> wrote:",
        "On 3 Dec 2024, at 10:00, Support wrote:",
        # Gmail wraps long attributions over two or three lines.
        "On Tue, Dec 3, 2024 at 10:00 AM Support Team of Guichet <\nsupport@guichet.test> wrote:",
        "Le mar. 3 déc. 2024 à 10:00, Le service client de\nGuichet <support@guichet.test> a\nécrit :",
    ],
)
def test_attributions_start_the_quoted_history(attribution: str) -> None:
    text = f"{NEW}\n\n{attribution}\n> Bonjour, votre colis est parti.\n> Cordialement"
    split = split_reply(text)
    assert split.new == NEW
    assert split.quoted.startswith(attribution.split("\n")[0])
    assert "votre colis est parti" in split.quoted


@pytest.mark.parametrize(
    "block",
    [
        "De : Support <support@guichet.test>\nEnvoyé : mardi 3 décembre 2024 10:00\nÀ : Alice\n"
        "Objet : Re: colis",
        "From: Support <support@guichet.test>\nSent: Tuesday, December 3, 2024 10:00 AM\nTo: Alice\n"
        "Subject: parcel",
        "________________________________\nFrom: Support\nSent: Tuesday\nTo: Alice\nSubject: parcel",
        "*From:* Support\n*Sent:* Tuesday\n*To:* Alice\n*Subject:* parcel",
        "-----Original Message-----\nFrom: Support\nSubject: parcel",
        "-----Message d'origine-----\nDe : Support\nObjet : colis",
    ],
)
def test_outlook_header_blocks_and_separators_start_the_quoted_history(block: str) -> None:
    split = split_reply(f"{NEW}\n\n{block}\n\nBonjour, votre colis est parti.")
    assert split.new == NEW
    assert "votre colis est parti" in split.quoted


def test_inline_gt_quotes_are_moved_out_of_the_new_text() -> None:
    split = split_reply("> Did the parcel arrive?\nNo, it did not.\n> Which order?\nOrder 1234.")
    assert split.new == "No, it did not.\nOrder 1234."
    assert split.quoted == "> Did the parcel arrive?\n> Which order?"


def test_a_dash_dash_space_signature_is_separated() -> None:
    split = split_reply(f"{NEW}\n\n-- \nAlice Martin\n06 12 34 56 78")
    assert split.new == NEW
    assert split.signature == "-- \nAlice Martin\n06 12 34 56 78".strip()


@pytest.mark.parametrize(
    "mobile",
    ["Envoyé de mon iPhone", "Sent from my iPhone", "Sent from my Galaxy", "Get Outlook for Android",
     "Envoyé depuis mon appareil Android"],
)  # fmt: skip
def test_mobile_signatures_are_separated(mobile: str) -> None:
    split = split_reply(f"{NEW}\n\n{mobile}")
    assert split.new == NEW
    assert split.signature == mobile


def test_signature_before_the_quote_is_found_too() -> None:
    text = f"{NEW}\n\nEnvoyé de mon iPhone\n\nLe 3 déc. 2024 à 10:00, Support a écrit :\n> old"
    split = split_reply(text)
    assert (split.new, split.signature) == (NEW, "Envoyé de mon iPhone")
    assert split.quoted.endswith("> old")


def test_a_forwarded_message_is_content_not_history() -> None:
    text = (
        "Please look at this:\n\n---------- Forwarded message ---------\n"
        "From: Shop <shop@example.com>\nDate: Mon\nSubject: Your order\nTo: Alice\n\nYour order is cancelled."
    )
    split = split_reply(text)
    assert "Your order is cancelled." in split.new
    assert split.quoted == ""


def test_a_sentence_ending_in_wrote_is_not_an_attribution() -> None:
    assert split_reply("Here is what I wrote:\nthe order number is 1234").quoted == ""


def test_the_whole_message_stays_available_in_the_result() -> None:
    body = f"{NEW}\n\nOn Tue, Dec 3, 2024 at 10:00 AM Support <support@guichet.test> wrote:\n> old text"
    mail = parse_message(message(body))
    assert mail.text == NEW
    assert mail.quoted.endswith("> old text")
    assert mail.full_text == body
