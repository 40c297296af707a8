"""Conversational intents the bot recognises before searching the knowledge base:
an explicit request for a person, a greeting, thanks, "yes it's solved", "that
did not help".

Patterns work on :func:`normalise` text: :func:`gateway.language.fold` (lower
case, no accents, punctuation as spaces), letters repeated three times or more
squeezed ("merciiii"), a word repeated in a row said once ("agent agent AGENT"),
and common SMS spellings spelled out ("qqn", "bcp", "thx", "pls"), in French and
English.  A message made only of words for a person ("agent", "un vrai humain
svp", "operater") asks for one; typos are forgiven on those words only.
"""

from __future__ import annotations

import enum
import functools
import re

from gateway.language import fold


class Intent(enum.StrEnum):
    NONE = "none"
    EMPTY = "empty"
    HUMAN = "human"  # wants a person
    GREETING = "greeting"
    THANKS = "thanks"
    SOLVED = "solved"
    NOT_HELPED = "not_helped"  # "ça m'aide pas", "not helpful": the bot's answer did not help


_SMS = {
    "qqn": "quelqu un", "qq1": "quelqu un", "kelkun": "quelqu un", "quelquun": "quelqu un",
    "qlq": "quelqu un", "svp": "svp", "stp": "svp", "plz": "please", "pls": "please", "plse": "please",
    "bcp": "beaucoup", "mrc": "merci", "mci": "merci", "mrci": "merci", "thx": "thanks",
    "thanx": "thanks", "thks": "thanks", "tks": "thanks", "tnx": "thanks", "ty": "thanks",
    "tq": "thanks", "u": "you", "bjr": "bonjour", "bsr": "bonsoir", "slt": "salut", "cc": "coucou",
    "jveux": "je veux", "jvoudrais": "je voudrais", "veut": "veux", "voudrai": "voudrais",
    "wanna": "want to", "pb": "probleme", "dacc": "d accord", "dac": "d accord", "okk": "ok",
    "k": "ok", "kk": "ok", "okay": "ok", "oki": "ok", "acc": "accord", "maide": "m aide", "maaide": "m a aide",
    "qqun": "quelqu un", "qqu1": "quelqu un", "quelqun": "quelqu un", "qlqn": "quelqu un", "tlk": "talk",
    "spk": "speak", "speek": "speak", "tel": "telephone", "tele": "telephone", "vs": "vous", "ppl": "people",
    "callback": "call back",
}


def normalise(text: str) -> str:
    """Folded text with squeezed letters, no word repeated in a row, SMS spelled out."""
    folded = re.sub(r"([a-z])\1{2,}", r"\1", fold(text))
    words: list[str] = []
    for word in folded.split():
        for part in _SMS.get(word, word).split():
            if not words or words[-1] != part:
                words.append(part)
    return " ".join(words)


# Words for a person, and the words that may surround them in a message that
# is nothing but a request for one ("un vrai humain svp", "real person pls").
_PERSON_WORDS_TEXT = (
    "agent agents human humans humain humaine humains person people personne representative "
    "operator operateur operatrice conseiller conseillere someone somebody anyone anybody "
    "advisor adviser staff sav hotline technicien technicienne technician gestionnaire "
    "representant representante supervisor superviseur manager responsable"
)
_PERSON_WORDS = frozenset(_PERSON_WORDS_TEXT.split())
_PERSON_FILLER_TEXT = (
    "a an the some real actual live another other please now asap svp s il vous te plait merci thanks "
    "un une le la l au du de des vrai vraie vraiment une autre quelqu customer client service support "
    "team equipe maintenant vite urgent svp oui yes i want need je veux voudrais besoin d moi me "
    "talk speak parler with to avec contact telephone phone line ligne not pas no non machine robot bot "
    "derriere online en ligne available disponible etre being c est urgent"
)
_PERSON_FILLER = frozenset(_PERSON_FILLER_TEXT.split())
_NOT_PERSON = frozenset({"argent", "agence", "agenda", "urgent", "humour", "personal", "personnel", "managed",
                         "manages", "managers", "responsabl"})


