"""What a customer's message says about how the conversation is going, in French
and English: frustration, "that did not help", turning down the options of a
clarifying question, and rephrasing a question the bot already answered.

Pure functions on text; :func:`context_from_messages` turns a conversation's
stored messages into the :class:`ConversationContext` that
:func:`gateway.flow.policy.decide` takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.language import fold


@dataclass(frozen=True, slots=True)
class ClarifyOption:
    article_id: str
    title: str


@dataclass(frozen=True, slots=True)
class ConversationContext:
    """What the bot needs to remember of the current bot-held stretch of a
    conversation (it starts afresh after an operator or a resolution)."""

    answered_questions: tuple[str, ...] = ()  # customer questions the bot answered, oldest first
    last_answer_article: str | None = None  # article of the bot's last answer
    clarification_question: str | None = None  # set: the bot's last message asked to clarify this
    clarification_options: tuple[ClarifyOption, ...] = ()

    @property
    def clarification_pending(self) -> bool:
        return self.clarification_question is not None


# ------------------------------------------------------------- frustration

_SWEARING = re.compile(
    r"\b(fuck\w*|f+ck|shit\w*|bullshit|crap|damn|wtf|stfu|screw (this|you)|bloody hell|"
    r"merde\w*|putain\w*|bordel|connard\w*|connerie\w*|chier|fait chier|foutage|"
    r"foutez|fous toi|ta gueule|pu?tain)\b"
)
_USELESS = re.compile(
    r"\b(useless|pointless|rubbish|garbage|worthless|ridiculous|pathetic|terrible|awful|"
    r"waste of (my )?time|stupid|dumb|idiot\w*|"
    r"c est nul|cest nul|(vraiment|trop|tous|completement|super) nul(le)?s?|nul a chier|"
    r"inutile|sert a rien|servez a rien|"
    r"n importe quoi|ridicule|lamentable|pathetique|debile|stupide|perte de temps|"
    r"insupportable|inadmissible|scandaleux|honteux)\b"
)
# Anger said in words: "I am furious", "ras le bol", "fed up", "worst insurer ever".
_ANGER = re.compile(
    r"\b(furious|livid|outraged|fuming|(i m|i am|we are|we re|so|really) (angry|mad|pissed( off)?)|"
    r"fed up|sick (and tired )?of|had enough|(is|s|totally|completely|absolutely|simply) unacceptable|"
    r"disgraceful|disgusting|appalling|outrageous|"
    r"worst \w+( \w+)? (ever|in the world)|"
    r"the worst (company|service|customer service|insurer|bank|experience)|"
    r"furieux|furieuse|en colere|(suis|sommes|trop|tres|vraiment) (enerve|enervee|enerves)|"
    r"exaspere|exasperee|"
    r"excede|excedee|ras le bol|marre|j en ai assez|(est|c est|cest|totalement|absolument) inacceptable|"
    r"rien ne (marche|fonctionne|va)|nothing (ever )?works|"
    r"degoute|degoutee|revoltant|(le|la|les) pires? \w+( \w+)? (de ma vie|du monde|"
    r"qui soit|que j ai connu)|"
    # stop 16: exasperation, disappointment, threats, slang (phrases written for the tests)
    r"(i m|i am|we are|we re|so|really|very|extremely|totally) "
    r"(upset|annoyed|frustrated|irritated|exasperated)|"
    r"frustrating|frustrant|frustrante|"
    r"(suis|sommes|trop|tres|vraiment) (frustre|frustree|frustres|agace|agacee)|"
    r"(very|so|extremely|really|deeply|bitterly|totally) disappointed|"
    r"(tres|vraiment|extremement|profondement|super|trop|tellement) (decu|decue|decus|decues)|"
    r"are you (kidding|joking|serious)|you (must|have to|ve got to|got to|gotta) be (kidding|joking)|"
    r"(this|that|it) (is|s) (insane|crazy|madness|absurd|ridiculous)|"
    r"(ca|cela|vous) (me|m) "
    r"(saoule|soule|saoulez|soulez|gonfle|gonflez|enerve|enervez|agace|agacez|gave|gavez)|"
    r"vous (vous )?(moquez|foutez) (de moi|du monde|de nous)|on se (moque|fout) (de moi|du monde)|"
    r"(casse|cassez) (les pieds|les couilles)|emmerd\w*|"
    r"j en (peux|pouvais) plus|je n en peux plus|je suis a bout|j en ai (ma claque|plein le dos)|"
    r"trop c est trop|c est abuse|vous abusez|j hallucine|"
    r"can t take (it|this) any ?more|(stop )?wasting (my|our) time|"
    r"(me|nous) (faire|faites|fait|fais) perdre (mon|notre) temps|"
    r"sue you|take (you|this) to court|legal action|my lawyer|mon avocat|"
    r"robbing (me|us)|ripping (me|us) off|rip off|c est du vol|vous (me|nous) volez|"
    r"(this|it|that|you|you guys|your \w+) (really |totally |just )?sucks?|"
    r"(service|appli|application|site|app|boite|societe|entreprise|compagnie|operateur|banque|assurance|"
    r"support|bot|chatbot) (de )?(est )?(vraiment |trop |completement |totalement )?pourri(e|s|es)?|"
    r"horrible (service|company|experience|support|app)|"
    r"(c est un|quel|un vrai|un|quel|c est) scandale|"
    r"(troisieme|quatrieme|cinquieme|3e|3eme|4e|enieme|nieme) fois que (j|je)|"
    r"(third|fourth|fifth|3rd|4th|5th|nth|umpteenth) time (i|i ve|that i|we)|"
    r"(ca fait|c est la|deja) (\d+|deux|trois|quatre|cinq|plusieurs|dix) fois (que|qu)|"
    r"(asked|told you|written|called|phoned|tried|emailed) (you )?"
    r"(\d+|two|three|four|five|several|many|multiple|ten) times|"
    r"vous n etes pas serieux|"
    r"(c est|service|service client|support|appli|site) (vraiment |completement |totalement )?"
    r"(minable|deplorable|catastrophique|degoutant|lamentable)|^(unacceptable|inacceptable|inadmissible)$|"
    r"i ve had it|what the hell|the hell is|(t es|tu es|vous etes) (con|cons|conne|debile|bete|betes))\b"
    r"|^(pf+|gr+|argh+|rah+)\b"
)
# Insults aimed at the company or its people, with no swear word in them.
_INSULT = re.compile(
    r"\b((vous etes|vous etes vraiment|z etes|t es|tu es|ils sont|votre (service|boite|societe|equipe) est)"
    r" (des |une |un |vraiment |tous |completement |trop )*"
    r"(incapables?|incompetents?|nuls?|nulles?|amateurs?|guignols?|clowns?|bons a rien|escrocs?|voleurs?|"
    r"arnaqueurs?|bande de .+|une blague|une honte|une arnaque)|"
    r"(you|you guys|you people|your (company|service|team|support)) (are|r|is) "
    r"(so |really |completely |totally |all |a bunch of |such )*"
    r"(incompetent|useless|hopeless|clowns?|idiots?|amateurs?|a joke|a scam|a disgrace|thieves|crooks|liars)|"
    r"what a (joke|scam|disgrace|farce|shambles|mess)|joke of a (company|service|bank|business)|"
    r"(this|that|it) (is|s) (a joke|a scam|a disgrace|a farce|a rip off|daylight robbery|unbelievable)|"
    r"(is|s) (this|that|it) (a joke|a scam|some kind of joke)|vous (le )?faites (expres|expret)|"
    r"c est (une plaisanterie|du foutage)|"
    r"quelle (blague|arnaque|honte|bande)|c est une (blague|arnaque|honte)|(bande d|bande de) (incapables|"
    r"escrocs|guignols|nuls|voleurs|nazes|rigolos|branquignols|bras casses|charlots|tocards|abrutis|"
    r"idiots|cons)|"
    r"c nul|c est nul|incompetents|incompetente?s?|incompetence)\b"
)
_ALREADY_TOLD = re.compile(
    r"\b(i (already|just) (told|said|explained|wrote)|i ve already (told|said|explained)|"
    r"as i (already )?(said|told you|wrote)|told you already|how many times|"
    r"(je vous l ai|je te l ai|je l ai) deja (dit|explique|ecrit)|deja dit|"
    r"je viens de (vous |te )?(le )?(dire|expliquer|ecrire)|comme je (vous |te )?l ai (deja )?dit|"
    r"combien de fois)\b"
)
# Short complaints: the whole message is "it doesn't work", nothing else to search.
_DOESNT_WORK = re.compile(
    r"^(but |mais |still |toujours )?(it |this |that |ca |cela |ce |c )?"
    r"(still )?(doesn t|does not|didn t|did not|isn t|is not|won t|ne|n)? ?"
    r"(work|working|marche|marche pas|fonctionne|fonctionne pas|marche toujours pas|"
    r"fonctionne toujours pas)( pas| toujours pas| at all| du tout)?"
    r"( (again|encore|non plus|either|toujours))?$"
)
_PUNCTUATION = re.compile(r"[!?](\s*[!?]){2,}")
# Words that say anger wherever they stand in a support message (one is enough).
_ANGRY_WORDS_TEXT = (
    "disgrace disgraceful shocking shambles appalling atrocious abysmal dreadful horrendous outrageous "
    "scandalous unacceptable incompetent incompetence clowns unhappy livid furious infuriating infuriated "
    "honteux honteuse honte inadmissible inacceptable scandaleux scandaleuse pitoyable minable lamentable "
    "deplorable rigolos guignols charlots incapables incompetents furieux furieuse exaspere exasperee "
    "exasperant enrage enragee marre foutre foutez fout foutent"
)
_ANGRY_WORDS = frozenset(_ANGRY_WORDS_TEXT.split())
_ANGRY_PHRASES = re.compile(
    r"\b(hors de moi|rend (dingue|fou|folle|malade)|beyond a joke|what kind of (service|company|support|"
    r"customer service|business) is this|plus que marre|ras le bol)\b"
)
_ANGRY_EMOJI = re.compile("[\U0001F620\U0001F621\U0001F624\U0001F47F\U0001F4A2\U0001F92C\U0001F595]")
_SMS = {"vs": "vous", "u": "you", "r": "are", "ur": "your", "ts": "tous", "jen": "j en", "ct": "c etait"}


def _folded(text: str) -> str:
    """Folded text with letters said three times or more squeezed ("nuuul") and a few
    SMS spellings spelt out ("vs etes nuls", "u r useless")."""
    squeezed = re.sub(r"([a-z])\1{2,}", r"\1", fold(text))
    return " ".join(_SMS.get(w, w) for w in squeezed.split())


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    words = [w for w in re.findall(r"[^\W\d_]{2,}", text)]
    if len(letters) < 8 or len(words) < 2:
        return False
    upper = sum(c.isupper() for c in letters)
    return upper / len(letters) >= 0.8


def frustration(text: str) -> str | None:
    """Why this message sounds frustrated ("swearing", "useless", "insult", "anger", "already_told",
    "shouting", "punctuation", "doesnt_work", "emoji"), or None."""
    folded = _folded(text)
    if _ANGRY_EMOJI.search(text):
        return "emoji"
    if _SWEARING.search(folded):
        return "swearing"
    if _USELESS.search(folded):
        return "useless"
    if _INSULT.search(folded):
        return "insult"
    if _ANGER.search(folded):
        return "anger"
    if _ANGRY_PHRASES.search(folded) or not _ANGRY_WORDS.isdisjoint(folded.split()):
        return "anger"
    if _ALREADY_TOLD.search(folded):
        return "already_told"
    if _shouting(text):
        return "shouting"
    if _PUNCTUATION.search(text):
        return "punctuation"
    if _DOESNT_WORK.match(folded):
        return "doesnt_work"
    return None


# -------------------------------------------------------------- not helped

_NOT_HELPED = [
    re.compile(
        r"\b(didn t|did not|doesn t|does not|don t|do not|hasn t|has not|won t|not) "
        r"(really |at all |actually )?(help|helped|helping|answer|answered|solve|solved|fix|fixed)\b"
    ),
    re.compile(r"\b(not helpful|no help|unhelpful|no use|not what i (asked|meant|needed?|wanted|want))\b"),
    re.compile(r"\b(wrong answer|not my question|not the (right )?answer|that s not it|not it)\b"),
    re.compile(
        r"\b(ne|n) (me |m )?(repond|reponds|aide|aident|resout|regle)( pas| toujours pas| en rien)"
        r"|\b(ne|n) (me |m )?(a|ont)( pas| toujours pas| en rien)( (aide|aidee|aidé|repondu|resolu|regle))"
    ),
    re.compile(
        r"\b(pas (la|ma) (bonne )?(question|reponse)|mauvaise reponse|ce n est pas (ca|ma question|"
        r"la question|ce que je (demande|cherche|veux))|pas ce que je (demande|cherche|veux)|"
        r"ca ne repond pas|ne repond pas a ma question|sans rapport|aucun rapport|hors sujet)\b"
    ),
]
_BARE_NO = re.compile(r"^(no|nope|nah|not really|non|pas vraiment|non merci|no thanks)$")


def not_helped(text: str, *, after_answer: bool = False) -> bool:
    """The customer says the answer did not help.  A bare "no" counts only right
    after a bot answer."""
    folded = fold(text)
    if after_answer and _BARE_NO.match(folded):
        return True
    return any(p.search(folded) for p in _NOT_HELPED)


_DECLINE = re.compile(
    r"^((no|non)\s*)?(none|none of (these|them|those)|neither|neither of (these|them)|other|something else|"
    r"aucun|aucune|aucun des deux|aucune des deux|ni l un ni l autre|ni l une ni l autre|autre chose|autre)"
    r"( please| merci| svp)?$"
)


def declines_options(text: str) -> bool:
    """ "None of these" typed instead of pressed, after a clarifying question."""
    return bool(_DECLINE.match(fold(text)))


# --------------------------------------------------------------- rephrasing

_STOP_WORDS = (
    "the a an of to is are and or my your i you it this that for with on in at be can do does how what "
    "why when where which who me we our please hi hello thanks have has get got not no yes would could "
    "should will am was were there here from by about as any some just still again "
    "le la les un une des du de d l et ou mon ma mes votre vos je j tu il elle nous vous est ce c ca "
    "cette que qui quoi comment pourquoi quand ou pour avec sur dans par pas ne n plus me m se s y en "
    "au aux bonjour merci svp est-ce puis peux peut faire toujours encore"
)
_STOP = frozenset(_STOP_WORDS.split())


def content_words(text: str) -> frozenset[str]:
    """Words that carry the topic: folded, no stop words, crude plural folding."""
    words = set()
    for word in fold(text).split():
        if word in _STOP or len(word) < 3:
            continue
        if len(word) > 4 and word.endswith("s"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def overlap(a: str, b: str) -> float:
    """Jaccard overlap of the content words of two texts, 0..1."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


