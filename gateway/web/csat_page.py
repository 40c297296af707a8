"""The public satisfaction-survey page: ``GET /csat/{token}`` shows the question (1-5
and a comment), ``POST /csat/{token}`` stores the one answer (an HTML form, or JSON
``{"rating": 4, "comment": "..."}`` from a widget).  The unguessable one-time token in
the address is the credential (:mod:`gateway.reports.csat`); a wrong, used or expired
link gets a page (or JSON) saying so, with 404 / 409 / 410."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.reports import csat
from gateway.web.helpers import render
from gateway.web.keys import STORE
from gateway.web.route_docs import public
from gateway.web.security import json_response

SURVEY_ROUTE = r"/csat/{token:[A-Za-z0-9_-]{1,200}}"
POLICY = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " \
         "frame-ancestors 'none'; base-uri 'none'"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "How did we do?",
        "question": "How satisfied are you with how we handled ticket {number}?",
        "scale": "1 = very dissatisfied, 5 = very satisfied",
        "comment": "Anything to add? (optional)",
        "send": "Send my rating",
        "thanks": "Thank you! Your rating has been recorded.",
        "problem": "This survey cannot be answered",
    },
    "fr": {
        "title": "Votre avis",
        "question": "Êtes-vous satisfait du traitement de votre ticket {number} ?",
        "scale": "1 = pas du tout satisfait, 5 = très satisfait",
        "comment": "Un commentaire ? (facultatif)",
        "send": "Envoyer ma note",
        "thanks": "Merci ! Votre note a bien été enregistrée.",
        "problem": "Ce questionnaire ne peut pas être rempli",
    },
}
ERRORS_FR = {
    "unknown": "Ce lien de questionnaire n'est pas valide.",
    "answered": "Vous avez déjà répondu à ce questionnaire. Merci !",
    "expired": "Ce lien de questionnaire a expiré.",
    "invalid_rating": "Choisissez une note de 1 à 5.",
    "invalid_comment": "Le commentaire doit être du texte.",
    "comment_too_long": f"Le commentaire dépasse {csat.MAX_COMMENT} caractères.",
}


def _lang(request: web.Request, fallback: str = "en") -> str:
    asked = request.query.get("lang", "")
    if asked in TEXT:
        return asked
    header = request.headers.get("Accept-Language", "")[:2].lower()
    return fallback if fallback in TEXT else header if header in TEXT else "en"


def _page(request: web.Request, status: int, lang: str, **context: Any) -> web.Response:
    words = TEXT.get(lang, TEXT["en"])
    response = render(request, "csat.html", {"w": words, "lang": lang, "max_comment": csat.MAX_COMMENT,
                                             **context}, status=status)
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Referrer-Policy"] = "no-referrer"  # the address holds the token
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


# A widget on the customer's site posts the answer from another origin: the token is the
# credential (no cookie is read), so any origin may send it.
CORS = {"Access-Control-Allow-Origin": "*", "Vary": "Origin"}


def _json(data: dict[str, Any], status: int = 200) -> web.Response:
    response = json_response(data, status=status)
    response.headers.update(CORS)
    return response


def _problem(request: web.Request, exc: csat.SurveyError, lang: str, as_json: bool) -> web.Response:
    if as_json:
        return _json({"error": exc.code, "message": str(exc)}, status=exc.status)
    message = ERRORS_FR.get(exc.code, str(exc)) if lang == "fr" else str(exc)
    return _page(request, exc.status, lang, error=message)


@public
async def survey_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    try:
        view = await csat.lookup(request.app[STORE], token)
    except csat.SurveyError as exc:
        return _problem(request, exc, _lang(request, ""), False)
    lang = _lang(request, view.lang)
    question = TEXT[lang]["question"].format(number=view.ticket_number)
    return _page(request, 200, lang, question=question, action=f"/csat/{token}")


@public
async def survey_answer(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    as_json = request.content_type == "application/json"
    data: dict[str, Any] = {}
    try:
        if as_json:
            try:
                body = await request.json()
            except ValueError:
                raise csat.SurveyError(400, "invalid_json", "The request body must be JSON.") from None
            if not isinstance(body, dict):
                raise csat.SurveyError(400, "invalid_json", "The request body must be a JSON object.")
            data = body
        else:
            form = await request.post()
            data = {"rating": form.get("rating"), "comment": form.get("comment", "")}
        view = await csat.answer(request.app[STORE], token, data.get("rating"), data.get("comment", ""))
    except csat.SurveyError as exc:
        return _problem(request, exc, _lang(request, ""), as_json)
    if as_json:
        return _json({"ok": True, "rating": view.rating})
    lang = _lang(request, view.lang)
    return _page(request, 200, lang, thanks=TEXT[lang]["thanks"])


@public
async def survey_preflight(request: web.Request) -> web.StreamResponse:
    """CORS preflight of a widget's JSON answer."""
    return web.Response(status=204, headers={
        **CORS,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    })


def setup(app: web.Application) -> None:
    app.router.add_get(SURVEY_ROUTE, survey_page, name="csat_page")
    app.router.add_post(SURVEY_ROUTE, survey_answer, name="csat_answer")
    app.router.add_route("OPTIONS", SURVEY_ROUTE, survey_preflight, name="csat_preflight")
