"""What a customer notices of the bot's decisions (issue 10): an answer in their
language when the knowledge base has the article in it, a one-line note when it has
not; a clarifying question only between articles plausible for the message; an
apologetic handoff after frustration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.flow import replies
from gateway.flow.plausible import offtopic_level, sample_questions, shares_words, well_above
from gateway.flow.policy import PolicyConfig, decide
from gateway.flow.translations import are_translations, group_translations
from gateway.models import Action
from gateway.protocols import Hit, SearchResult
from kb_index.sources import load_sources

ROOT = Path(__file__).resolve().parents[3]

CONFIG = PolicyConfig(answer_threshold=0.7)

RESET_EN = Hit("password-reset", "Reset a forgotten password",
               "Click Forgot password? on the Colibri sign-in page. The link is valid for 60 minutes; "
               "choose at least 12 characters. With Google or Microsoft sign-in, reset it there.",
               0.82, "en")
RESET_FR = Hit("mot-de-passe-oublie", "J'ai oublié mon mot de passe",
               "Cliquez sur Mot de passe oublié ? sur la page de connexion de Colibri. Le lien reste "
               "valable 60 minutes ; au moins 12 caractères. Avec Google ou Microsoft, changez-le là-bas.",
               0.80, "fr")
EXPORT_EN = Hit("data-export", "Export your data",
                "Open Settings, Data export and download a ZIP of CSV files for every table.", 0.84, "en")
VAT_FR = Hit("tva", "La TVA sur vos factures",
             "Indiquez votre taux de TVA dans les réglages de facturation de votre boutique.", 0.83, "fr")
INVOICES = Hit("invoice-download", "Download an invoice",
               "Open Billing and click the invoice you need; it downloads as a PDF.", 0.41, "en")
PLANS = Hit("plans-pricing", "Plans and pricing",
            "Colibri has three plans, billed monthly or yearly.", 0.40, "en")


@dataclass
class Canned:
    """keyword -> (hits, confidence); anything else (the off-topic questions the
    plausibility level is measured with) finds ``noise`` with confidence 0.1."""

    table: dict[str, tuple[tuple[Hit, ...], float]]
    noise: tuple[Hit, ...] = ()
    calls: list[str] = field(default_factory=list)

    async def search(self, text: str, k: int = 5) -> SearchResult:
        self.calls.append(text)
        for key, (hits, confidence) in self.table.items():
            if key in text.lower():
                return SearchResult(hits[:k], confidence, "v1")
        return SearchResult(self.noise[:k], 0.1, "v1")

    __hash__ = object.__hash__  # cached by identity, as a real retriever is


def offtopic(score: float) -> tuple[Hit, ...]:
    return (Hit("plans-pricing", "Plans and pricing", "Three plans.", score, "en"),)


# ------------------------------------------------------------ language of the answer


async def test_a_french_question_gets_the_french_translation_of_the_article() -> None:
    retriever = Canned({"mot de passe": ((RESET_EN, RESET_FR, EXPORT_EN), 0.9)})
    decision = await decide("J'ai perdu mon mot de passe, comment faire ?", retriever, CONFIG)
    assert decision.action is Action.ANSWER and decision.lang == "fr"
    assert decision.hit == RESET_FR and decision.signal == "translation"
    said = replies.format_answer(decision.hit.title, decision.hit.answer, decision.lang)
    assert said.startswith("Voici ce que j'ai trouvé :") and "anglais" not in said


async def test_an_english_only_article_is_introduced_as_english_in_french() -> None:
    retriever = Canned({"exporter": ((EXPORT_EN, VAT_FR), 0.9)})
    decision = await decide("Comment exporter mes données ?", retriever, CONFIG)
    assert decision.action is Action.ANSWER and decision.hit == EXPORT_EN  # no translation: as it is
    said = replies.format_answer(EXPORT_EN.title, EXPORT_EN.answer, decision.lang)
    assert said.splitlines()[0] == "Voici ce que j'ai trouvé (cet article n'existe qu'en anglais) :"
    assert said.rstrip().endswith("Cette réponse vous a-t-elle aidé ?")
    english = replies.format_answer(VAT_FR.title, VAT_FR.answer, "en")
    assert english.splitlines()[0] == "Here is what I found (this article is only available in French):"
    assert replies.format_answer(EXPORT_EN.title, EXPORT_EN.answer, "en").startswith("Here is what I found:")


def test_only_near_tied_articles_sharing_numbers_and_names_are_translations() -> None:
    assert are_translations(RESET_EN, RESET_FR)
    assert not are_translations(EXPORT_EN, VAT_FR)  # near-tied, nothing in common
    far = Hit(RESET_FR.article_id, RESET_FR.title, RESET_FR.answer, 0.5, "fr")
    assert not are_translations(RESET_EN, far)  # the same words, but not found alike
    same_lang = Hit("other", RESET_EN.title, RESET_EN.answer, 0.81, "en")
    assert not are_translations(RESET_EN, same_lang)  # a duplicate, not a translation
    groups = group_translations((RESET_EN, RESET_FR, EXPORT_EN), "fr")
    assert [[h.article_id for h in g] for g in groups] == [["mot-de-passe-oublie", "password-reset"],
                                                          ["data-export"]]


# ------------------------------------------------------------ clarifying questions


async def test_out_of_scope_questions_are_handed_off_not_offered_two_unrelated_articles() -> None:
    retriever = Canned({"payroll": ((INVOICES, PLANS), 0.4), "bitcoin": ((PLANS, INVOICES), 0.4)},
                       noise=offtopic(0.45))
    for question in ("How do I run payroll for my employees?", "Can I pay with Bitcoin"):
        decision = await decide(question, retriever, CONFIG)
        assert (decision.action, decision.reason, decision.signal) == (
            Action.HANDOFF, "low_confidence", "not_plausible"), question
        assert decision.options == ()


async def test_two_articles_that_share_the_message_words_are_still_offered() -> None:
    retriever = Canned({"invoice": ((INVOICES, PLANS), 0.4)}, noise=offtopic(0.45))
    decision = await decide("which invoice plans", retriever, CONFIG)
    assert decision.action is Action.CLARIFY
    assert [h.article_id for h in decision.options] == ["invoice-download", "plans-pricing"]


async def test_articles_scored_above_the_kbs_off_topic_level_are_plausible_without_shared_words() -> None:
    retriever = Canned({"facture": ((INVOICES, PLANS), 0.4)}, noise=offtopic(0.2))  # cross-language
    decision = await decide("je voudrais ma facture du mois", retriever, CONFIG)
    assert decision.action is Action.CLARIFY
    assert len(retriever.calls) == 1 + len(sample_questions())  # the level: measured once...
    await decide("je voudrais ma facture du mois", retriever, CONFIG)
    assert len(retriever.calls) == 2 + len(sample_questions())  # ...per index version
    assert await offtopic_level(retriever, "v1") == 0.2


@dataclass
class WithLevel(Canned):
    """A retriever whose results carry the index version's off-topic level."""

    level: float = 0.0

    async def search(self, text: str, k: int = 5) -> SearchResult:
        result = await super().search(text, k)
        return SearchResult(result.hits, result.confidence, "v1", {"offtopic_level": self.level})

    __hash__ = object.__hash__


