"""The JSON API (issue 11's paths; other tools rely on them exactly).

    POST /api/games                                 instructor   create a game            201 {game, join_code}
    GET  /api/games/{game}                          public       settings, state, teams (join code: instructor only)
    POST /api/games/{game}/teams                    anyone       join with the code       201 {team, token}
    PUT  /api/games/{game}/teams/{team}/strategy    that team    hand in levers           200
    GET  /api/games/{game}/teams/{team}             team, instr. strategy, results, debrief
    POST /api/games/{game}/rounds                   instructor   play the next round      202 (runs in a worker)
    GET  /api/games/{game}/rounds                   public       round status and progress
    GET  /api/games/{game}/leaderboard              public       standings after the last round
    GET  /api/games/{game}/history                  public       market share and profit by team and month
    GET  /api/levers                                public       the lever specification (the sliders' one)

Errors are `{"error": {"field", "value", "allowed", "message"}}`: 400 bad input, 401 no credentials, 403 wrong
credentials or another team's, 404 unknown game or team, 409 not now (game started or over, a round running),
413 a body over the limit, 429 too many joins from one address.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simulations.errors import LoyaltyLabError, UnknownField
from simulations.parameters import LEVERS

from .auth import AuthError, is_instructor, require_instructor, require_team
from .storage import StoreError

GAME_FIELDS = ("scenario", "rounds", "months_per_round", "n_customers", "seed")
JOIN_FIELDS = ("join_code", "name")


def error_response(status: int, field: str, value, allowed: str, message: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "value": value, "allowed": allowed,
                                   "message": message or f"{field}: {value!r} is not allowed; allowed: {allowed}"}},
                        status_code=status)


def _answer_error(err: Exception) -> JSONResponse:
    """StoreError and AuthError carry their status; a LoyaltyLabError (bad levers or settings) is a 400."""
    return JSONResponse({"error": err.as_dict()}, status_code=getattr(err, "status", 400))


def endpoint(handler):
    """Wrap a route: the refusals the store, the checks and the model raise become the API's JSON errors."""

    async def wrapped(request: Request):
        try:
            return await handler(request)
        except (StoreError, AuthError, LoyaltyLabError) as err:
            return _answer_error(err)

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


async def json_object(request: Request, fields: tuple[str, ...] | None = None) -> dict:
    """The request body as a JSON object; with `fields`, any other key is refused, naming it."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise StoreError("body", raw[:80].decode("utf-8", "replace"), "a JSON object") from None
    if not isinstance(body, dict):
        raise StoreError("body", body if isinstance(body, (str, int, float, bool)) or body is None else type(body).__name__,
                         "a JSON object")
    for key in body if fields else ():
        if key not in fields:
            raise UnknownField("request", key, fields, value=body[key])
    return body


class JoinLimiter:
    """At most `count` join attempts per client address in any `seconds` window (a sliding window in memory)."""

    def __init__(self, count: int, seconds: float):
        self.count, self.seconds = count, seconds
        self.seen: dict[str, deque] = defaultdict(deque)

    def allow(self, address: str) -> bool:
        now, times = time.monotonic(), self.seen[address]
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if len(times) >= self.count:
            return False
        times.append(now)
        return True


def _state(request: Request):
    return request.app.state


# ---------------------------------------------------------------------------------------------- games
@endpoint
async def create_game(request: Request):
    """Instructor: a new game; 201 {game, join_code, settings}."""
    state = _state(request)
    require_instructor(request, state.settings)
    body = await json_object(request, GAME_FIELDS)
    defaults = {"scenario": "telecom", "rounds": 4, "months_per_round": 6, "n_customers": 2000, "seed": 1}
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
    """Anyone with the join code: 201 {team, token}; a wrong code 403; too many tries from one address 429."""
    state, game_id = _state(request), request.path_params["game"]
    address = request.client.host if request.client else "unknown"
    if not state.join_limiter.allow(address):
        count, seconds = state.settings.join_rate_limit
        return error_response(429, "join", address, f"at most {count} join attempts per {seconds:g} s from one address")
    body = await json_object(request, JOIN_FIELDS)
    team_id, token = await run_in_threadpool(state.store.join, game_id, body.get("join_code"), body.get("name"))
    return JSONResponse({"team": team_id, "token": token, "name": body["name"].strip()}, status_code=201)


@endpoint
async def hand_in(request: Request):
    """That team only: the body is the levers (checked like `Strategy`); 200 {round, strategy}."""
    state, game_id, team_id = _state(request), request.path_params["game"], request.path_params["team"]
    await run_in_threadpool(state.store.get_game, game_id)  # 404 before 401 for an unknown game
    await run_in_threadpool(require_team, request, state.store, game_id, team_id)
    levers = await json_object(request)
    saved = await run_in_threadpool(state.store.submit, game_id, team_id, levers)
    return JSONResponse({"game": game_id, "team": team_id, **saved})


@endpoint
async def show_team(request: Request):
    """That team or the instructor: its strategy, results round by round and debrief."""
    state, game_id, team_id = _state(request), request.path_params["game"], request.path_params["team"]
    await run_in_threadpool(state.store.get_game, game_id)
    await run_in_threadpool(require_team, request, state.store, game_id, team_id, True, state.settings)
    return JSONResponse(await run_in_threadpool(state.store.team_view, game_id, team_id))


# ---------------------------------------------------------------------------------------------- rounds and results
@endpoint
async def play_round(request: Request):
    """Instructor: claim the next round and play it in the worker; 202 {round, status}. Poll GET .../rounds."""
    state, game_id = _state(request), request.path_params["game"]
    require_instructor(request, state.settings)
    started = await run_in_threadpool(state.worker.start, game_id)
    return JSONResponse({"game": game_id, **started}, status_code=202)


@endpoint
async def round_status(request: Request):
    state = _state(request)
    return JSONResponse(await run_in_threadpool(state.store.round_status, request.path_params["game"]))


@endpoint
async def leaderboard(request: Request):
    state = _state(request)
    return JSONResponse(await run_in_threadpool(state.store.leaderboard, request.path_params["game"]))


@endpoint
async def history(request: Request):
    state = _state(request)
    return JSONResponse({"history": await run_in_threadpool(state.store.history, request.path_params["game"])})


async def levers(request: Request):
    """The lever specification: name, label, default, range or choices, help (the notebook sliders use the same)."""
    return JSONResponse({"levers": [asdict(lever) for lever in LEVERS]})


routes = [
    Route("/api/games", create_game, methods=["POST"]),
    Route("/api/games/{game}", show_game, methods=["GET"]),
    Route("/api/games/{game}/teams", join_game, methods=["POST"]),
    Route("/api/games/{game}/teams/{team}/strategy", hand_in, methods=["PUT"]),
    Route("/api/games/{game}/teams/{team}", show_team, methods=["GET"]),
    Route("/api/games/{game}/rounds", play_round, methods=["POST"]),
    Route("/api/games/{game}/rounds", round_status, methods=["GET"]),
    Route("/api/games/{game}/leaderboard", leaderboard, methods=["GET"]),
    Route("/api/games/{game}/history", history, methods=["GET"]),
    Route("/api/levers", levers, methods=["GET"]),
]