def _near(word: str, target: str) -> bool:
    """One letter added, dropped, changed or two swapped (words of five letters or more)."""
    if word == target:
        return True
    if len(target) < 5 or abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diff = [i for i, (x, y) in enumerate(zip(word, target, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == target[diff[1]]
            and word[diff[1]] == target[diff[0]]
        )
    short, long_ = sorted((word, target), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


_FUZZY_TARGETS: dict[int, tuple[str, ...]] = {
    n: tuple(p for p in _PERSON_WORDS if len(p) >= 5 and abs(len(p) - n) <= 1) for n in range(4, 40)
}


@functools.lru_cache(maxsize=4096)
def _person_word(word: str) -> bool:
    """A word for a person, typos forgiven (only targets of a length one letter
    away can be near: the others are not tried)."""
    if word in _NOT_PERSON:
        return False
    return word in _PERSON_WORDS or any(_near(word, p) for p in _FUZZY_TARGETS.get(len(word), ()))


def _only_asks_for_a_person(words: list[str]) -> bool:
    """Every word is a word for a person or filler around one, and one is a person."""
    if not words or len(words) > 8:
        return False
    person = False
    for word in words:
        if word in _PERSON_FILLER:
            continue
        if not _person_word(word):
            return False  # a word that is neither: the message says more than that
        person = True
    phrase = " ".join(words)
    return person or "quelqu un" in phrase or "service client" in phrase or "customer service" in phrase


_PERSON_EN = (
    r"(a |an |the |some |real |actual |live |your |one of your |customer |my |our |account |claims? |case )*"
    r"(person|human|agent|operator|someone|somebody|anyone|representative|rep|staff|support team|support|"
    r"advisor|adviser|customer service|customer support|manager|handler|supervisor|colleague|someone in charge)"
)
_PERSON_FR = (
    r"(a |au |a un |a une |avec un |avec une |un |une |le |la |l |du |de |quelqu un |vrai |vraie |etre |"
    r"personne |votre |vos |mon |ma |mes |notre )*(humain|humaine|personne|conseiller|conseillere|agent|"
    r"operateur|operatrice|quelqu un|support|service client|sav|responsable|equipe|gestionnaire|"
    r"interlocuteur|interlocutrice|superieur|collegue|technicien|technicienne|representant|representante|"
    r"superviseur|manager)"
)
_ADVERB = r"(directly |directement |vraiment |really |just |juste |tout de suite |right now |maintenant )?"

_HUMAN = [
    re.compile(rf"\b(talk|speak|chat|connect me|put me through|transfer me|transfer|pass me|escalate|"
               rf"escalate (this|it|my case|my issue|my request)) {_ADVERB}( ?with| ?to| ?2)? ?{_PERSON_EN}\b"),
    re.compile(rf"\b(i want|i need|i d like|i would like|let me talk to|can i have|give me|get me|can i get|"
               rf"could i get|could i have|may i have|a call from) {_PERSON_EN}\b"),
    re.compile(
        rf"\b(parler|parle|parlez|discuter|echanger|etre mis en relation|mettre en relation|en contact avec|"
        rf"joindre|contacter|avoir|voir) {_ADVERB}( ?avec| ?a)? ?{_PERSON_FR}\b"
    ),
    # hand my case over, deal with it with a person, a call back
    re.compile(rf"\b(transmettre|transmettez|transferer|transferez|faire suivre|remonter|m adresser|s adresser|"
               rf"voir (ca|cela|ceci|le probleme|mon probleme|mon dossier|directement)|regler (ca|cela) |"
               rf"rendez vous (telephonique )?)( ma demande| mon dossier| ma reclamation| mon message| ca| cela)?"
               rf"( ?avec| ?a)? ?{_PERSON_FR}\b"),
    re.compile(r"\b(deal with|sort (this|it) out with|discuss (this|it) with|handle this with|"
               r"(contact|reach|get hold of|get in touch with|in touch with) (a |an |one |some )?(real |actual |live )?"
               r"(human|person|human being|people|agent|advisor|adviser|operator))\b"),
    re.compile(r"\b(can i|could i|may i|i d like|i would like|i want|i need|request|book|schedule|arrange) "
               r"((to )?(request|book|get|have) )?(a |an )?(call back|phone call|callback)\b"),
    # a person should get in touch: "un conseiller peut-il me rappeler", "can an agent contact me",
    # "être contacté par un conseiller", "je veux qu'on m'appelle"
    re.compile(rf"\b{_PERSON_FR} (peut|pourrait|peuvent|pourraient|peut il|peut elle|pourrait il) "
               rf"(me contacter|me rappeler|m appeler|me joindre|me recontacter)\b"),
    re.compile(rf"\b(etre|soit|sois) (contacte|contactee|rappele|rappelee|appele|appelee) par {_PERSON_FR}\b"),
    re.compile(r"\bqu (on|un conseiller|une conseillere|quelqu un) (m appelle|me rappelle|me contacte|"
               r"me recontacte|m appele)\b"),
    re.compile(rf"\b(can|could|will|would) {_PERSON_EN} (contact|call|phone|ring|get back to) me\b"),
    re.compile(rf"\b(get|have|send|want|need) {_PERSON_EN} to (call|phone|ring|contact) me\b"),
    # is anyone human there: "is there a real person here?", "any humans here", "il y a un humain derrière ?"
    re.compile(r"\b(is there|are there|are you|any) (a |an |any )?(real |actual |live )?(person|human|humans|"
               r"people|agents?)( here| there| around| available| on (the )?line| to talk to)?$"),
    re.compile(r"\b(y a|il y a|y a t il|est ce qu il y a) (un |une |des )?(vrai |vraie |vrais )?(humain|humaine|"
               r"humains)( derriere| en ligne| ici| la)?$"),
    re.compile(rf"\b(je veux|je voudrais|j aimerais|je souhaite|passez moi|donnez moi|me passer) {_PERSON_FR}\b"),
    re.compile(rf"\ben relation avec {_PERSON_FR}\b"),
    re.compile(r"\b(no|non) (talk|speak|parler)\b"),
    # someone to call: "is there someone I can call", "a number I can ring", "puis-je appeler quelqu un"
    re.compile(r"\b(someone|somebody|anyone|anybody|a person|a human|a number) (i|we) (can|could) "
               r"(call|phone|ring|talk to|speak to|speak with)\b"),
    re.compile(r"\b(can|could|may) (i|we) (call|phone|ring) (someone|somebody|anyone|you|a person|support)\b"),
    re.compile(r"\b(puis je|je peux|peut on|est ce que je peux|on peut) (appeler|telephoner a|joindre) "
               r"(quelqu un|un conseiller|une personne|le service client|le support|vos services)\b"),
    re.compile(r"\b(un numero|quelqu un) (a appeler|que je peux appeler|a qui parler|pour parler)\b"),
    # not a bot: "je veux pas parler a un robot", "I don t want to talk to a bot"
    re.compile(r"\b(pas|plus|not|no more|don t want|do not want) (a |avec |to |with )?(parler|discuter|talk|speak|"
               r"chat)( a| avec| to| with)? (un |une |a |the |your |votre |ce |cette )?"
               r"(robot|bot|chatbot|machine|ia|ai|automate|programme|program)s?\b"),
    # asks to be called back: "rappelez-moi", "call me back", "can someone call me"
    re.compile(r"\b(rappelez moi|rappeler moi|rappelle moi|me rappeler|me rappelez|me recontacter|"
               r"recontactez moi|appelez moi|m appeler|call me back|ring me back|phone me back|"
               r"give me a call|get back to me by phone)\b"),
    re.compile(r"\b(passez moi|passe moi|mettez moi en relation avec|put me through to|connect me to|"
               r"transfer me to) .{1,40} (au telephone|par telephone|on the phone|by phone)\b"),
    re.compile(r"\b(please|can you|could you|can someone|could someone|someone|somebody) (call|ring|phone) me\b"
               r"|\b(call|ring|phone) me (please|asap|now|at|on)\b"),
]

_GREETING = re.compile(
    r"^((hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|greetings|bonjour|bonsoir|salut|"
    r"coucou|allo|hola|re)( there| everyone| all| a tous| tout le monde| madame| monsieur)?\s*)+"
    r"(is (anyone|anybody|someone) there|anyone there|il y a quelqu un|y a quelqu un|vous etes la|"
    r"(comment )?ca va|comment allez vous|vous allez bien|tu vas bien|how are you( doing)?|how s it going|"
    r"how r you|what s up|sup)?$"
    r"|^(is (anyone|anybody|someone) there|anyone there|il y a quelqu un|y a quelqu un|"
    r"(est ce que |est ce qu )?(quelqu un|vous) (peut|pouvez|pourrait|pourriez) m aider|"
    r"can (someone|anyone|somebody|anybody|you) help( me)?|i need (some )?help|j ai besoin d aide)$"
    # how are you, and questions about the bot itself (stop 16)
    r"|^(how are you( doing)?|(comment )?ca va|comment allez vous|vous allez bien|tu vas bien|"
    r"who are you|who is this|t es qui|qui es tu|qui etes vous|are you a (robot|bot|machine|chatbot|ai)|"
    r"(tu es|t es|vous etes|c est) (un|une) (robot|bot|machine|chatbot|ia)|what can you do|"
    r"(qu est ce que|que) (tu sais|vous savez|tu peux|vous pouvez) faire|tell me a joke|"
    r"(raconte|racontez) moi une blague)$"
)
_THANKS = re.compile(
    r"^((ok|great|super|parfait|top|cool|perfect|d accord|ah|ah ok|nice|genial|yes|oui)?\s*"
    r"(thanks|thank you|thank|merci|mille mercis|many thanks|much appreciated|c est gentil|"
    r"ok|d accord|ah ok|bye|goodbye|au revoir|bonne journee|bonne soiree|have a nice day|noted|"
    r"entendu|compris|got it|cool|parfait|super|top|c est bon|good night|bonne nuit|a plus|a bientot|"
    r"see you|see you soon|bisous|nice bot|good bot|you re great|you are great|vous etes top|t es top|"
    r"tu es top|vous etes genial|tu es genial)"
    r"( a lot| so much| very much| beaucoup| bien| infiniment| encore| pour tout| for your help|"
    r" pour votre aide| pour ton aide| for the help| you)*"
    r"\s*(bye|au revoir|bonne journee|have a nice day)?\s*)+$"
)
_SOLVED = re.compile(
    r"^((yes|yep|yeah|oui|ok|parfait|great)\s*)*(solved|resolved|it works|that worked|that helped|"
    r"c est resolu|resolu|ca marche|ca fonctionne|ca m a aide|probleme resolu)(\s*(thanks|merci))?$"
)

# Informal "did not help" (no "ne", SMS): what :func:`gateway.flow.signals.not_helped` misses.
_NOT_HELPED = re.compile(
    r"\b((ca |cela |c )?(m a|m |ne m a|ne m |t as|vous m avez) ?(pas |pas du tout |jamais )?(aide|aidee)"
    r"( pas| en rien| du tout)|(ca|cela) (m )?aide pas|(ca|c est|c|^) ?pas (utile|clair|ca)|pas aide|"
    r"not (helpful|useful|clear)|didn t help|doesn t help|dont help|didnt help|doesnt help|no help( at all)?|"
    r"not (what i (asked|need|want))|that s not it|wrong answer|mauvaise reponse)\b"
)


def _person_words_spelt(norm: str) -> str:
    """``norm`` with each misspelt word for a person spelt right ("operater" ->
    "operator"), so that the request patterns see it."""
    words = norm.split()
    fixed = [w if w in _PERSON_WORDS or not _person_word(w) else _closest_person_word(w) for w in words]
    return " ".join(fixed)


def _closest_person_word(word: str) -> str:
    near = sorted(_FUZZY_TARGETS.get(len(word), ()), key=lambda p: (abs(len(p) - len(word)), p))
    return next((p for p in near if _near(word, p)), word)


# A word for a person near a word of asking or contact ("mettez moi un conseiller", "get a human
# on the line", "speak w/ human"): the request, however it is phrased, unless the message asks
# for information (it starts with how, why, what...: "how do I speak to my bank about a loan?").
_ASKING_TEXT = (
    "talk speak chat contact call phone ring line connect put get transfer escalate need want "
    "parler echanger discuter joindre contacter appeler appelle telephone telephoner rappeler rappelle "
    "passer passez passe mettre mettez met avoir besoin veux voudrais aimerais demande souhaite"
)
_ASKING = frozenset(_ASKING_TEXT.split())
_INFORMATION_TEXT = (
    "how why what when where which who whose comment pourquoi quand quel quelle quels quelles combien qui "
    "ou does did is are was"
)
_INFORMATION = frozenset(_INFORMATION_TEXT.split())
_NEAR = 4  # words between the person and the asking word, at most
_COMPOUND = frozenset({"s", "resources", "resource", "rights", "error", "ressources", "droits"})


def _person_near_asking(words: list[str]) -> bool:
    if not words or words[0] in _INFORMATION or len(words) > 25:
        return False
    people = [i for i, w in enumerate(words) if w in _PERSON_WORDS and w not in ("personne", "people")
              and not _COMPOUND.intersection(words[i + 1:i + 2])]  # "my advisor's account", "human resources"
    people += [i for i in range(len(words) - 1) if words[i] == "quelqu" and words[i + 1] == "un"]
    asking = [i for i, w in enumerate(words) if w in _ASKING]
    return any(abs(i - j) <= _NEAR for i in people for j in asking)


def classify(text: str, quick_reply: str | None = None) -> Intent:
    """The conversational intent of one customer message (NONE: a real question)."""
    if quick_reply == "handoff":
        return Intent.HUMAN
    if quick_reply == "solved":
        return Intent.SOLVED
    norm = normalise(text)
    if not norm:
        return Intent.EMPTY
    if _only_asks_for_a_person(norm.split()):
        return Intent.HUMAN
    spelt = _person_words_spelt(norm)
    if any(p.search(spelt) for p in _HUMAN) or _person_near_asking(spelt.split()):
        return Intent.HUMAN
    if _NOT_HELPED.search(norm):
        return Intent.NOT_HELPED
    if _SOLVED.match(norm):
        return Intent.SOLVED
    if _GREETING.match(norm):
        return Intent.GREETING
    if _THANKS.match(norm):
        return Intent.THANKS
    return Intent.NONE
