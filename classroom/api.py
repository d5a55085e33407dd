"""The JSON API (issue 11's paths; other tools rely on them exactly).

    POST /api/games                                 instructor   create a game            201 {game, join_code}
                                                                 (late_joins: true lets teams join after round 1)
    GET  /api/games/{game}                          public       settings, state, teams (join code: instructor only)
    POST /api/games/{game}/teams                    anyone       join with the code       201 {team, token, pin,
                                                                 first_round} (after round 1: if late joins allowed)
                                                                 ... and a team's PIN     200 {team, token}
    PUT  /api/games/{game}/teams/{team}/strategy    that team    hand in levers           200 (If-Match: 409 if stale)
    GET  /api/games/{game}/teams/{team}             team, instr. strategy, results, debrief (ETag: its version)
    PATCH /api/games/{game}/teams/{team}            instructor   {name} or {merge_into}    200 (before round 1)
    DELETE /api/games/{game}/teams/{team}           instructor   remove the team           204 (before round 1)
    POST /api/games/{game}/rounds                   instructor   play the next round      202 (runs in a worker)
    GET  /api/games/{game}/rounds                   public       round status and progress, the revealed round
    POST /api/games/{game}/reveal                   instructor   show the room a played round  200 {revealed}
    GET  /api/games/{game}/leaderboard              public       standings after the revealed round (instructor: last)
    GET  /api/games/{game}/history                  public       share and profit by team and month, up to the same
    POST /api/games/{game}/deadline                 instructor   {seconds} (null: none)   hand-ins close then
    POST /api/games/{game}/announcement             instructor   {text} ('' takes it down) on team pages, projector
    POST /api/games/{game}/late-joins               instructor   {allow: true|false}      200 {late_joins}
    POST /api/games/{game}/end                      instructor   end after the rounds played so far
    POST /api/games/{game}/undo                     instructor   take back the last round {undone}
    POST /api/games/{game}/rematch                  instructor   same settings, next seed, same teams 201
    GET  /api/games/{game}/export.csv               instructor   one row per team and round, for grading
    GET  /api/levers                                public       the lever specification (the sliders' one)

Errors are `{"error": {"field", "value", "allowed", "message"}}`: 400 bad input, 401 no credentials, 403 wrong
credentials or another team's, 404 unknown game or team, 409 not now (game started or over, a round running, a
hand-in whose If-Match names a strategy version a teammate has replaced: the body's "current" has theirs),
413 a body over the limit, 415 a body not sent as JSON, 429 too many failed joins from one address.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections import defaultdict, deque
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulations.errors import LoyaltyLabError, UnknownField
from simulations.game import DEFAULT_CUSTOMERS
from simulations.parameters import LEVERS

from . import i18n
from .auth import AuthError, is_instructor, require_instructor, require_team
from .storage import StoreError, WrongCode

GAME_FIELDS = ("scenario", "rounds", "months_per_round", "n_customers", "seed", "late_joins")
JOIN_FIELDS = ("join_code", "name", "pin")


def error_response(status: int, field: str, value, allowed: str, message: str | None = None) -> JSONResponse:
    """The API's error body; its `message` in the request's language (classroom.i18n), the other fields as they are."""
    if i18n.current() != "en":
        message = i18n.error_message(field, value, allowed)
    return JSONResponse({"error": {"field": field, "value": value, "allowed": allowed,
                                   "message": message or f"{field}: {value!r} is not allowed; allowed: {allowed}"}},
                        status_code=status)


def _answer_error(err: Exception) -> JSONResponse:
    """StoreError and AuthError carry their status; a LoyaltyLabError (bad levers or settings) is a 400.
    Field names stay as they are; the `message` is in the request's language."""
    return JSONResponse({"error": i18n.translated_error(err)}, status_code=getattr(err, "status", 400))


def endpoint(handler):
    """Wrap a route: the refusals the store, the checks and the model raise become the API's JSON errors."""

    async def wrapped(request: Request):
        with i18n.use_language(i18n.request_language(request)):
            try:
                return await handler(request)
            except (StoreError, AuthError, LoyaltyLabError) as err:
                return _answer_error(err)

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


MAX_DEPTH = 16  # the API's bodies are flat objects; deeper nesting is refused before anything walks it


class NotANumber(str):
    """A number JSON allows but a double cannot hold (1e400), or a constant it does not allow (NaN, Infinity)."""


class UnsupportedMediaType(StoreError):
    status = 415


def _finite_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else NotANumber(text)


def _bounded_int(text: str):
    return int(text) if len(text.lstrip("-")) <= 30 else NotANumber(text)  # no 5,000-digit integers to convert