REPHRASE_OVERLAP = 0.5


def is_rephrase(text: str, previous: Iterable[str], threshold: float = REPHRASE_OVERLAP) -> bool:
    """The text asks again (nearly) the same words as one of ``previous``."""
    return any(overlap(text, p) >= threshold for p in previous)


# ------------------------------------------------------ context from storage


class StoredMessage(Protocol):
    """What :func:`context_from_messages` reads of a stored message."""

    id: int
    direction: str
    author_kind: str
    kind: str
    text: str
    meta: dict[str, Any]


def context_from_messages(messages: Sequence[StoredMessage], before_id: int) -> ConversationContext:
    """The context for the customer message ``before_id``, from the messages of its
    conversation (all kinds, in order).  The bot's memory starts after the last
    operator message, system event or handoff."""
    answered: list[str] = []
    last_article: str | None = None
    clarify: dict[str, Any] | None = None
    for msg in messages:
        if msg.id >= before_id:
            break
        meta = msg.meta or {}
        if msg.author_kind in ("operator", "system") or meta.get("action") == "handoff":
            answered, last_article, clarify = [], None, None
            continue
        if msg.direction == "in":
            if meta.get("action") == "answer":
                answered.append(str(meta.get("question") or msg.text))
            if meta.get("action") == "smalltalk" and meta.get("reason") == "solved":
                answered, last_article = [], None
            continue
        if msg.author_kind == "bot" and msg.kind == "message":
            clarify = meta.get("clarification") if isinstance(meta.get("clarification"), dict) else None
            if meta.get("article_id"):
                last_article = str(meta["article_id"])
    if clarify is None:
        return ConversationContext(tuple(answered), last_article)
    options = tuple(
        ClarifyOption(str(o.get("id", "")), str(o.get("title", "")))
        for o in clarify.get("options", [])
        if isinstance(o, dict)
    )
    return ConversationContext(tuple(answered), last_article, str(clarify.get("question", "")), options)
