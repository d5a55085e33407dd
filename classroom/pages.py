"""The classroom's web pages: join, play (a team), host (the instructor), screen (the projector), practice (anyone).

`create_app` (classroom/app.py) mounts `routes` and serves `STATIC_DIR` at /static. The pages call the `Store` in
process, as the JSON API does, and add no rule of their own: levers are checked by `Strategy.from_dict` (in
`Store.submit`), games and rounds by the store and the game engine, challenges by `exercises.grade`.

Safety: Jinja2 escapes everything (autoescape on); no inline script (a Content-Security-Policy forbids it): the pages'
own script reads ids and URLs from data- attributes and fetches JSON. Every form post carries the double-submit CSRF
token (cookie `ll_csrf` = form field `csrf_token`) and, when the browser sends an Origin, must come from this site.
Forms are read as URL-encoded text (no multipart), under the app's body limit.
"""

from __future__ import annotations

import functools
import hmac
import json
import re
import secrets
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import anyio
import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from simulations.errors import LoyaltyLabError
from simulations.game import DEFAULT_CUSTOMERS
from simulations.parameters import LEVERS
from simulations.scoring import SCORE_WEIGHTS
from simulations.scenarios import list_scenarios, load_scenario

from . import i18n, lever_form
from .auth import (CSRF_COOKIE, INSTRUCTOR_COOKIE, SAFE_METHODS, AuthError, bearer, check_csrf, is_instructor,
                   team_cookie)
from .figures import chart_data, checks_svg, market_png
from .storage import POOL, StaleHandIn, StoreError

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
GAME_DEFAULTS = {"scenario": "telecom", "rounds": 4, "months_per_round": 6, "n_customers": DEFAULT_CUSTOMERS, "seed": 1}
GRADING = anyio.CapacityLimiter(1)  # practice runs are a few seconds of CPU each: one at a time per server

templates = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                               undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               extensions=["jinja2.ext.i18n"])
# `_()` and {% trans %} read the language of the request being rendered (classroom.i18n.use_language)
templates.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)
templates.filters.update(plain_number=i18n.plain_number, number=i18n.number, percent=i18n.percent, signed=i18n.signed, market=i18n.market_name,
                         choice=i18n.choice_name, debrief=i18n.debrief_line, localized=i18n.translate_like)


# ------------------------------------------------------------------------------------------------ plumbing
def _state(request: Request):
    return request.app.state


