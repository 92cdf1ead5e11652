"""The HQ console (/console): server-rendered pages for the chain's managers.

A sub-application of the HQ app with its own session middleware, so the signed till API
never sees a cookie. Handlers are plain functions (FastAPI runs them in its thread pool):
every database call is synchronous. Every POST carries the session's CSRF token; a page
for something outside the viewer's scope answers 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
import re
import secrets
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from hq.clearing import close_month, statement
from hq.clearing_export import write_pdf, write_xlsx
from hq.conflicts import detect, list_conflicts, resolve
from hq.console import chain_lookup
from hq.console.bar_chart import grouped_bars
from hq.console.card_state import ACTIONS, CardNotFound, change_card_state
from hq.console.i18n import LANGUAGES, kind_name, translator
from hq.console.sign_in import SignInRefused, Viewer, current_viewer, sign_in
from hq.console.till_overview import fork_rows, till_lines
from hq.errors import HqError
from hq.models import Store
from hq.reports import CHAIN_TIMEZONE, liabilities_report, sales_report
from pos_app.domain.errors import CardStateError
from pos_app.domain.money import format_fen

HERE = Path(__file__).parent
# The CJK font the tills print with (resources/fonts), for browsers without a Chinese font.
FONT = Path(str(files("resources") / "fonts" / "wqy-microhei-gb2312.ttf"))
SESSION_HOURS = 8
REPORT_DAYS = 7
MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SignInNeeded(Exception):
    """The request has no (or a stale) signed-in operator: go to the sign-in page."""


class NotFound(Exception):
    """Nothing the viewer may see at this address."""


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


def console_app(
    engine: Engine,
    clock: Callable[[], datetime],
    secret: str,
    *,
    secure_cookies: bool = False,
) -> FastAPI:
    """The console, to mount at /console on the HQ app."""
    app = FastAPI(title="pos-hq console", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="pos_hq_console",
        max_age=SESSION_HOURS * 3600,
        path="/console",
        same_site="lax",
        https_only=secure_cookies,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    zone = ZoneInfo(CHAIN_TIMEZONE)

    def local_time(text: str | None) -> str:
        if not text:
            return "—"
        return datetime.fromisoformat(text).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    templates.env.filters["fen"] = format_fen
    templates.env.filters["lag"] = lag_text
    templates.env.filters["local_time"] = local_time

    @contextmanager
    def transaction() -> Iterator[Session]:
        with Session(engine) as session, session.begin():
            yield session

    def language(request: Request) -> str:
        wanted = request.query_params.get("lang")
        if wanted in LANGUAGES:
            request.session["lang"] = wanted
        lang = request.session.get("lang")
        return lang if lang in LANGUAGES else LANGUAGES[0]

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            request.session["csrf"] = token
        return token

    def check_csrf(request: Request, sent: str) -> None:
        token = request.session.get("csrf")
        if not isinstance(token, str) or not hmac.compare_digest(token, sent):
            raise CsrfRefused

    def viewer(request: Request, session: Session) -> Viewer:
        operator_id = request.session.get("operator_id")
        found = current_viewer(session, operator_id) if isinstance(operator_id, str) else None
        if found is None:
            request.session.pop("operator_id", None)
            raise SignInNeeded
        return found

    def flash(request: Request, zh: str, en: str, kind: str = "info") -> None:
        request.session["flash"] = {"zh": zh, "en": en, "kind": kind}

    def render(
        request: Request,
        name: str,
        context: dict[str, Any],
        who: Viewer | None,
        status_code: int = 200,
    ) -> HTMLResponse:
        lang = language(request)
        shown = request.session.pop("flash", None)
        page = {
            "lang": lang,
            "html_lang": "zh-CN" if lang == "zh_CN" else "en",
            "t": translator(lang),
            "kind_name": lambda kind, family="kind": kind_name(lang, kind, family),
            "viewer": who,
            "csrf": csrf_token(request),
            "flash": (shown["zh" if lang == "zh_CN" else "en"], shown["kind"]) if shown else None,
            "path": request.url.path,
            # The same page (its query kept) in the other language.
            "other_lang_url": str(
                request.url.include_query_params(lang="en" if lang == "zh_CN" else "zh_CN")
            ),
            **context,
        }
        return templates.TemplateResponse(request, name, page, status_code=status_code)

    @app.middleware("http")
    async def _page_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """No page is cached (members' data), framed (the freeze buttons could be clicked
        through another site's frame) or allowed a script."""
        response = await call_next(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'"
        )
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, _error: RequestValidationError) -> Response:
        return render(request, "error.html", {"message": "error.invalid"}, None, 422)

    @app.exception_handler(SignInNeeded)
    async def _sign_in_needed(request: Request, _error: SignInNeeded) -> Response:
        return RedirectResponse(request.url_for("sign_in_page"), status_code=303)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, _error: NotFound) -> Response:
        return render(request, "error.html", {"message": "error.not_found"}, None, 404)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _error: CsrfRefused) -> Response:
        return render(request, "error.html", {"message": "error.csrf"}, None, 403)

    @app.get("/static/console.css", include_in_schema=False)
    def stylesheet() -> FileResponse:
        return FileResponse(HERE / "static" / "console.css", media_type="text/css")

    @app.get("/static/cjk.ttf", include_in_schema=False)
    def cjk_font() -> FileResponse:
        """The bundled CJK font, for browsers on machines without one."""
        return FileResponse(FONT, media_type="font/ttf")

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return RedirectResponse(request.url_for("dashboard"), status_code=303)

    @app.get("/sign-in", name="sign_in_page")
    def sign_in_page(request: Request) -> HTMLResponse:
        return render(request, "sign_in.html", {"error": None}, None)

    @app.post("/sign-in")
    def sign_in_post(
        request: Request,
        login: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=256)],
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, csrf)
        error = None
        with transaction() as session:
            try:
                who = sign_in(session, login, password, clock())
            except SignInRefused as refused:
                error = f"sign_in.{refused.reason}"
        if error is not None:
            return render(request, "sign_in.html", {"error": error, "login": login}, None, 401)
        lang = request.session.get("lang")
        # A new session on sign-in: nothing set before it (a planted cookie) carries over.
        request.session.clear()
        request.session.update(operator_id=who.operator_id, csrf=secrets.token_urlsafe(32))
        if lang in LANGUAGES:
            request.session["lang"] = lang
        return RedirectResponse(request.url_for("dashboard"), status_code=303)

    @app.post("/sign-out")
    def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        check_csrf(request, csrf)
        lang = request.session.get("lang")
        request.session.clear()
        if lang in LANGUAGES:
            request.session["lang"] = lang
        return RedirectResponse(request.url_for("sign_in_page"), status_code=303)

    @app.get("/dashboard", name="dashboard")
    def dashboard(request: Request) -> HTMLResponse:
        now = clock()
        with transaction() as session:
            who = viewer(request, session)
            lines = till_lines(session, who, now)
        return render(request, "dashboard.html", {"tills": lines}, who)

    @app.get("/tills/{code}", name="till_page")
    def till_page(request: Request, code: str) -> HTMLResponse:
        with transaction() as session:
            who = viewer(request, session)
            lines = till_lines(session, who, clock(), till_code=code)
            if not lines:
                raise NotFound
            forks = fork_rows(session, code)
        return render(request, "till.html", {"till": lines[0], "forks": forks}, who)

    @app.get("/lookup", name="lookup")
    def lookup(request: Request, q: Annotated[str, Query(max_length=64)] = "") -> Response:
        with transaction() as session:
            who = viewer(request, session)
            found = chain_lookup.search(session, who, q)
        if len(found) == 1:
            target = "card_page" if found[0].kind == "card" else "member_page"
            return RedirectResponse(request.url_for(target, id=found[0].id), status_code=303)
        return render(request, "lookup.html", {"q": q, "found": found}, who)

    @app.get("/cards/{id}", name="card_page")
    def card_page(request: Request, id: str) -> HTMLResponse:
        with transaction() as session:
            who = viewer(request, session)
            card = chain_lookup.card_view(session, who, id)
        if card is None:
            raise NotFound
        return render(request, "card.html", {"card": card, "actions": list(ACTIONS)}, who)

    @app.post("/cards/{id}/state")
    def card_state(
        request: Request,
        id: str,
        action: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, csrf)
        if action not in ACTIONS:
            raise NotFound
        with transaction() as session:
            who = viewer(request, session)
            try:
                state = change_card_state(session, who, id, action, clock())
            except CardNotFound:
                raise NotFound from None
            except CardStateError as refused:
                flash(request, refused.zh, refused.en, "error")
            else:
                flash(request, f"卡状态已改为 {state}", f"The card is now {state}", "ok")
        return RedirectResponse(request.url_for("card_page", id=id), status_code=303)

    @app.get("/members/{id}", name="member_page")
    def member_page(request: Request, id: str) -> HTMLResponse:
        with transaction() as session:
            who = viewer(request, session)
            member = chain_lookup.member_view(session, who, id)
        if member is None:
            raise NotFound
        return render(request, "member.html", {"member": member}, who)

    @app.get("/reports", name="reports")
    def reports(request: Request, end: Annotated[date | None, Query()] = None) -> HTMLResponse:
        last = end or clock().astimezone(zone).date()
        days = [last - timedelta(days=n) for n in range(REPORT_DAYS - 1, -1, -1)]
        with transaction() as session:
            who = viewer(request, session)
            codes = _store_codes(session, who)
            sales = [sales_report(session, day, zone) for day in days]
            liabilities = liabilities_report(session)
        totals: dict[str, list[int]] = {code: [0] * len(days) for code in codes}
        for i, report in enumerate(sales):
            for line in report["stores"]:
                if line["store"] in totals:
                    totals[line["store"]][i] = line["total_fen"]
        t = translator(language(request))
        chart = grouped_bars(
            [d.strftime("%m-%d") for d in days],
            [(code, values) for code, values in totals.items()],
            format_fen,
            t("reports.sales_chart"),
        )
        owed = [s for s in liabilities["stores"] if s["store"] in totals]
        owed_chart = grouped_bars(
            [t("reports.stored_value")],
            [(s["store"], [s["stored_value_fen"]]) for s in owed],
            format_fen,
            t("reports.liabilities"),
        )
        context = {
            "days": days,
            "totals": totals,
            "chart": chart,
            "liabilities": owed,
            "liabilities_total": sum(s["stored_value_fen"] for s in owed),
            "points_total": sum(s["points"] for s in owed),
            "owed_chart": owed_chart,
            "end": last,
        }
        return render(request, "reports.html", context, who)

    @app.get("/conflicts", name="conflicts")
    def conflicts(request: Request, all: bool = False) -> HTMLResponse:
        now = clock()
        with transaction() as session:
            who = viewer(request, session)
            detect(session, now)  # what the latest pushes brought, before listing
            found = list_conflicts(session, store_ids=_scope_ids(who), include_resolved=all)
        return render(request, "conflicts.html", {"conflicts": found, "all": all}, who)

    @app.post("/conflicts/{conflict_id}/resolve", name="conflict_resolve")
    def conflict_resolve(
        request: Request,
        conflict_id: int,
        note: Annotated[str, Form(max_length=1000)] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        """An HQ admin settles a conflict with a note (kept, and audited by hq.conflicts)."""
        check_csrf(request, csrf)
        with transaction() as session:
            who = viewer(request, session)
            if not who.is_hq_admin:
                raise NotFound
            try:
                resolve(session, conflict_id, who.login, note, clock())
            except HqError as refused:  # no note, no such conflict, resolved already
                flash(request, refused.zh, refused.en, "error")
            else:
                flash(
                    request, f"冲突 {conflict_id} 已处理", f"Conflict {conflict_id} resolved", "ok"
                )
        return RedirectResponse(request.url_for("conflicts"), status_code=303)

    def month_of(text: str | None) -> str:
        if text is None:
            return clock().astimezone(zone).strftime("%Y-%m")
        if not MONTH.fullmatch(text):
            raise NotFound
        return text

    @app.get("/clearing", name="clearing")
    def clearing(
        request: Request, month: Annotated[str | None, Query(max_length=7)] = None
    ) -> HTMLResponse:
        chosen = month_of(month)
        with transaction() as session:
            who = viewer(request, session)
            figures = statement(session, chosen, store_ids=_scope_ids(who))
        return render(request, "clearing.html", {"statement": figures, "month": chosen}, who)

    @app.get("/clearing/{month}.{fmt}", name="clearing_export")
    def clearing_export(request: Request, month: str, fmt: str) -> Response:
        writers = {"xlsx": (write_xlsx, XLSX_TYPE), "pdf": (write_pdf, "application/pdf")}
        if fmt not in writers:
            raise NotFound
        chosen = month_of(month)
        with transaction() as session:
            who = viewer(request, session)
            figures = statement(session, chosen, store_ids=_scope_ids(who))
        write, media_type = writers[fmt]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"clearing-{chosen}.{fmt}"
            write(figures, path)
            content = path.read_bytes()
        disposition = f'attachment; filename="clearing-{chosen}.{fmt}"'
        return Response(
            content, media_type=media_type, headers={"Content-Disposition": disposition}
        )

    @app.post("/clearing/{month}/close", name="clearing_close")
    def clearing_close(request: Request, month: str, csrf: Annotated[str, Form()] = "") -> Response:
        check_csrf(request, csrf)
        chosen = month_of(month)
        with transaction() as session:
            who = viewer(request, session)
            if not who.is_hq_admin:
                raise NotFound
            try:
                close_month(session, chosen, who.login, clock())
            except HqError as refused:  # not over yet, or closed already
                flash(request, refused.zh, refused.en, "error")
            else:
                flash(request, f"{chosen} 已结账", f"{chosen} is closed", "ok")
        return RedirectResponse(
            str(request.url_for("clearing")) + f"?month={chosen}", status_code=303
        )

    return app


def lag_text(lag: timedelta, lang: str = "zh_CN") -> str:
    """A lag as people read it: 42s, 7m 05s, 3h 12m, 2d 4h (42秒, 7分05秒, 3小时12分, 2天4小时)."""
    d, h, m, s = ("天", "小时", "分", "秒") if lang == "zh_CN" else ("d ", "h ", "m ", "s")
    seconds = max(0, int(lag.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}{d}{hours}{h}".strip()
    if hours:
        return f"{hours}{h}{minutes:02d}{m}".strip()
    if minutes:
        return f"{minutes}{m}{seconds:02d}{s}".strip()
    return f"{seconds}{s}".strip()


def _scope_ids(viewer: Viewer) -> list[int] | None:
    return None if viewer.store_ids is None else sorted(viewer.store_ids)


def _store_codes(session: Session, viewer: Viewer) -> list[str]:
    """The codes of the stores the viewer may see, in order."""
    query = select(Store.code).order_by(Store.code)
    if viewer.store_ids is not None:
        query = query.where(Store.id.in_(sorted(viewer.store_ids)))
    return list(session.scalars(query))