async def test_a_level_the_search_result_carries_is_used_without_searching_for_it() -> None:
    retriever = WithLevel({"facture": ((INVOICES, PLANS), 0.4)}, noise=offtopic(0.9), level=0.39)
    decision = await decide("je voudrais ma facture du mois", retriever, CONFIG)
    assert decision.action is Action.CLARIFY  # 0.41 and 0.40 are above 0.39 ...
    assert len(retriever.calls) == 1  # ... and nothing else was searched (the noise would say 0.9)
    strict = WithLevel({"facture": ((INVOICES, PLANS), 0.4)}, level=0.405)
    decision = await decide("je voudrais ma facture du mois", strict, CONFIG)
    assert (decision.action, decision.signal) == (Action.HANDOFF, "not_plausible")  # PLANS at 0.40 is not


async def test_the_level_measured_at_build_time_is_the_one_searches_would_measure(tmp_path: Path) -> None:
    """A self-calibrated version carries its off-topic level, computed from the scores of
    the calibration's off-topic questions: the same as searching the sample live."""
    from gateway.flow.plausible import _measure
    from kb_index.embedder import HashEmbedder
    from kb_index.retriever import KBRetriever
    from kb_index.versions import build_index

    build_index(ROOT / "examples" / "kb", tmp_path, HashEmbedder(), progress=False, self_calibrate=True)
    retriever = KBRetriever(tmp_path, HashEmbedder())
    try:
        carried = (await retriever.search("how do I reset my password")).extras["offtopic_level"]
        assert carried > 0
        assert carried == pytest.approx(await _measure(retriever), abs=1e-5)
    finally:
        retriever.close()