def _first_not_a_number(value, field: str, depth: int = 1):
    """The first NotANumber in `value` (None when none); refuses nesting deeper than MAX_DEPTH, naming `field`."""
    if depth > MAX_DEPTH:
        raise StoreError(field, f"nested more than {MAX_DEPTH} levels deep", f"a value at most {MAX_DEPTH} deep")
    if isinstance(value, NotANumber):
        return value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found = _first_not_a_number(child, field, depth + 1)
        if found is not None:
            return found
    return None


def _check_media_type(request: Request) -> None:
    """A body sent as something other than JSON is 415 (no Content-Type at all is read as JSON, as curl -d does not)."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("Content-Type", declared[:80], "application/json")


async def json_object(request: Request, fields: tuple[str, ...] | None = None, empty_is_object: bool = False) -> dict:
    """The request body as a JSON object; with `fields`, any other key is refused, naming it.

    Refused with the field named: NaN, Infinity and numbers beyond a double (1e400) or of more than 30 digits
    (400), nesting deeper than MAX_DEPTH (400), a Content-Type other than JSON (415). An empty body is {} when
    `empty_is_object` (an action whose settings all have defaults), else a 400.
    """
    raw = await request.body()
    if raw.strip():
        _check_media_type(request)
    elif empty_is_object:
        return {}
    try:
        body = json.loads(raw or b"null", parse_constant=NotANumber, parse_float=_finite_float,
                          parse_int=_bounded_int)
    except RecursionError:
        raise StoreError("body", "nested too deep to read", f"a JSON object at most {MAX_DEPTH} deep") from None
    except (ValueError, UnicodeDecodeError):
        raise StoreError("body", raw[:80].decode("utf-8", "replace"), "a JSON object") from None
    if not isinstance(body, dict):
        shown = body if isinstance(body, (str, int, float, bool)) or body is None else type(body).__name__
        raise StoreError("body", str(shown) if isinstance(shown, NotANumber) else shown, "a JSON object")
    for key, value in body.items():
        bad = _first_not_a_number(value, key)
        if bad is not None:
            raise StoreError(key, str(bad), "a finite number that fits a double (no NaN, Infinity or 1e400)")
    for key in body if fields else ():
        if key not in fields:
            raise UnknownField("request", key, fields, value=body[key])
    return body


class JoinLimiter:
    """At most `count` FAILED join attempts (a wrong join code or PIN) per client address in any `seconds` window.

    Only failures count: a whole lecture hall behind one campus NAT address joins at once without a refusal, while
    guessing a code or a PIN stays slow. A sliding window in memory (per app process).
    """

    def __init__(self, count: int, seconds: float):
        self.count, self.seconds = count, seconds
        self.seen: dict[str, deque] = defaultdict(deque)

    def _recent(self, address: str) -> deque:
        now, times = time.monotonic(), self.seen[address]
        while times and times[0] <= now - self.seconds:
            times.popleft()
        return times

    def allow(self, address: str) -> bool:
        """Whether `address` may try to join now (fewer than `count` failures in the window)."""
        return len(self._recent(address)) < self.count

    def failed(self, address: str) -> None:
        self._recent(address).append(time.monotonic())


def _state(request: Request):
    return request.app.state


# ---------------------------------------------------------------------------------------------- games
@endpoint
async def create_game(request: Request):
    """Instructor: a new game; 201 {game, join_code, settings}."""
    state = _state(request)
    require_instructor(request, state.settings)
    body = await json_object(request, GAME_FIELDS, empty_is_object=True)
    defaults = {"scenario": "telecom", "rounds": 4, "months_per_round": 6, "n_customers": DEFAULT_CUSTOMERS, "seed": 1,
                "late_joins": False}
    values = defaults | body
    game_id, code = await run_in_threadpool(state.store.create_game, *(values[f] for f in GAME_FIELDS))
    game = await run_in_threadpool(state.store.get_game, game_id)
    return JSONResponse({"game": game_id, "join_code": code, "settings": game["settings"]}, status_code=201)


@endpoint
async def show_game(request: Request):
    """Public: settings, rounds played, round status and the teams (with who has handed in); the code for the instructor."""
    state, game_id = _state(request), request.path_params["game"]
    game = await run_in_threadpool(state.store.get_game, game_id)
    game["teams"] = await run_in_threadpool(state.store.list_teams, game_id)
    if not is_instructor(request, state.settings):
        game.pop("join_code")
    return JSONResponse(game)


# ---------------------------------------------------------------------------------------------- teams
@endpoint
async def join_game(request: Request):
    """Anyone with the join code: a new team 201 {team, token, name, pin}; {join_code, name, pin} of an existing team
    200 {team, token, name} (a further device); a wrong code or PIN 403; too many failed tries from one address 429."""
    state, game_id = _state(request), request.path_params["game"]
    address = request.client.host if request.client else "unknown"
    if not state.join_limiter.allow(address):
        count, seconds = state.settings.join_rate_limit
        return error_response(429, "join", address, f"at most {count} failed join attempts per {seconds:g} s "
                                                    "from one address")
    body = await json_object(request, JOIN_FIELDS)
    try:
        joined = await run_in_threadpool(state.store.join, game_id, body.get("join_code"), body.get("name"),
                                         body.get("pin"))
    except WrongCode:
        state.join_limiter.failed(address)
        raise
    return JSONResponse(joined, status_code=200 if joined["rejoined"] else 201)


@endpoint
async def change_team(request: Request):
    """Instructor, before the first round: {"name": ...} renames the team; {"merge_into": team} folds it into
    another team (its devices then act for that one). 200 with the result."""
    state, game_id, team_id = _state(request), request.path_params["game"], request.path_params["team"]
    require_instructor(request, state.settings)
    body = await json_object(request, ("name", "merge_into"))
    if len(body) != 1:
        raise StoreError("body", sorted(body), 'exactly one of "name" (rename) or "merge_into" (merge)')
    if "name" in body:
        return JSONResponse(await run_in_threadpool(state.store.rename_team, game_id, team_id, body["name"]))
    return JSONResponse(await run_in_threadpool(state.store.merge_teams, game_id, team_id, str(body["merge_into"])))


@endpoint
async def remove_team(request: Request):
    """Instructor, before the first round: take the team out of the game. 204."""
    state, game_id, team_id = _state(request), request.path_params["game"], request.path_params["team"]
    require_instructor(request, state.settings)
    await run_in_threadpool(state.store.remove_team, game_id, team_id)
    return Response(status_code=204)


@endpoint
async def hand_in(request: Request):
    """That team only: the body is the levers (checked like `Strategy`); 200 {round, strategy}."""
    state, game_id, team_id = _state(request), request.path_params["game"], request.path_params["team"]
    await run_in_threadpool(state.store.get_game, game_id)  # 404 before 401 for an unknown game
    await run_in_threadpool(require_team, request, state.store, game_id, team_id)
    based_on = _if_match(request)
    levers = await json_object(request)
    saved = await run_in_threadpool(state.store.submit, game_id, team_id, levers, based_on)
    return JSONResponse({"game": game_id, "team": team_id, **saved}, headers={"ETag": f'"{saved["version"]}"'})


def _if_match(request: Request) -> int | None:
    """The strategy version a hand-in was made from (`If-Match: "3"`, the ETag of GET .../teams/{team}); None: no check."""
    sent = request.headers.get("if-match")
    if sent is None:
        return None
    text = sent.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 12:
        raise StoreError("If-Match", sent[:40], 'the version from the ETag of GET /api/games/{game}/teams/{team}, as "3"')
    return int(text)


@endpoint
async def show_team(request: Request):
    """That team or the instructor: its strategy, results round by round and debrief."""
    state, game_id, team_id = _state(request), request.path_params["game"], request.path_params["team"]
    await run_in_threadpool(state.store.get_game, game_id)
    who = await run_in_threadpool(require_team, request, state.store, game_id, team_id, True, state.settings)
    upto = None if who == "instructor" else await run_in_threadpool(state.store.revealed, game_id)
    view = await run_in_threadpool(state.store.team_view, game_id, team_id, upto)
    return JSONResponse(view, headers={"ETag": f'"{view["strategy"]["version"]}"'})


# ---------------------------------------------------------------------------------------------- rounds and results
@endpoint
async def play_round(request: Request):
    """Instructor: claim the next round and play it in the worker; 202 {round, status}. Poll GET .../rounds."""
    state, game_id = _state(request), request.path_params["game"]
    require_instructor(request, state.settings)
    started = await run_in_threadpool(state.worker.start, game_id)
    return JSONResponse({"game": game_id, **started}, status_code=202)


@endpoint
async def reveal_round(request: Request):
    """Instructor: show the room the results up to a played round ({"round": N}; the last played when absent)."""
    state, game_id = _state(request), request.path_params["game"]
    require_instructor(request, state.settings)
    body = await json_object(request, ("round",), empty_is_object=True)
    game = await run_in_threadpool(state.store.get_game, game_id)
    number = body.get("round", game["rounds_played"])
    await run_in_threadpool(state.store.reveal, game_id, number)
    return JSONResponse({"game": game_id, "revealed": number})


@endpoint
async def round_status(request: Request):
    state = _state(request)
    return JSONResponse(await run_in_threadpool(state.store.round_status, request.path_params["game"]))


async def shown_round(request: Request, game_id: str) -> int | None:
    """The last round this request may see: every round played for the instructor (None), else the revealed one."""
    state = _state(request)
    if is_instructor(request, state.settings):
        return None
    return await run_in_threadpool(state.store.revealed, game_id)


@endpoint
async def leaderboard(request: Request):
    """Public: the standings after the revealed round (the instructor: after the last round played)."""
    state, game_id = _state(request), request.path_params["game"]
    upto = await shown_round(request, game_id)
    return JSONResponse(await run_in_threadpool(state.store.leaderboard, game_id, upto))


@endpoint
async def history(request: Request):
    """Public: market share and profit by team and month up to the revealed round (the instructor: all played)."""
    state, game_id = _state(request), request.path_params["game"]
    upto = await shown_round(request, game_id)
    return JSONResponse({"history": await run_in_threadpool(state.store.history, game_id, upto)})


# ---------------------------------------------------------------------------------------------- round control, grading
def _instructor_action(name: str, fields: tuple[str, ...], act, status: int = 200):
    """An instructor-only POST whose JSON body has `fields`; act(store, game_id, body) -> the answer's JSON."""

    @endpoint
    async def action(request: Request):
        state, game_id = _state(request), request.path_params["game"]
        require_instructor(request, state.settings)
        body = await json_object(request, fields, empty_is_object=True)
        answer = await run_in_threadpool(act, state.store, game_id, body)
        return JSONResponse({"game": game_id, **answer}, status_code=status)

    action.__name__ = name
    return action