def _csrf(request: Request) -> str:
    """This browser's CSRF token: the ll_csrf cookie, or a new one that `render` sets."""
    if not hasattr(request.state, "csrf"):
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    return request.state.csrf


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _with_security(request: Request, response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.cookies.get(CSRF_COOKIE) != _csrf(request):  # readable by the page's script, sent to this site only
        response.set_cookie(CSRF_COOKIE, _csrf(request), httponly=False, samesite="strict", secure=_secure(request))
    return response


def words_for_script() -> dict:
    """The words classroom.js writes itself (progress, costs, the chart's legend), in the page's language."""
    _ = i18n._
    return {"cost": _("Cost: {cost} {per} at this level; {unit} at 1 (the cost grows with the square of the level)"),
            "progress": _("round {round}: {phase}"), "month": _(" · month {done} of {months}"),
            "phases": {"queued": _("queued"), "starting": _("starting"),
                       "replaying earlier rounds": _("replaying earlier rounds"), "playing": _("playing"),
                       "saving": _("saving")},
            "running": _("Round {round} is being played."), "you": _("{name} (you)"),
            "locale": i18n.current().replace("_", "-")}


def challenge_text(challenge: dict, part: str) -> str:
    """A challenge's title, what it teaches or its goal, in the page's language (the exercises catalog)."""
    from exercises.challenges import challenge_text as text

    return text(challenge, part, language=i18n.current())


templates.globals.update(words_for_script=words_for_script, challenge_text=challenge_text)


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    language = i18n.request_language(request)
    with i18n.use_language(language):
        body = templates.get_template(template).render(
            csrf_token=_csrf(request), language=language, html_lang=language.replace("_", "-"),
            languages=i18n.LANGUAGES, here=_here(request), **context)
    response = _with_security(request, HTMLResponse(body, status_code=status))
    response.headers["Content-Language"] = language.replace("_", "-")
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def _here(request: Request) -> str:
    """This page's path and query, for the language switch to come back to."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _safe_back(path: str) -> str:
    """A path on this site only (no scheme, no host, no '//'): where the language switch returns."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


async def choose_language(request: Request):
    """The language switch: remember the language in this browser's `lang` cookie, then back to the page."""
    chosen = i18n.supported(request.query_params.get("lang", ""))
    back = _safe_back(request.query_params.get("next", "/"))
    if chosen is None:
        with i18n.use_language(i18n.request_language(request)):
            return error_page(request, 400, i18n.error_message("lang", request.query_params.get("lang", ""),
                                                                ", ".join(i18n.LANGUAGES)))
    response = redirect(request, back)
    response.set_cookie(i18n.COOKIE, chosen, httponly=False, samesite="lax", secure=_secure(request),
                        max_age=365 * 24 * 3600)
    return response


def redirect(request: Request, path: str) -> Response:
    return _with_security(request, RedirectResponse(path, status_code=303))


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def page(handler):
    """Wrap a page: an unknown game or team is a 404 page, a refusal a 401/403 page, with the reason in words."""

    @functools.wraps(handler)
    async def wrapped(request: Request):
        with i18n.use_language(i18n.request_language(request)):  # the page's words and its refusals alike
            try:
                return await handler(request)
            except (StoreError, AuthError, LoyaltyLabError) as err:
                return error_page(request, getattr(err, "status", 400), _sentence(err))
    return wrapped


def _sentence(err) -> str:
    """A refusal in words, in the language of the request being answered."""
    if i18n.current() != "en":
        return i18n.error_message(err.field, err.value, err.allowed)
    value = "" if err.value is None else f" {err.value!r} is not allowed;"
    return f"{err.field}:{value} allowed: {err.allowed}"


def _error_text(err: LoyaltyLabError) -> str:
    """A model's refusal in words: its English message, or each single error translated."""
    if i18n.current() == "en":
        return str(err)
    return "; ".join(i18n.error_message(e.field, e.value, e.allowed) for e in err.errors)


async def read_form(request: Request) -> dict:
    """A URL-encoded form as {name: last value} (the app's BodyLimit has already capped its size)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise AuthError(400, "Content-Type", "a form posted by the page (application/x-www-form-urlencoded)")
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


async def posted_form(request: Request) -> dict:
    """The form of a state-changing post, after the same-origin and CSRF checks (403 naming what failed)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise AuthError(403, "Origin", "a form posted from this site's own pages")
    form = await read_form(request)
    check_csrf(request, form.get("csrf_token"))
    return form


async def call(function, *args):
    """Run a store call in a worker thread: the store's transactions block."""
    return await run_in_threadpool(function, *args)


@functools.lru_cache(maxsize=16)
def scenario_settings(market: str) -> dict:
    return load_scenario(market)


# ------------------------------------------------------------------------------------------------ join
@page
async def home(request: Request):
    """Join a game: its code (the host console shows it) and a team name; a team's PIN to join it again."""
    problem = "no-team" if "joined" in request.query_params else ""
    return join_form(request, code=request.query_params.get("code", "")[:16], problem=problem)


def join_form(request, status=200, code="", name="", pin="", problem="", error=None):
    """The join page; `problem` names what went wrong (join.html words it), `error` is a refusal to show as is."""
    return render(request, "join.html", status=status, code=code, name=name, pin=pin, problem=problem,
                  detail=_sentence(error) if error is not None else "", settings=_state(request).settings)


# what join.html says for each refusal of the store (field, status) -> the page's problem
JOIN_PROBLEMS = {("game", 409): "started", ("name", 409): "taken", ("pin", 403): "wrong-pin",
                 ("name", 404): "no-such-team", ("join_code", 403): "wrong-code"}


@page
async def join(request: Request):
    """Join with the code (a new team), or with the code, the team's name and its PIN (another phone of a team);
    the team token goes into this game's team cookie, then on to the team's page."""
    form = await posted_form(request)
    code, name, pin = form.get("join_code", "").strip().upper(), form.get("name", ""), form.get("pin", "")
    state = _state(request)
    address = request.client.host if request.client else "unknown"
    if not state.join_limiter.allow(address):
        return join_form(request, 429, code, name, pin, "too-many")
    game_id = await call(game_by_join_code, state.store, code)
    if game_id is None:
        state.join_limiter.failed(address)
        return join_form(request, 403, code, name, pin, "wrong-code")
    try:
        joined = await call(state.store.join, game_id, code, name, pin or None)
    except (StoreError, LoyaltyLabError) as err:
        status = getattr(err, "status", 400)
        if status == 403:
            state.join_limiter.failed(address)
        problem = JOIN_PROBLEMS.get((str(getattr(err, "field", "")), status), "")
        return join_form(request, status, code, name, pin, problem, None if problem else err)
    response = redirect(request, f"/play/{quote(game_id)}" + ("" if joined["rejoined"] else "?welcome=1"))
    response.set_cookie(team_cookie(game_id), joined["token"], httponly=True, samesite="lax",
                        secure=_secure(request), max_age=7 * 24 * 3600)
    return response


def game_by_join_code(store, code: str) -> str | None:
    """The game with this join code (codes are capital letters and digits: anything else is no game)."""
    return store.game_by_join_code(code) if re.fullmatch(r"[A-Z0-9]{4,16}", code) else None


# ------------------------------------------------------------------------------------------------ play (a team)
def _team(request: Request, game_id: str) -> dict | None:
    """The team whose cookie this browser holds for `game_id`, or None."""
    return _state(request).store.team_by_token(game_id, request.cookies.get(team_cookie(game_id), ""))


@page
async def play(request: Request):
    game_id = request.path_params["game"]
    store = _state(request).store
    shown = await call(store.team_page, game_id, request.cookies.get(team_cookie(game_id), ""))  # 404: no game
    if shown is None:
        return redirect(request, "/?joined=no")
    saved = request.query_params.get("saved") == "1"
    pin = store.team_pin(shown["view"]["team"]) if "welcome" in request.query_params else None
    return await play_page(request, game_id, None, notice=i18n._("Handed in.") if saved else "", pin=pin, shown=shown)


def explain(results: list[dict], scenario: dict, not_played: list | None = None) -> dict:
    """The debrief's 'why' for the last result: the score's parts, customers lost this round by cause, customers
    won from and lost to each rival, and the team's decisions round by round with what each lever costs at its
    level (read by play.html). `not_played`: the rounds before a late team joined, listed as not played."""
    last = results[-1]
    parts = []
    for outcome, weight in SCORE_WEIGHTS.items():
        part = (last.get("score_parts") or {}).get(outcome)
        parts.append({"outcome": outcome, "value": last["standing"].get(outcome), "weight": weight,
                      "points": None if part is None else part / weight * 100, "part": part})
    churn_now, churn_before = last.get("churn") or {}, (results[-2].get("churn") or {}) if len(results) > 1 else {}
    lost = [{"cause": cause, "count": count - churn_before.get(cause, 0)} for cause, count in churn_now.items()]
    decisions = []
    for lever in LEVERS:
        values = [r["strategy"].get(lever.name) for r in results]
        unit, per, _ = lever_form.cost_hint(lever.name, values[-1], scenario)
        cost = None if unit is None or not isinstance(values[-1], (int, float)) else unit * values[-1] ** 2
        decisions.append({"label": lever_form.lever_label(lever), "by_round": values, "changed": len(set(map(str, values))) > 1,
                          "cost": cost, "per": per})
    history = [{"round": number, "played": False} for number in not_played or ()]
    history += [{"round": r["round"], "rank": r["standing"]["rank"], "score": r["standing"]["score"], "played": True,
                 "share": r["standing"]["market_share"], "profit": r["standing"]["profit"]} for r in results]
    return {"parts": parts, "score": last["standing"]["score"], "lost": lost, "history": history,
            "rivals": rival_flows(last.get("flows")), "pool": pool_flows(last.get("flows")),
            "late": bool(not_played), "rounds_played_by_team": last["standing"].get("rounds_played"),
            "lost_total": sum(row["count"] for row in lost),
            "rounds": [r["round"] for r in results], "decisions": decisions}


def rival_flows(flow: dict | None) -> list[dict] | None:
    """Customers won from and lost to each rival in the round, the rivals that took most first (None: a round saved
    before flows were recorded)."""
    if flow is None:
        return None
    won, lost = flow["won_from"], flow["lost_to"]
    rivals = [name for name in dict.fromkeys(list(won) + list(lost)) if name != POOL]
    rows = [{"rival": name, "won": won.get(name, 0), "lost": lost.get(name, 0)} for name in rivals]
    for row in rows:
        row["net"] = row["won"] - row["lost"]
    return sorted(rows, key=lambda row: (-row["lost"], -row["won"], row["rival"]))


def pool_flows(flow: dict | None) -> dict | None:
    """Customers won from the pool of non-customers (new to the firm) and lost to it (left the market)."""
    if flow is None:
        return None
    return {"won": flow["won_from"].get(POOL, 0), "lost": flow["lost_to"].get(POOL, 0)}


def stale_differences(mine: dict, current: dict) -> list[dict]:
    """The levers where this device's refused hand-in differs from what a teammate handed in: label, mine, theirs."""
    theirs = current["levers"]
    return [{"label": lever_form.lever_label(lever), "mine": mine[lever.name], "theirs": theirs.get(lever.name)}
            for lever in LEVERS if lever.name in mine and mine[lever.name] != theirs.get(lever.name)]


async def play_page(request, game_id, team, status=200, values=None, errors=None, notice="", error="", stale=None,
                    pin=None, closed=False, shown=None):
    """The team's page (the team this browser's cookie is): the strategy form (its saved values unless `values`
    were just posted) and its results up to the revealed round (`Store.team_page`, or `shown` when already read).

    `stale`: this device's hand-in was refused because a teammate handed in since; the form shows theirs and the
    page lists where the two differ.
    """
    if shown is None:
        shown = await call(_state(request).store.team_page, game_id, request.cookies.get(team_cookie(game_id), ""))
        if shown is None:
            raise AuthError(403, "team", "a team of this game: join it first from the home page")
    game, view, rounds = shown["game"], shown["view"], shown["rounds"]
    scenario = scenario_settings(game["settings"]["market"])
    shown = values if values is not None else view["strategy"]["levers"]
    last = view["results"][-1] if view["results"] else None
    why = explain(view["results"], scenario, view.get("not_played")) if last else None
    return render(request, "play.html", why=why, status=status, game=game, view=view, rounds=rounds, last=last,
                  fields=lever_form.fields(shown, scenario, errors), errors=errors or {}, notice=notice, error=error,
                  upcoming=rounds["rounds_played"] + (2 if rounds["status"] == "running" else 1), stale=stale, pin=pin, closed=closed,
                  debrief=(last["debrief"].splitlines() if last else []))


@page
async def hand_in(request: Request):
    """The posted levers, checked like any Strategy; errors come back per field on the same page (400)."""
    game_id = request.path_params["game"]
    form = await posted_form(request)
    team = await call(_team, request, game_id)
    if team is None:
        raise AuthError(403, "team", "a team of this game: join it first from the home page")
    levers, errors = lever_form.parse(form)
    based_on = form.get("version", "")
    based_on = int(based_on) if based_on.isdigit() and len(based_on) < 12 else None
    if errors:  # also name every other bad value, so the team fixes the form in one go
        errors = lever_form.check(levers) | errors
    else:
        try:
            await call(_state(request).store.submit, game_id, team["team"], levers, based_on)
            return redirect(request, f"/play/{quote(game_id)}?saved=1")
        except LoyaltyLabError as err:
            errors = lever_form.errors_by_field(err)
        except StaleHandIn as err:  # a teammate handed in since this form was loaded: show theirs, and what differs
            return await play_page(request, game_id, team, status=409, stale=stale_differences(levers, err.current))
        except StoreError as err:
            closed = err.field == "deadline"  # play.html says it in words
            return await play_page(request, game_id, team, status=err.status, values=form,
                                   error="" if closed else _sentence(err), closed=closed)
    return await play_page(request, game_id, team, status=400, values={**form, **levers}, errors=errors,
                           error=i18n._("Not handed in: correct the fields marked below."))


@page
async def team_figure(request: Request):
    """Market share and cumulative profit of every team, this team's lines drawn thicker (this team only)."""
    game_id = request.path_params["game"]
    team = await call(_team, request, game_id)
    if team is None:
        raise AuthError(403, "team", "a team of this game")
    game = await call(_state(request).store.get_game, game_id)
    png = await call(cached_figure, _state(request).store, game_id, game["revealed"], team["name"])
    return _png(png, private=True)


# ------------------------------------------------------------------------------------------------ figures
_figures: OrderedDict = OrderedDict()
_figures_lock = threading.Lock()


def cached_figure(store, game_id: str, upto: int, highlight: str | None) -> bytes:
    """The figure up to round `upto` (rounds never change once saved, so it is drawn once per round and team).

    With a `highlight` (a team's own page, read on phones) the panels are stacked; without, side by side.
    """
    key = (id(store), game_id, upto, store.round_stamp(game_id, upto), highlight, i18n.current())  # labels' language
    with _figures_lock:
        if key in _figures:
            _figures.move_to_end(key)
            return _figures[key]
    history = store.history(game_id, upto)
    teams = [team["name"] for team in store.list_teams(game_id)]
    png = market_png(history, teams, highlight, stacked=highlight is not None)
    with _figures_lock:
        _figures[key] = png
        while len(_figures) > 64:
            _figures.popitem(last=False)
    return png


_charts: OrderedDict = OrderedDict()


def cached_chart(store, game_id: str, upto: int) -> bytes:
    """The chart's JSON (figures.chart_data) up to round `upto`, built once per game, round and save of that round."""
    key = (id(store), game_id, upto, store.round_stamp(game_id, upto))
    with _figures_lock:
        if key in _charts:
            _charts.move_to_end(key)
            return _charts[key]
    data = chart_data(store.history(game_id, upto), store.leaderboard(game_id, upto)["standings"], upto)
    body = json.dumps(data, separators=(",", ":")).encode()
    with _figures_lock:
        _charts[key] = body
        while len(_charts) > 256:
            _charts.popitem(last=False)
    return body


@page
async def chart(request: Request):
    """The market chart's data up to the revealed round (never past it, whatever ?round= asks), for every page."""
    game_id = request.path_params["game"]
    shown = await revealed(request, game_id)
    asked = request.query_params.get("round", str(shown))
    upto = min(int(asked), shown) if asked.isdigit() and len(asked) < 6 else shown
    body = await call(cached_chart, _state(request).store, game_id, upto)
    return Response(body, media_type="application/json",
                    headers={"Cache-Control": "public, max-age=30", "X-Content-Type-Options": "nosniff"})


def _png(png: bytes, private: bool) -> Response:
    cache = "private, max-age=60" if private else "public, max-age=60"
    return Response(png, media_type="image/png", headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


# ------------------------------------------------------------------------------------------------ host (instructor)
def _instructor(request: Request) -> bool:
    """The instructor's cookie (or bearer token) is present and right. Posts check CSRF in `posted_form` first:
    `auth.is_instructor` would look for the CSRF token in a header, and a plain form sends it as a field."""
    if request.method in SAFE_METHODS:
        return is_instructor(request, _state(request).settings)
    token = bearer(request) or request.cookies.get(INSTRUCTOR_COOKIE, "")
    return bool(token) and hmac.compare_digest(token.encode(), _state(request).settings.instructor_token.encode())


def _safe_next(path: str) -> str:
    """Only a path of this site's host pages (no open redirect to another site)."""
    return path if re.fullmatch(r"/host(/[A-Za-z0-9_-]+)?", path or "") else "/host"


@page
async def host_home(request: Request):
    """The instructor's start: sign in with the token, then create a game."""
    if not _instructor(request):
        return render(request, "host_login.html", next=_safe_next(request.query_params.get("next", "/host")), error="")
    return render(request, "host_new.html", scenarios=sorted(list_scenarios()), values=GAME_DEFAULTS, error="")


@page
async def host_login(request: Request):
    form = await posted_form(request)
    next_path = _safe_next(form.get("next", "/host"))
    token = form.get("token", "").strip()
    if not hmac.compare_digest(token.encode(), _state(request).settings.instructor_token.encode()):
        return render(request, "host_login.html", status=403, next=next_path,
                      error=i18n._("That is not the instructor's token (the server printed it at start, or it is "
                                   "LOYALTY_LAB_INSTRUCTOR_TOKEN)."))
    response = redirect(request, next_path)
    response.set_cookie(INSTRUCTOR_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=24 * 3600)
    return response


def _require_instructor(request: Request) -> None:
    if not _instructor(request):
        raise AuthError(403 if request.cookies.get(INSTRUCTOR_COOKIE) else 401, "instructor",
                        "the instructor signed in at /host")


@page
async def host_create(request: Request):
    form = await posted_form(request)
    _require_instructor(request)
    values = {name: form.get(name, str(default)).strip() for name, default in GAME_DEFAULTS.items()}
    try:
        numbers = {name: _whole(name, values[name]) for name in GAME_DEFAULTS if name != "scenario"}
        game_id, _ = await call(_state(request).store.create_game, values["scenario"], numbers["rounds"],
                                numbers["months_per_round"], numbers["n_customers"], numbers["seed"],
                                form.get("late_joins") == "on")
    except (LoyaltyLabError, StoreError) as err:
        return render(request, "host_new.html", status=400, scenarios=sorted(list_scenarios()), values=values,
                      error=_sentence(err))
    return redirect(request, f"/host/{quote(game_id)}")


def _whole(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise StoreError(name, text, "a whole number") from None


@page
async def host_game(request: Request):
    """The console: the join code in large type, who has handed in, play the round, reveal the results."""
    game_id = request.path_params["game"]
    if not _instructor(request):
        return render(request, "host_login.html", status=401, next=_safe_next(f"/host/{game_id}"), error="")
    return await host_page(request, game_id)


async def host_page(request, game_id, status=200, error=""):
    store = _state(request).store
    game = await call(store.get_game, game_id)
    join_url = f"{request.base_url}?code={game['join_code']}"
    return render(request, "host.html", status=status, game=game, teams=await call(teams_with_pins, store, game_id),
                  rounds=await call(store.round_status, game_id), revealed=await revealed(request, game_id),
                  join_url=join_url, error=error, minutes=DEADLINE_MINUTES)


def teams_with_pins(store, game_id: str) -> list[dict]:
    """The game's teams with each one's PIN: for the instructor's console only."""
    return [team | {"pin": store.team_pin(team["team"])} for team in store.list_teams(game_id)]


@page
async def host_status(request: Request):
    """The console's live part, for its script: teams and hand-ins, the round's status and progress."""
    game_id = request.path_params["game"]
    _require_instructor(request)
    store = _state(request).store
    return JSONResponse({"teams": await call(teams_with_pins, store, game_id),
                         "rounds": await call(store.round_status, game_id),
                         "revealed": await revealed(request, game_id)}, headers={"Cache-Control": "no-store"})


@page
async def host_play(request: Request):
    game_id = request.path_params["game"]
    await posted_form(request)
    _require_instructor(request)
    try:
        await call(_state(request).worker.start, game_id)
    except StoreError as err:
        return await host_page(request, game_id, status=err.status, error=_sentence(err))
    return redirect(request, f"/host/{quote(game_id)}")


@page
async def host_reveal(request: Request):
    """Show the last round played on the projector (its standings and figure)."""
    game_id = request.path_params["game"]
    await posted_form(request)
    _require_instructor(request)
    game = await call(_state(request).store.get_game, game_id)
    await call(_state(request).store.reveal, game_id, game["rounds_played"])
    return redirect(request, f"/host/{quote(game_id)}")


@page
async def host_roster(request: Request):
    """The console's roster forms, before the first round: rename, remove, or merge a team into another."""
    game_id, team_id, action = (request.path_params[k] for k in ("game", "team", "action"))
    form = await posted_form(request)
    _require_instructor(request)
    store = _state(request).store
    try:
        if action == "rename":
            await call(store.rename_team, game_id, team_id, form.get("name", ""))
        elif action == "merge":
            await call(store.merge_teams, game_id, team_id, form.get("into", ""))
        elif action == "remove":
            await call(store.remove_team, game_id, team_id)
        else:
            raise StoreError("action", action, "rename, merge or remove")
    except (StoreError, LoyaltyLabError) as err:
        return await host_page(request, game_id, status=getattr(err, "status", 400), error=_sentence(err))
    return redirect(request, f"/host/{quote(game_id)}")


DEADLINE_MINUTES = (1, 2, 3, 5, 10, 15)  # the console's choices


@page
async def host_control(request: Request):
    """The console's round control: deadline, announcement, late joins, undo, end early, rematch."""
    game_id, action = request.path_params["game"], request.path_params["action"]
    form = await posted_form(request)
    _require_instructor(request)
    store = _state(request).store
    try:
        if action == "deadline":
            minutes = form.get("minutes", "")
            await call(store.set_deadline, game_id, None if minutes == "none" else 60 * _whole("minutes", minutes))
        elif action == "announce":
            await call(store.announce, game_id, form.get("text", ""))
        elif action == "undo":
            await call(store.undo_round, game_id)
        elif action == "end":
            await call(store.end_early, game_id)
        elif action == "late-joins":
            await call(store.allow_late_joins, game_id, form.get("allow") == "yes")
        elif action == "rematch":
            new_id, _ = await call(store.rematch, game_id)
            return redirect(request, f"/host/{quote(new_id)}")
        else:
            raise StoreError("action", action, "deadline, announce, late-joins, undo, end or rematch")
    except (StoreError, LoyaltyLabError) as err:
        return await host_page(request, game_id, status=getattr(err, "status", 400), error=_sentence(err))
    return redirect(request, f"/host/{quote(game_id)}")


@page
async def play_rematch(request: Request):
    """A team's way from a finished game to its rematch: this browser's team of the old game plays the new one."""
    game_id = request.path_params["game"]
    store = _state(request).store
    game = await call(store.get_game, game_id)
    token = request.cookies.get(team_cookie(game_id), "")
    if not game["rematch"] or await call(store.team_by_token, game["rematch"], token) is None:
        return redirect(request, f"/play/{quote(game_id)}")
    response = redirect(request, f"/play/{quote(game['rematch'])}")
    response.set_cookie(team_cookie(game["rematch"]), token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=7 * 24 * 3600)
    return response


async def revealed(request: Request, game_id: str) -> int:
    """The last round the instructor has shown the room (kept with the game in the database)."""
    return await call(_state(request).store.revealed, game_id)


# ------------------------------------------------------------------------------------------------ screen (projector)
@page
async def screen(request: Request):
    game_id = request.path_params["game"]
    game = await call(_state(request).store.get_game, game_id)
    return render(request, "screen.html", game=game, weights=list(SCORE_WEIGHTS.items()))


@page
async def screen_data(request: Request):
    """What the projector shows now: status and progress, and the standings once the instructor reveals them."""
    game_id = request.path_params["game"]
    store = _state(request).store
    shown = await revealed(request, game_id)
    board = await call(store.leaderboard, game_id, shown)  # the last revealed standings stay while a round plays
    teams = await call(store.list_teams, game_id)
    answer = {"market": board["market"], "rounds": board["rounds"], "rounds_played": board["rounds_played"],
              "revealed": shown, "status": await call(store.round_status, game_id),
              "teams": len(teams), "handed_in": sum(team["handed_in"] for team in teams),
              "standings": board["standings"], "switches": await call(store.biggest_switches, game_id, shown),
              "figure": f"/screen/{quote(game_id)}/market.png?round={shown}" if shown else None,
              "chart": f"/screen/{quote(game_id)}/market.json?round={shown}" if shown else None}
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


@page
async def screen_figure(request: Request):
    game_id = request.path_params["game"]
    shown = await revealed(request, game_id)
    asked = request.query_params.get("round", str(shown))
    upto = min(int(asked), shown) if asked.isdigit() else shown  # never past what the instructor revealed
    png = await call(cached_figure, _state(request).store, game_id, upto, None)
    return _png(png, private=False)


# ------------------------------------------------------------------------------------------------ practice
def _challenges() -> list[dict]:
    from exercises import list_challenges
    from exercises.challenges import load_challenge

    return [load_challenge(cid) for cid in list_challenges()]


@functools.lru_cache(maxsize=1)
def challenges_by_id() -> dict:
    return {challenge["id"]: challenge for challenge in _challenges()}


def known_challenge(challenge_id):
    """The challenge of an id, or of a former id (a link or a form saved before the chapters were renumbered)."""
    from exercises.challenges import CHALLENGE_ALIASES

    known = challenges_by_id()
    return known.get(challenge_id) or known.get(CHALLENGE_ALIASES.get(challenge_id, ""))


@page
async def practice(request: Request):
    """Pick a challenge, set its levers, read the grader's feedback."""
    known = challenges_by_id()
    chosen = request.query_params.get("challenge")
    challenge = known_challenge(chosen) if chosen else next(iter(known.values()))
    if challenge is None:  # a mistyped link: say so, rather than show another challenge as if it were the one
        raise StoreError("challenge", chosen, "one of " + ", ".join(known))
    start = challenge["starting_strategy"].as_dict()
    # A link from the book carries the lab's strategy as query parameters: show it in the form, grade nothing yet.
    levers, errors = lever_form.parse(dict(request.query_params), challenge.get("levers") or None)
    if levers or errors:
        errors = lever_form.check(levers) | errors
    if errors:
        return practice_page(request, challenge, {**start, **levers}, 400, errors,
                             error=i18n._("The link's strategy has fields to correct: see the fields marked below."))
    return practice_page(request, challenge, {**start, **levers})


def practice_page(request, challenge, values, status=200, errors=None, result=None, error=""):
    editable = challenge.get("levers")
    scenario = scenario_settings(challenge["scenario"]) | challenge.get("scenario_overrides", {})
    return render(request, "practice.html", status=status, challenges=list(challenges_by_id().values()),
                  challenge=challenge, fields=lever_form.fields(values, scenario, errors, editable),
                  result=result, error=error, checks_figure=checks_svg(result.checks) if result else "")


@page
async def practice_grade(request: Request):
    """Grade the posted levers on the challenge (the same `exercises.grade` the notebooks use)."""
    from exercises import grade

    form = await posted_form(request)
    known = challenges_by_id()
    challenge = known_challenge(form.get("challenge", ""))
    if challenge is None:
        raise StoreError("challenge", form.get("challenge", ""), "one of " + ", ".join(known))
    start = challenge["starting_strategy"].as_dict()
    levers, errors = lever_form.parse(form, challenge.get("levers") or None)
    shown = {**start, **levers}
    if errors:
        errors = lever_form.check(levers) | errors
        return practice_page(request, challenge, shown, 400, errors, error=i18n._("Not graded: correct the fields marked below."))
    try:
        async with GRADING:
            result = await run_in_threadpool(functools.partial(grade, challenge["id"], levers, language=i18n.current()))
    except LoyaltyLabError as err:
        return practice_page(request, challenge, shown, 400, lever_form.errors_by_field(err),
                             error=i18n._("Not graded:") + " " + _error_text(err))
    return practice_page(request, challenge, shown, result=result)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/language", choose_language, methods=["GET"]),
    Route("/join", join, methods=["POST"]),
    Route("/play/{game}", play, methods=["GET"]),
    Route("/play/{game}", hand_in, methods=["POST"]),
    Route("/play/{game}/market.png", team_figure, methods=["GET"]),
    Route("/host", host_home, methods=["GET"]),
    Route("/host/login", host_login, methods=["POST"]),
    Route("/host/games", host_create, methods=["POST"]),
    Route("/host/{game}", host_game, methods=["GET"]),
    Route("/host/{game}/status.json", host_status, methods=["GET"]),
    Route("/host/{game}/play", host_play, methods=["POST"]),
    Route("/host/{game}/reveal", host_reveal, methods=["POST"]),
    Route("/host/{game}/teams/{team}/{action}", host_roster, methods=["POST"]),
    Route("/host/{game}/control/{action}", host_control, methods=["POST"]),
    Route("/play/{game}/rematch", play_rematch, methods=["GET"]),
    Route("/screen/{game}", screen, methods=["GET"]),
    Route("/screen/{game}/data.json", screen_data, methods=["GET"]),
    Route("/screen/{game}/market.png", screen_figure, methods=["GET"]),
    Route("/screen/{game}/market.json", chart, methods=["GET"]),
    Route("/practice", practice, methods=["GET"]),
    Route("/practice", practice_grade, methods=["POST"]),
]
