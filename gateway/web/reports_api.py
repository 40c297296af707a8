"""The supervisors' figures: ``GET /api/reports/kpis`` (JSON), ``GET
/api/reports/kpis.csv`` and the dashboard page ``/dashboard`` (drawn in the browser by
``static/dashboard.js`` from the JSON).  Each needs ``reports:read`` (supervisors and
admins): the access layer checks it before the handler runs.  Definitions:
docs/KPIS.md."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.auth.roles import REPORTS_READ
from gateway.reports.csv import report_csv
from gateway.reports.kpis import FIELDS, GROUPS, csat_answers, kpi_report
from gateway.reports.period import Period, parse_period
from gateway.web.dashboard_words import choose_lang, dashboard_words
from gateway.web.helpers import BadRequest, api, render
from gateway.web.keys import CLOCK, RUNNER, SESSIONS, SETTINGS, STORE
from gateway.web.route_docs import Param, describe
from gateway.web.security import CONTENT_SECURITY_POLICY, CSRF, USER, json_response

TAGS = ("reports",)
STR: dict[str, Any] = {"type": "string", "maxLength": 40}
QUERY = (
    Param("from", STR, "first day (YYYY-MM-DD, in reports.timezone) or ISO instant; default: "
          "reports.default_days ago"),
    Param("to", STR, "last day included (YYYY-MM-DD) or ISO instant (excluded); default: today"),
    Param("group", {"type": "string", "enum": list(GROUPS)}, "rows by queue, operator, channel or day"),
)
ROW: dict[str, Any] = {"type": "object", "properties": {"key": {"type": "string"}}}
REPORT: dict[str, Any] = {
    "type": "object",
    "required": ["period", "totals", "groups", "daily", "csat_distribution"],
    "properties": {
        "period": {"type": "object"},
        "totals": {"type": "object", "properties": {f: {"type": ["number", "null"]} for f in FIELDS}},
        "groups": {"type": "array", "items": ROW},
        "daily": {"type": "array", "items": ROW},
        "csat_distribution": {"type": "object"},
    },
}


def _period(request: web.Request) -> Period:
    settings = request.app[SETTINGS].reports
    return parse_period(
        request.query.get("from") or None,
        request.query.get("to") or None,
        timezone=settings.timezone,
        default_days=settings.default_days,
        now=request.app[CLOCK].now(),
    )


async def _report(request: web.Request) -> dict[str, Any]:
    group = request.query.get("group") or "day"
    return await kpi_report(request.app[SESSIONS], request.app[SETTINGS], _period(request),
                            request.app[CLOCK].now(), group)


@describe(REPORTS_READ, "KPIs of a period: totals, rows by group, day by day", tags=TAGS, query=QUERY,
          description="Definitions of every figure: docs/KPIS.md. Rates are fractions, times seconds; "
          "null when there was nothing to count.",
          responses={200: ("the report", REPORT)})
@api
async def kpis(request: web.Request) -> web.StreamResponse:
    return json_response(await _report(request))


@describe(REPORTS_READ, "The same KPIs as CSV", tags=TAGS, query=QUERY,
          responses={200: ("text/csv: one row per group, then the totals", None)})
@api
async def kpis_csv(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    period = report["period"]
    name = f"guichet-kpis-{period['group']}-{period['from'][:10]}-{period['to'][:10]}.csv"
    return web.Response(
        text=report_csv(report),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@describe(REPORTS_READ, "Satisfaction answers of a period, newest first, with the comments", tags=TAGS,
          query=(*QUERY[:2], Param("limit", {"type": "integer", "minimum": 1, "maximum": 500},
                                    "at most this many (default 50)")),
          responses={200: ("the answers", {"type": "object", "properties": {
              "answers": {"type": "array", "items": {"type": "object"}}}})})
@api
async def csat_list(request: web.Request) -> web.StreamResponse:
    raw = request.query.get("limit", "50")
    if not raw.isdecimal() or not 1 <= int(raw) <= 500:
        raise BadRequest("invalid_limit", '"limit" is a number from 1 to 500.')
    period = _period(request)
    answers = await csat_answers(request.app[SESSIONS], period, int(raw))
    return json_response({"period": period.to_dict(), "answers": answers})


@describe(REPORTS_READ, "The supervisors' dashboard", page_subject="The dashboard")
async def dashboard(request: web.Request) -> web.StreamResponse:
    lang = choose_lang(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    context = {
        "user": request[USER],
        "csrf": request[CSRF],
        "lang": lang,
        "words_json": json.dumps(dashboard_words(lang), ensure_ascii=False),
        "timezone": request.app[SETTINGS].reports.timezone,
    }
    response = render(request, "dashboard.html", context)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application) -> None:
    """The routes, the public survey page, the survey job, the history listener that
    starts surveys, and the KPI gauges (the app holds STORE and RUNNER)."""
    from gateway.reports import csat
    from gateway.reports.gauges import kpi_gauges
    from gateway.web import csat_page

    store = app[STORE]
    app[RUNNER].handlers[csat.JOB_KIND] = csat.make_ask_job(store)
    app.cleanup_ctx.append(csat.listening_ctx())  # resolved tickets -> surveys (when csat.enabled)
    app.cleanup_ctx.append(kpi_gauges(store))  # guichet_kpi_* gauges
    csat_page.setup(app)  # /csat/{token}: public, the one-time token is the credential
    app.router.add_get("/api/reports/kpis", kpis, name="reports_kpis")
    app.router.add_get("/api/reports/kpis.csv", kpis_csv, name="reports_kpis_csv")
    app.router.add_get("/api/reports/csat", csat_list, name="reports_csat")
    app.router.add_get("/dashboard", dashboard, name="dashboard")