def test_shared_words_ignore_stop_words_and_plurals() -> None:
    assert shares_words("where are my invoices?", INVOICES)
    assert not shares_words("what is the payroll for this month", INVOICES)
    assert not shares_words("the and of", INVOICES)


# ------------------------------------------------------------ frustration


async def test_a_frustrated_customer_gets_an_apologetic_handoff_in_their_language() -> None:
    retriever = Canned({})
    for text, lang, words in (
        ("ÇA NE MARCHE JAMAIS VOTRE TRUC", "fr", "désolé"),
        ("This is useless, I already told you three times!!!", "en", "sorry"),
    ):
        decision = await decide(text, retriever, CONFIG)
        assert (decision.action, decision.reason, decision.lang) == (Action.HANDOFF, "frustration", lang)
        # what the router says for the decision (Router.hand_off: reason and language)
        said = replies.handoff_text(decision.reason, decision.lang, number="G-7", delay="2 hours")
        neutral = replies.handoff_text("explicit_request", lang, number="G-7", delay="2 hours")
        assert said != neutral and words in said.lower() and "G-7" in said and "2 hours" in said
        assert words not in neutral.lower()
    calm = await decide("I want to talk to a person", retriever, CONFIG)
    assert replies.handoff_text(calm.reason, calm.lang, number="G-8", delay="1 hour") == replies.text(
        "handoff", "en", number="G-8", delay="1 hour")


def test_the_off_topic_level_is_the_highest_plus_its_distance_from_the_typical() -> None:
    assert well_above([0.1, 0.1, 0.12, 0.2]) == pytest.approx(0.2 + (0.2 - 0.11))
    assert well_above([]) == 0.0


def test_on_the_sample_kb_only_its_translated_articles_are_paired() -> None:
    """Every article found alike (the score test passed): only the three pairs that are
    one help page in two languages are grouped."""
    articles = load_sources(ROOT / "examples" / "kb").articles
    hits = [Hit(a.id, a.title, a.body, 1.0, a.lang) for a in articles]
    pairs = {tuple(sorted(h.article_id for h in group))
             for group in group_translations(hits, "fr") if len(group) > 1}
    assert pairs == {("mot-de-passe-oublie", "password-reset"),
                     ("double-authentification", "two-factor-auth"),
                     ("contact-hours", "horaires-support")}, pairs


async def test_an_articles_translation_is_not_offered_as_a_second_option() -> None:
    invoices_fr = Hit("factures", "Télécharger vos factures",
                      "Ouvrez Billing → Invoices dans Pivert. Les factures de plus de 24 mois sont "
                      "archivées ; 10 au plus par fichier ZIP, chacune en PDF/A-3.", 0.40, "fr")
    invoices_en = Hit("invoice-download", "Download your invoices",
                      "Open Billing → Invoices in Pivert. Invoices older than 24 months are "
                      "archived; at most 10 per ZIP file, each as PDF/A-3.", 0.41, "en")
    plans = Hit("plans-pricing", "Plans and pricing", "Pivert plans, billed monthly.", 0.39, "en")
    retriever = Canned({"facture": ((invoices_en, invoices_fr, plans), 0.4)}, noise=offtopic(0.1))
    decision = await decide("une question sur mes factures et formules", retriever, CONFIG)
    assert decision.action is Action.CLARIFY
    assert [h.article_id for h in decision.options] == ["factures", "plans-pricing"]
    alone = Canned({"facture": ((invoices_en, invoices_fr), 0.4)}, noise=offtopic(0.1))
    decision = await decide("une question sur mes factures", alone, CONFIG)
    assert (decision.action, decision.reason) == (Action.HANDOFF, "low_confidence")  # one topic