def _required(body: dict, field: str, allowed: str):
    if field not in body:
        raise StoreError(field, None, allowed)
    return body[field]


set_deadline = _instructor_action("set_deadline", ("seconds",), lambda store, game, body: {
    "deadline_in": store.set_deadline(game, _required(body, "seconds", "seconds until hand-ins close, or null"))})
announce = _instructor_action("announce", ("text",), lambda store, game, body: {
    "announcement": store.announce(game, _required(body, "text", "one line for the room, or '' for none"))})
late_joins = _instructor_action("late_joins", ("allow",), lambda store, game, body: {
    "late_joins": store.allow_late_joins(game, _required(body, "allow", "true (a team may join after round 1, as a "
                                                                        "newcomer firm) or false"))})
end_game = _instructor_action("end_game", (), lambda store, game, body: store.end_early(game) or {"ended_early": True})
undo_round = _instructor_action("undo_round", (), lambda store, game, body: {"undone": store.undo_round(game)})
rematch = _instructor_action("rematch", (), lambda store, game, body: dict(
    zip(("rematch", "join_code"), store.rematch(game))), status=201)


def export_csv_text(rows: list[dict]) -> str:
    """The rows as CSV; a text cell that a spreadsheet would run as a formula (=, +, -, @) is kept as text."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v)
                             for k, v in row.items()})
    return buffer.getvalue()


@endpoint
async def export_csv(request: Request):
    """Instructor: one row per team and round played (levers, outcomes, score and its parts), as CSV for grading."""
    state, game_id = _state(request), request.path_params["game"]
    require_instructor(request, state.settings)
    rows = await run_in_threadpool(state.store.export_rows, game_id)
    return Response(export_csv_text(rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="loyalty-lab-{game_id}.csv"', "Cache-Control": "no-store"})


async def levers(request: Request):
    """The lever specification: name, label, default, range or choices, help (the notebook sliders use the same)."""
    return JSONResponse({"levers": [asdict(lever) for lever in LEVERS]})


routes = [
    Route("/api/games", create_game, methods=["POST"]),
    Route("/api/games/{game}", show_game, methods=["GET"]),
    Route("/api/games/{game}/teams", join_game, methods=["POST"]),
    Route("/api/games/{game}/teams/{team}/strategy", hand_in, methods=["PUT"]),
    Route("/api/games/{game}/teams/{team}", show_team, methods=["GET"]),
    Route("/api/games/{game}/teams/{team}", change_team, methods=["PATCH"]),
    Route("/api/games/{game}/teams/{team}", remove_team, methods=["DELETE"]),
    Route("/api/games/{game}/rounds", play_round, methods=["POST"]),
    Route("/api/games/{game}/rounds", round_status, methods=["GET"]),
    Route("/api/games/{game}/reveal", reveal_round, methods=["POST"]),
    Route("/api/games/{game}/deadline", set_deadline, methods=["POST"]),
    Route("/api/games/{game}/announcement", announce, methods=["POST"]),
    Route("/api/games/{game}/late-joins", late_joins, methods=["POST"]),
    Route("/api/games/{game}/end", end_game, methods=["POST"]),
    Route("/api/games/{game}/undo", undo_round, methods=["POST"]),
    Route("/api/games/{game}/rematch", rematch, methods=["POST"]),
    Route("/api/games/{game}/export.csv", export_csv, methods=["GET"]),
    Route("/api/games/{game}/leaderboard", leaderboard, methods=["GET"]),
    Route("/api/games/{game}/history", history, methods=["GET"]),
    Route("/api/levers", levers, methods=["GET"]),
]
