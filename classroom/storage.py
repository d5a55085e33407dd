"""The classroom's database: games, teams (hashed tokens), hand-ins and rounds, every change in one transaction.

A game is stored as its `Game.to_record()` JSON (settings, teams, each round's strategies: enough to replay it
exactly) next to what the pages read without replaying: each round's standings, debriefs and monthly history.
SQLite (the default) runs in WAL mode with `synchronous=FULL`, so a change is on disk before it is acknowledged,
and write transactions start with BEGIN IMMEDIATE, so two writers queue instead of failing half-way.
PostgreSQL (several app processes) gets the same guarantees from row locks (`SELECT ... FOR UPDATE`).

A round is played in three steps (see `classroom.rounds`): `claim_round` marks the game running (only one
claim can win), the worker plays it, and `save_round` writes the new record and the round's results together.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import asdict

from sqlalchemy import (Column, Float, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint,
                        create_engine, event, func, insert, inspect, select, update)
from sqlalchemy.exc import DBAPIError

from simulations.errors import InvalidParameter
from simulations.firms import MAX_FIRMS
from simulations.game import RECORD_VERSION, GameSettings
from simulations.scenarios import list_scenarios
from simulations.scoring import score_parts
from simulations.strategy import Strategy

from .names import BadName, normalized, skeleton

EXPORT_OUTCOMES = ("market_share", "active", "profit", "revenue", "retention_12m", "mean_satisfaction", "nps",
                   "won_from_rivals", "lost_to_rivals")
POOL = ""  # in saved customer flows: the pool of non-customers (a team name is never empty)
PARSED_ROUNDS_KEPT = 96  # rounds kept parsed in memory (a round of 40 teams is about 100 KB of JSON)
STALE_AFTER = 20.0  # seconds without a heartbeat after which a running round counts as interrupted
JOIN_CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on a projector

metadata = MetaData()
games = Table(
    "games", metadata,
    Column("id", String(16), primary_key=True),
    Column("join_code", String(16), nullable=False),
    Column("record", Text, nullable=False),            # Game.to_record() as JSON
    Column("rounds_played", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False, default="idle"),  # idle | running | interrupted | failed
    Column("claim", String(32)),                        # who is playing the running round
    Column("heartbeat", Float),                         # when that worker last said it was alive
    Column("progress", Text),                           # JSON: phase, months_done, months
    Column("error", Text),                              # why the last round failed
    Column("revealed", Integer, nullable=False, default=0),  # the last round the instructor showed the room
    Column("created", Float, nullable=False),
    Column("deadline", Float),                          # when hand-ins for the next round close (None: no deadline)
    Column("announcement", Text),                       # one line from the instructor to the room
    Column("ended", Integer),                           # 1: the instructor ended the game early
    Column("rematch", String(16)),                      # the game this one's roster went on to
    Column("late_joins", Integer),                      # 1: a new team may join after round 1 (as a newcomer firm)
)
teams = Table(
    "teams", metadata,
    Column("id", String(16), primary_key=True),
    Column("game_id", String(16), ForeignKey("games.id"), nullable=False, index=True),
    Column("name", String(40), nullable=False),
    Column("name_key", String(40), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("position", Integer, nullable=False),
    Column("joined", Float, nullable=False),
    Column("version", Integer),                         # hand-ins so far (None: none); a hand-in names the one it saw
    UniqueConstraint("game_id", "name_key"),
)
team_tokens = Table(  # a team's further devices (a rejoin with the PIN), and its devices from the game before a rematch
    "team_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("game_id", String(16), ForeignKey("games.id"), primary_key=True),
    Column("team_id", String(16), ForeignKey("teams.id"), nullable=False),
    Column("created", Float, nullable=False),
)
submissions = Table(
    "submissions", metadata,
    Column("game_id", String(16), ForeignKey("games.id"), primary_key=True),
    Column("team_id", String(16), ForeignKey("teams.id"), primary_key=True),
    Column("round", Integer, primary_key=True),         # the round this hand-in is for
    Column("levers", Text, nullable=False),
    Column("submitted", Float, nullable=False),
)
rounds = Table(
    "rounds", metadata,
    Column("game_id", String(16), ForeignKey("games.id"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("results", Text, nullable=False),            # JSON: strategies, notes, standings, debriefs, history
    Column("played", Float, nullable=False),
)


class StoreError(Exception):
    """A request the store refuses, naming the field, the value and what is allowed (the API's error body)."""

    status = 400

    def __init__(self, field: str, value, allowed: str):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field}: {value!r} is not allowed; allowed: {allowed}")

    def as_dict(self) -> dict:
        return {"field": self.field, "value": self.value, "allowed": self.allowed, "message": str(self)}


class NotFound(StoreError):
    status = 404


class WrongCode(StoreError):
    status = 403


class Conflict(StoreError):
    """The request is well formed but the game's state forbids it now (started, full, a round running)."""

    status = 409


class StaleHandIn(Conflict):
    """A hand-in based on a version of the team's strategy that a teammate has replaced since: 409 with theirs."""

    def __init__(self, based_on, current: dict):
        super().__init__("version", based_on, f"the version of the team's last hand-in, {current['version']} "
                                              "(a teammate handed in since this form was loaded)")
        self.current = current

    def as_dict(self) -> dict:
        return super().as_dict() | {"current": self.current}


def engine_for(url: str):
    """A SQLAlchemy engine; SQLite gets WAL, full sync, foreign keys and BEGIN IMMEDIATE for writes."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3, the driver requirements.txt pins
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60}, pool_size=10,
                           max_overflow=30)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event issues BEGIN itself
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=60000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get("write") else "BEGIN")

    return engine


def _now() -> float:
    return time.time()


def _dumps(value) -> str:
    return json.dumps(_plain(value), separators=(",", ":"))


def _plain(value):
    """JSON-safe copy: numpy scalars as Python numbers, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Store:
    """Every read and write of the classroom, each in its own transaction."""

    def __init__(self, database_url: str, pepper: str = ""):
        self.engine = engine_for(database_url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.writer = self.engine.execution_options(write=True)
        self.pepper = pepper.encode()
        self._settings_cache: dict[str, dict] = {}
        self._parsed_rounds: OrderedDict = OrderedDict()  # (game, round, saved at) -> its results, read-only
        self._cache_lock = threading.Lock()
        # SQLite has one writer at a time; queueing here is fairer and faster than SQLite's busy-wait back-off
        self._sqlite_writer = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        try:
            metadata.create_all(self.writer)
        except DBAPIError:  # another app process created the tables at the same moment: they exist now
            metadata.create_all(self.writer)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Columns added since a database was made (all nullable) are added to it, so an older classroom's data
        folder opens with this version."""
        present = inspect(self.engine)
        for table in metadata.sorted_tables:
            have = {column["name"] for column in present.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(self.engine.dialect)
                    with contextlib.suppress(DBAPIError), self._write() as db:  # another process may add it first
                        db.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')

    @contextlib.contextmanager
    def _write(self):
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._sqlite_writer, self.writer.begin() as db:
            yield db

    def close(self) -> None:
        self.engine.dispose()

    def hash_token(self, token: str) -> str:
        """HMAC-SHA256 of a token with the install's pepper: a stolen database holds no usable token."""
        return hmac.new(self.pepper, token.encode(), hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ games
    def create_game(self, scenario, rounds, months_per_round, n_customers, seed, late_joins=False) -> tuple[str, str]:
        """A new game on a built-in market; returns (game id, join code). Bad settings raise naming the field.
        `late_joins`: a team may join after round 1, entering the market as a newcomer firm (`allow_late_joins`)."""
        _check_late_joins(late_joins)
        known = {name.lower(): name for name in list_scenarios()}
        market = known.get(scenario.strip().lower()) if isinstance(scenario, str) else None
        if market is None:  # only built-in markets: a path would let a web user make the server read files
            raise InvalidParameter("game", "scenario", scenario, f"one of {', '.join(sorted(known.values()))}")
        settings = GameSettings(market, rounds, months_per_round, n_customers, seed)
        record = {"version": RECORD_VERSION, "settings": asdict(settings), "teams": [], "rounds": []}
        game_id, code = secrets.token_urlsafe(6), "".join(secrets.choice(JOIN_CODE_LETTERS) for _ in range(6))
        with self._write() as db:
            db.execute(insert(games).values(id=game_id, join_code=code, record=_dumps(record), rounds_played=0,
                                            status="idle", revealed=0, created=_now(),
                                            late_joins=1 if late_joins else None))
        return game_id, code

    def allow_late_joins(self, game_id: str, allow) -> bool:
        """Let new teams join after round 1 (True) or not (False). A late team enters the market at the next round
        as a newcomer firm with no customers (`simulations.game.Game.add_team`); teams already in stay."""
        _check_late_joins(allow)
        with self._write() as db:
            self._game_row(db, game_id, lock=True)
            db.execute(update(games).where(games.c.id == game_id).values(late_joins=1 if allow else None))
        return bool(allow)

    def get_game(self, game_id: str) -> dict:
        """The game's settings and state (without its join code's secrecy: callers decide who sees it)."""
        with self.engine.connect() as db:
            row = self._game_row(db, game_id)
        return self._game_dict(row)

    def game_by_join_code(self, code: str) -> str | None:
        """The newest game with this join code (the join page asks only for the code), or None."""
        if not isinstance(code, str):
            return None
        with self.engine.connect() as db:
            return db.execute(select(games.c.id).where(games.c.join_code == code.strip().upper())
                              .order_by(games.c.created.desc()).limit(1)).scalar()

    def _game_row(self, db, game_id, lock=False):
        query = select(games).where(games.c.id == str(game_id))
        row = db.execute(query.with_for_update() if lock and not self.is_sqlite else query).mappings().first()
        if row is None:
            raise NotFound("game", game_id, "the id of an existing game")
        return row

    def _game_dict(self, row) -> dict:
        settings = self._settings(row)
        return {"game": row["id"], "join_code": row["join_code"], "settings": settings,
                "rounds_played": row["rounds_played"], "revealed": row["revealed"], "status": self._status(row),
                "finished": self._finished(row), "ended_early": bool(row["ended"]),
                "announcement": row["announcement"] or "", "deadline_in": self._deadline_in(row),
                "rematch": row["rematch"], "late_joins": bool(row["late_joins"])}

    def _finished(self, row) -> bool:
        return bool(row["ended"]) or row["rounds_played"] >= self._settings(row)["rounds"]

    @staticmethod
    def _deadline_in(row) -> float | None:
        """Seconds until hand-ins close (0 once past; None without a deadline): a count, so clocks need not agree."""
        return None if row["deadline"] is None else max(0.0, round(row["deadline"] - _now(), 1))

    def _settings(self, row) -> dict:
        """A game's settings (they never change once it is made), parsed from its record once per app process."""
        settings = self._settings_cache.get(row["id"])
        if settings is None:
            settings = self._settings_cache[row["id"]] = json.loads(row["record"])["settings"]
        return settings

    def round_stamp(self, game_id: str, number: int) -> float:
        """When round `number` was saved (0 for round 0 or a round not played): caches key on it, so a round that
        is played again after an undo is never served from a stale cache."""
        if not number:
            return 0.0
        with self.engine.connect() as db:
            played = db.execute(select(rounds.c.played).where(rounds.c.game_id == game_id,
                                                              rounds.c.round == number)).scalar()
        return float(played or 0.0)

    def revealed(self, game_id: str) -> int:
        """The last round the instructor has shown the room (0: none yet)."""
        with self.engine.connect() as db:
            return int(self._game_row(db, game_id)["revealed"])

    def reveal(self, game_id: str, round_number: int) -> None:
        """Show the room the results up to `round_number` (a played round); kept with the game, so every app process
        and a restarted server agree on what the projector shows."""
        with self._write() as db:
            row = self._game_row(db, game_id, lock=True)
            if not isinstance(round_number, int) or not 0 <= round_number <= row["rounds_played"]:
                raise StoreError("round", round_number, f"a played round, 0 to {row['rounds_played']}")
            db.execute(update(games).where(games.c.id == game_id).values(revealed=round_number))

    # ------------------------------------------------------------------ round control (the instructor's)
    def set_deadline(self, game_id: str, seconds) -> float | None:
        """Close hand-ins for the next round `seconds` from now (None: no deadline); the round's start clears it."""
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not 0 < seconds <= 3 * 3600):
            raise StoreError("seconds", seconds, "a number of seconds from 1 to 10800, or null for no deadline")
        with self._write() as db:
            game = self._game_row(db, game_id, lock=True)
            if self._finished(game):
                raise Conflict("game", game_id, "a deadline while rounds remain to be played")
            db.execute(update(games).where(games.c.id == game_id)
                       .values(deadline=None if seconds is None else _now() + float(seconds)))
        return seconds

    def announce(self, game_id: str, text) -> str:
        """One line from the instructor to every team page and the projector ('' takes it down)."""
        if not isinstance(text, str) or len(text) > 200 or any(unicodedata.category(c)[0] == "C" for c in text):
            raise StoreError("text", text if isinstance(text, str) else str(text),
                             "one line of at most 200 characters (no control characters), or '' for none")
        with self._write() as db:
            self._game_row(db, game_id, lock=True)
            db.execute(update(games).where(games.c.id == game_id).values(announcement=text.strip() or None))
        return text.strip()

    def end_early(self, game_id: str) -> None:
        """End the game after the rounds played so far (no round running); the debriefs stand as they are."""
        with self._write() as db:
            game = self._game_row(db, game_id, lock=True)
            if self._status(game) == "running":
                raise Conflict("round", game["rounds_played"] + 1, "ending the game when no round is being played")
            if game["rounds_played"] == 0:
                raise Conflict("game", game_id, "ending a game after at least one round (or simply not playing it)")
            db.execute(update(games).where(games.c.id == game_id).values(ended=1, deadline=None))

    def undo_round(self, game_id: str) -> int:
        """Take back the last round played: its results go, the record drops it, and the game stands where it was
        before it (the hand-ins for it stay, so it can be played again, from the record, as it was or changed).
        Returns the round taken back."""
        with self._write() as db:
            game = self._game_row(db, game_id, lock=True)
            number = game["rounds_played"]
            if self._status(game) == "running":
                raise Conflict("round", number + 1, "undoing a round when no round is being played")
            if number == 0:
                raise Conflict("round", 0, "undoing a round that was played")
            record = json.loads(game["record"])
            record["rounds"] = [r for r in record["rounds"] if r["round"] < number]
            _rejoin_at(record, number)
            db.execute(rounds.delete().where(rounds.c.game_id == game_id, rounds.c.round == number))
            done = db.execute(update(games).where(games.c.id == game_id, games.c.rounds_played == number)
                              .values(record=_dumps(record), rounds_played=number - 1, ended=None,
                                      revealed=min(game["revealed"], number - 1), status="idle", error=None)).rowcount
            if done != 1:
                raise Conflict("round", number, "undoing the last round once")
        return number

    def rematch(self, game_id: str) -> tuple[str, str]:
        """A new game on the same settings (the next seed) with the same teams, names and devices; returns (game id,
        join code). The old game points to it, so its team pages lead there."""
        with self.engine.connect() as db:
            game = self._game_row(db, game_id)
            roster = db.execute(select(teams).where(teams.c.game_id == game_id).order_by(teams.c.position)
                                ).mappings().all()
            devices = db.execute(select(team_tokens.c.team_id, team_tokens.c.token_hash).where(
                team_tokens.c.game_id == game_id)).all()
        if game["rematch"]:
            raise Conflict("game", game_id, f"one rematch per game (it is {game['rematch']})")
        settings = self._settings(game)
        new_id, code = self.create_game(settings["market"], settings["rounds"], settings["months_per_round"],
                                        settings["n_customers"], (settings["seed"] + 1) % 2**31,
                                        bool(game["late_joins"]))
        with self._write() as db:
            if self._game_row(db, game_id, lock=True)["rematch"]:  # another click got there first
                raise Conflict("game", game_id, "one rematch per game")
            for team in roster:
                new_team = secrets.token_urlsafe(6)
                db.execute(insert(teams).values(id=new_team, game_id=new_id, name=team["name"],
                                                name_key=team["name_key"], position=team["position"], joined=_now(),
                                                token_hash=self.hash_token(secrets.token_urlsafe(24))))
                hashes = [team["token_hash"]] + [h for t, h in devices if t == team["id"]]
                for token_hash in hashes:
                    db.execute(insert(team_tokens).values(token_hash=token_hash, game_id=new_id, team_id=new_team,
                                                          created=_now()))
            db.execute(update(games).where(games.c.id == game_id).values(rematch=new_id))
        return new_id, code

    def _status(self, row) -> str:
        if row["status"] == "running" and (row["heartbeat"] or 0) < _now() - STALE_AFTER:
            return "interrupted"  # its worker died (a killed server): the round can be played again
        return row["status"]

    # ------------------------------------------------------------------ teams
    def join(self, game_id: str, join_code: str, name: str, pin=None) -> dict:
        """A team joins before the first round, or a team member joins an existing team with its PIN (any time,
        from any device). Returns {team, token, name, rejoined} (a new team also gets its `pin`); tokens are stored
        hashed, and each device gets its own.

        Refusals: a bad name 400; a wrong join code or PIN 403; a PIN for a name no team has 404; a name a team
        already has (as the skeleton compares them) without a PIN 409; a new team after the first round 409, unless
        the instructor allows late joins: then it plays from the next round (`first_round`) as a newcomer firm.
        """
        shown = _team_name(name)
        if not isinstance(join_code, str) or not join_code.strip():
            raise InvalidParameter("team", "join_code", join_code, "the join code shown by the instructor (text)")
        pin = _pin_text(pin)
        token = secrets.token_urlsafe(24)
        with self._write() as db:
            game = self._game_row(db, game_id, lock=True)
            if not hmac.compare_digest(join_code.strip().upper().encode(), game["join_code"].encode()):
                raise WrongCode("join_code", join_code, "the join code shown by the instructor")
            existing = db.execute(select(teams).where(teams.c.game_id == game_id,
                                                      teams.c.name_key == skeleton(shown))).mappings().first()
            if existing is not None and pin is None:
                raise Conflict("name", shown, "a name no other team of this game has; or this team's PIN, to join "
                                              "it from another device")
            if existing is not None:
                if not hmac.compare_digest(pin.encode(), self.team_pin(existing["id"]).encode()):
                    raise WrongCode("pin", pin, "the PIN shown on the team's page and on the instructor's console")
                db.execute(insert(team_tokens).values(token_hash=self.hash_token(token), game_id=game_id,
                                                      team_id=existing["id"], created=_now()))
                return {"team": existing["id"], "token": token, "name": existing["name"], "rejoined": True}
            if pin is not None:
                raise NotFound("name", shown, "the name of a team of this game, to join it with its PIN "
                                              "(no PIN to start a new team)")
            first_round = self._upcoming_round(game)
            if first_round > 1 and not game["late_joins"]:
                raise Conflict("game", game_id, "joining before the first round is played (the instructor can "
                                                "allow late joins)")
            if first_round > 1 and (game["ended"] or first_round > self._settings(game)["rounds"]):
                raise Conflict("game", game_id, "joining while rounds remain to be played")
            count = db.execute(select(func.count()).select_from(teams).where(teams.c.game_id == game_id)).scalar()
            if count >= MAX_FIRMS:
                raise Conflict("game", game_id, f"at most {MAX_FIRMS} teams in a game")
            last = db.execute(select(func.max(teams.c.position)).where(teams.c.game_id == game_id)).scalar()
            team_id = secrets.token_urlsafe(6)
            db.execute(insert(teams).values(id=team_id, game_id=game_id, name=shown, name_key=skeleton(shown),
                                            token_hash=self.hash_token(token), position=(-1 if last is None else last) + 1,
                                            joined=_now()))
        return {"team": team_id, "token": token, "name": shown, "rejoined": False, "pin": self.team_pin(team_id),
                "first_round": first_round}

    # the roster: the instructor's changes before the first round (after it, the market's firms are fixed)
    def _roster_change(self, db, game_id: str, team_id: str):
        game = self._game_row(db, game_id, lock=True)
        team = self._team_row(db, game_id, team_id)
        if game["rounds_played"] > 0 or game["status"] == "running":
            raise Conflict("game", game_id, "changing the teams before the first round is played "
                                            "(then every team runs a firm of the market)")
        return team

    def rename_team(self, game_id: str, team_id: str, name) -> dict:
        """Give a team another name (checked and compared as at join); 409 when another team looks the same."""
        shown = _team_name(name)
        with self._write() as db:
            self._roster_change(db, game_id, team_id)
            clash = db.execute(select(teams.c.id).where(teams.c.game_id == game_id, teams.c.id != team_id,
                                                        teams.c.name_key == skeleton(shown))).first()
            if clash:
                raise Conflict("name", shown, "a name no other team of this game has")
            db.execute(update(teams).where(teams.c.id == team_id).values(name=shown, name_key=skeleton(shown)))
        return {"team": team_id, "name": shown}

    def remove_team(self, game_id: str, team_id: str) -> None:
        """Take a team out of the game (a ghost team made by a second phone, say): its hand-ins and devices go too."""
        with self._write() as db:
            self._roster_change(db, game_id, team_id)
            self._delete_team(db, game_id, team_id)

    def merge_teams(self, game_id: str, team_id: str, into: str) -> dict:
        """Fold team `team_id` into team `into`: its devices act for `into` from now on; its hand-ins go."""
        if team_id == into:
            raise StoreError("into", into, "another team of this game")
        with self._write() as db:
            team = self._roster_change(db, game_id, team_id)
            self._team_row(db, game_id, into)
            moved = [team["token_hash"]] + list(db.execute(select(team_tokens.c.token_hash).where(
                team_tokens.c.team_id == team_id)).scalars())
            self._delete_team(db, game_id, team_id)
            for token_hash in moved:
                db.execute(insert(team_tokens).values(token_hash=token_hash, game_id=game_id, team_id=into,
                                                      created=_now()))
        return {"team": into, "devices_moved": len(moved)}

    def _delete_team(self, db, game_id: str, team_id: str) -> None:
        for table in (submissions, team_tokens):
            db.execute(table.delete().where(table.c.game_id == game_id, table.c.team_id == team_id))
        db.execute(teams.delete().where(teams.c.game_id == game_id, teams.c.id == team_id))

    def team_pin(self, team_id: str) -> str:
        """The team's 6-digit PIN: derived from its id with the install's secret, so the database stores none."""
        digest = hmac.new(self.pepper, f"pin:{team_id}".encode(), hashlib.sha256).hexdigest()
        return f"{int(digest, 16) % 10**6:06d}"

    def team_by_token(self, game_id: str, token: str) -> dict | None:
        """The team of `game_id` whose token this is (its first device's or a later one's), or None."""
        if not token:
            return None
        with self.engine.connect() as db:
            row = self._team_by_token(db, game_id, token)
        return {"team": row["id"], "name": row["name"]} if row else None

    def _team_by_token(self, db, game_id: str, token: str):
        hashed = self.hash_token(token)
        row = db.execute(select(teams).where(teams.c.token_hash == hashed,
                                             teams.c.game_id == str(game_id))).mappings().first()
        if row is None:
            row = db.execute(select(teams).join(team_tokens, team_tokens.c.team_id == teams.c.id).where(
                team_tokens.c.token_hash == hashed, team_tokens.c.game_id == str(game_id))).mappings().first()
        return row

    def list_teams(self, game_id: str) -> list[dict]:
        """The game's teams in joining order, each with whether it has handed in for the next round."""
        with self.engine.connect() as db:
            game = self._game_row(db, game_id)
            upcoming = self._upcoming_round(game)
            handed = set(db.execute(select(submissions.c.team_id).where(
                submissions.c.game_id == game_id, submissions.c.round == upcoming)).scalars())
            rows = db.execute(select(teams).where(teams.c.game_id == game_id).order_by(teams.c.position)).mappings()
            return [{"team": r["id"], "name": r["name"], "handed_in": r["id"] in handed} for r in rows]

    def _team_row(self, db, game_id, team_id):
        row = db.execute(select(teams).where(teams.c.id == str(team_id), teams.c.game_id == str(game_id))
                         ).mappings().first()
        if row is None:
            raise NotFound("team", team_id, "the id of a team of this game")
        return row

    # ------------------------------------------------------------------ strategies
    def _upcoming_round(self, game) -> int:
        """The round a hand-in made now counts for: the next one, or the one after a round being played."""
        running = self._status(game) == "running"
        return game["rounds_played"] + (2 if running else 1)

    def submit(self, game_id: str, team_id: str, levers: dict, based_on: int | None = None) -> dict:
        """Hand in a strategy (checked like any `Strategy`) for the upcoming round; a new hand-in replaces the last.

        `based_on` is the version of the team's strategy the hand-in was made from (the form's, or If-Match): when a
        teammate has handed in since, the hand-in is refused (StaleHandIn, 409, with theirs) instead of silently
        undoing theirs. None skips the check (tools that hand in for a team alone). Returns {round, strategy, version}.
        """
        strategy = Strategy.from_dict(levers, source="strategy").as_dict()
        if based_on is not None and (isinstance(based_on, bool) or not isinstance(based_on, int) or based_on < 0):
            raise StoreError("version", based_on, "the whole-number version of the strategy the form was loaded with")
        with self._write() as db:
            game = self._game_row(db, game_id, lock=True)
            team = self._team_row(db, game_id, team_id)
            upcoming = self._upcoming_round(game)
            if upcoming > self._settings(game)["rounds"] or game["ended"]:
                raise Conflict("game", game_id, "handing in while rounds remain to be played")
            if game["deadline"] is not None and _now() > game["deadline"] and self._status(game) != "running":
                raise Conflict("deadline", "passed", "handing in before the round's deadline (the instructor can "
                                                     "give more time)")
            version = team["version"] or 0
            if based_on is not None and based_on != version:
                raise StaleHandIn(based_on, self._strategy_in(db, game_id, team))
            key = (submissions.c.game_id == game_id, submissions.c.team_id == team_id, submissions.c.round == upcoming)
            values = {"levers": _dumps(strategy), "submitted": _now()}
            if db.execute(update(submissions).where(*key).values(**values)).rowcount == 0:
                db.execute(insert(submissions).values(game_id=game_id, team_id=team_id, round=upcoming, **values))
            db.execute(update(teams).where(teams.c.id == team_id).values(version=version + 1))
        return {"round": upcoming, "strategy": strategy, "version": version + 1}

    def latest_strategy(self, game_id: str, team_id: str) -> dict:
        """The team's latest hand-in, else the strategy it last played, else the balanced default; with its version
        (what a hand-in made from it names) and when it was handed in."""
        with self.engine.connect() as db:
            return self._strategy_in(db, game_id, self._team_row(db, game_id, team_id))

    def _strategy_in(self, db, game_id: str, team) -> dict:
        version = team["version"] or 0
        row = db.execute(select(submissions.c.levers, submissions.c.round, submissions.c.submitted).where(
            submissions.c.game_id == game_id, submissions.c.team_id == team["id"]
        ).order_by(submissions.c.round.desc()).limit(1)).first()
        if row:
            return {"levers": json.loads(row.levers), "source": "handed in", "round": row.round, "version": version,
                    "submitted": row.submitted}
        played = self._results(db, game_id)
        if played and team["name"] in played[-1]["strategies"]:  # (a team that joined late may not have played yet)
            return {"levers": played[-1]["strategies"][team["name"]], "source": "played", "round": None,
                    "version": version, "submitted": None}
        return {"levers": Strategy().as_dict(), "source": "default", "round": None, "version": version,
                "submitted": None}

    # ------------------------------------------------------------------ rounds
    def claim_round(self, game_id: str) -> dict:
        """Mark the next round as being played and return what the worker needs; only one claim can win.

        Returns {claim, round, record, submissions (team name -> levers)}. Raises Conflict when a round is
        running, the game is over or no team has joined.
        """
        claim = secrets.token_hex(8)
        with self._write() as db:
            game = self._game_row(db, game_id, lock=True)
            record = json.loads(game["record"])
            if self._status(game) == "running":
                raise Conflict("round", game["rounds_played"] + 1, "one round at a time: wait for the running one")
            if game["rounds_played"] >= record["settings"]["rounds"] or game["ended"]:
                raise Conflict("round", game["rounds_played"] + 1, f"at most {record['settings']['rounds']} rounds "
                                                                   "(or fewer: the instructor ended the game)")
            names = {r.id: r.name for r in db.execute(select(teams.c.id, teams.c.name).where(
                teams.c.game_id == game_id).order_by(teams.c.position))}
            if not names:
                raise Conflict("teams", 0, "at least one team joined before the first round")
            number = game["rounds_played"] + 1
            if number == 1:
                record["teams"] = list(names.values())  # teams are fixed at the first round, in joining order
                record.pop("joined", None)
            else:  # a team that joined since (late joins allowed) enters the market now, as a newcomer firm
                late = [name for name in names.values() if name not in record["teams"]]
                record["teams"] += late
                record.setdefault("joined", {}).update({name: number for name in late})
            handed = {names[r.team_id]: json.loads(r.levers) for r in db.execute(select(
                submissions.c.team_id, submissions.c.levers).where(submissions.c.game_id == game_id,
                                                                   submissions.c.round == number))}
            # the guard in WHERE makes the claim atomic even without a lock: a second claimer updates no row
            won = db.execute(update(games).where(games.c.id == game_id, games.c.rounds_played == game["rounds_played"],
                                                 _same_claim(game["claim"]))
                             .values(status="running", claim=claim, heartbeat=_now(), error=None, deadline=None,
                                     record=_dumps(record), progress=_dumps({"phase": "starting"}))).rowcount
            if won != 1:
                raise Conflict("round", number, "one round at a time: wait for the running one")
        return {"claim": claim, "round": number, "record": record, "submissions": handed}

    def report_progress(self, game_id: str, claim: str, progress: dict) -> bool:
        """The worker's heartbeat with its progress; False when the claim is no longer this worker's."""
        with self._write() as db:
            return db.execute(update(games).where(games.c.id == game_id, games.c.claim == claim,
                                                  games.c.status == "running")
                              .values(heartbeat=_now(), progress=_dumps(progress))).rowcount == 1

    def save_round(self, game_id: str, claim: str, record: dict, results: dict) -> None:
        """The new record and the round's results, in ONE transaction: a round is stored whole or not at all."""
        number = len(record["rounds"])
        with self._write() as db:
            saved = db.execute(update(games).where(games.c.id == game_id, games.c.claim == claim,
                                                   games.c.rounds_played == number - 1)
                               .values(record=_dumps(record), rounds_played=number, status="idle", claim=None,
                                       progress=None, error=None)).rowcount
            if saved != 1:
                raise Conflict("round", number, "a round claimed by this worker (another one took over)")
            db.execute(insert(rounds).values(game_id=game_id, round=number, results=_dumps(results), played=_now()))

    def fail_round(self, game_id: str, claim: str, message: str) -> None:
        with self._write() as db:
            db.execute(update(games).where(games.c.id == game_id, games.c.claim == claim)
                       .values(status="failed", claim=None, progress=None, error=message[:2000]))

    def recover_interrupted(self) -> int:
        """At start on SQLite (one server per data folder): rounds left running by a killed server can be replayed."""
        with self._write() as db:
            return db.execute(update(games).where(games.c.status == "running")
                              .values(status="interrupted", claim=None, progress=None)).rowcount

    def round_status(self, game_id: str) -> dict:
        """idle | running (with progress) | interrupted | failed (with the reason), and the rounds played."""
        with self.engine.connect() as db:
            game = self._game_row(db, game_id)
        return self._round_status(game)

    def _round_status(self, game) -> dict:
        status = self._status(game)
        answer = {"status": status, "rounds_played": game["rounds_played"],
                  "rounds": self._settings(game)["rounds"], "revealed": game["revealed"]}
        if game["ended"]:
            answer["ended_early"] = True
        if game["deadline"] is not None:
            answer["deadline_in"] = self._deadline_in(game)
        if game["announcement"]:
            answer["announcement"] = game["announcement"]
        if game["rematch"]:
            answer["rematch"] = game["rematch"]
        if status == "running":
            answer.update(round=game["rounds_played"] + 1, progress=json.loads(game["progress"] or "{}"))
        elif status == "failed":
            answer["error"] = game["error"]
        elif status == "interrupted":
            answer["error"] = f"round {game['rounds_played'] + 1} was interrupted (the server stopped); play it again"
        return answer

    # ------------------------------------------------------------------ results
    def _results(self, db, game_id, upto: int | None = None) -> list[dict]:
        """The saved results of each round, in order, up to round `upto` (all when None).

        A saved round never changes (an undone round is deleted, and its replay saved at a new time), so each is
        parsed once per app process and kept by (game, round, time saved): 200 phones reloading parse nothing.
        """
        query = select(rounds.c.round, rounds.c.played).where(rounds.c.game_id == game_id)
        if upto is not None:
            query = query.where(rounds.c.round <= upto)
        found = []
        for number, played in db.execute(query.order_by(rounds.c.round)).all():
            key = (game_id, number, played)
            with self._cache_lock:
                result = self._parsed_rounds.get(key)
            if result is None:
                text = db.execute(select(rounds.c.results).where(rounds.c.game_id == game_id,
                                                                 rounds.c.round == number)).scalar()
                result = json.loads(text) | {"round": number}
                with self._cache_lock:
                    self._parsed_rounds[key] = result
                    while len(self._parsed_rounds) > PARSED_ROUNDS_KEPT:
                        self._parsed_rounds.popitem(last=False)
            found.append(result)
        return found

    def leaderboard(self, game_id: str, upto: int | None = None) -> dict:
        """The standings after round `upto` (the last played when None; empty before the first round).

        The API and the pages pass the revealed round for anyone but the instructor: nothing leaks before the reveal.
        """
        with self.engine.connect() as db:
            game = self._game_dict(self._game_row(db, game_id))
            shown = game["rounds_played"] if upto is None else max(0, min(upto, game["rounds_played"]))
            results = self._results(db, game_id, shown) if shown else []
        standings = results[-1]["standings"] if results else []
        return {"game": game_id, "round": shown, "rounds_played": game["rounds_played"],
                "rounds": game["settings"]["rounds"], "market": game["settings"]["market"], "standings": standings}

    def biggest_switches(self, game_id: str, number: int, count: int = 3) -> list[dict]:
        """The `count` largest flows of customers from one team to a rival in round `number` ({from, to, customers},
        largest first): what the projector says about who took whose customers. Empty before the round or for a
        round saved before flows were recorded."""
        if not number:
            return []
        with self.engine.connect() as db:
            results = self._results(db, game_id, number)
        flows = results[-1].get("flows") if results and results[-1]["round"] == number else None
        moves = [{"from": rival, "to": team, "customers": n} for team, flow in (flows or {}).items()
                 for rival, n in flow["won_from"].items() if rival != POOL and n > 0]
        return sorted(moves, key=lambda m: (-m["customers"], m["from"], m["to"]))[:count]

    def history(self, game_id: str, upto: int | None = None) -> list[dict]:
        """One row per team and month (month 0 included) up to round `upto` (all played when None): round, active,
        market share, profit, cumulative profit."""
        with self.engine.connect() as db:
            self._game_row(db, game_id)
            return [row for result in self._results(db, game_id, upto) for row in result["history"]]

    def export_rows(self, game_id: str) -> list[dict]:
        """One row per team and round played, for grading: the levers played, the outcomes, the score and its parts
        (each outcome's weighted points, `simulations.scoring.score_parts`, summing to the score), and the note."""
        import pandas as pd

        with self.engine.connect() as db:
            game = self._game_row(db, game_id)
            results = self._results(db, game_id)
        settings = self._settings(game)
        everyone = [s["team"] for s in results[-1]["standings"]] if results else []
        first_round = {team: next(r["round"] for r in results if team in r["strategies"]) for team in everyone}
        rows = []
        for result in results:
            table = pd.DataFrame(result["standings"])
            parts = score_parts(table, settings.get("score", "rank"))
            flows = result.get("flows") or {}
            for index, standing in enumerate(result["standings"]):
                team = standing["team"]
                row = {"game": game_id, "round": result["round"], "team": team, "rank": standing["rank"],
                       "score": standing["score"]}
                row |= {f"points_{outcome}": float(part.iloc[index]) for outcome, part in parts.items()}
                row |= {column: standing[column] for column in EXPORT_OUTCOMES}
                row |= {f"lever_{name}": value for name, value in result["strategies"][team].items()}
                row["note"] = result["notes"].get(team) or ""
                row |= {"played": 1, "first_round": first_round[team]}
                row |= _flow_columns(flows.get(team), everyone, team) if flows else {}
                rows.append(row)
            for team in everyone:  # a team that joined late: its earlier rounds are not played, not zero
                if team not in result["strategies"]:
                    rows.append({"game": game_id, "round": result["round"], "team": team,
                                 "note": f"not played: joined the game in round {first_round[team]}",
                                 "played": 0, "first_round": first_round[team]})
        # every row has every column, in the order of the rows that have most (the last round's)
        columns = list(dict.fromkeys(key for row in sorted(rows, key=len, reverse=True) for key in row))
        return [{column: row.get(column) for column in columns} for row in rows]

    def team_view(self, game_id: str, team_id: str, upto: int | None = None) -> dict:
        """What a team may see: its strategy, its results round by round up to round `upto` (all played when None)
        and its debriefs (no other team's)."""
        with self.engine.connect() as db:
            game = self._game_row(db, game_id)
            return self._team_view(db, game, self._team_row(db, game_id, team_id), upto)

    def team_page(self, game_id: str, token: str) -> dict | None:
        """Everything a team's page shows, read on one connection (200 phones reload at once after a reveal): the
        game, its round status and the team's view up to the revealed round; None when `token` is no team's."""
        with self.engine.connect() as db:
            game = self._game_row(db, game_id)
            team = self._team_by_token(db, game_id, token) if token else None
            if team is None:
                return None
            return {"game": self._game_dict(game), "rounds": self._round_status(game),
                    "view": self._team_view(db, game, team, game["revealed"])}

    def _first_round(self, db, game, name: str) -> int:
        """The first round team `name` plays: the first it played, else the one the record has it join at, else 1
        for a team of the first round, else the upcoming round (a team that joined late and has not played yet)."""
        played = next((r["round"] for r in self._results(db, game["id"]) if name in r["strategies"]), None)
        if played is not None:
            return played
        record = json.loads(game["record"])
        if name in record.get("joined", {}):
            return record["joined"][name]
        return 1 if name in record["teams"] or self._upcoming_round(game) == 1 else self._upcoming_round(game)

    def _team_view(self, db, game, team, upto: int | None) -> dict:
        game_id, team_id, name = game["id"], team["id"], team["name"]
        strategy = self._strategy_in(db, game_id, team)
        results = self._results(db, game_id, upto)
        handed_in = db.execute(select(submissions.c.round).where(
            submissions.c.game_id == game_id, submissions.c.team_id == team_id,
            submissions.c.round == self._upcoming_round(game))).first() is not None
        mine = [{"round": r["round"], "strategy": r["strategies"][name], "note": r["notes"].get(name),
                 "standing": next(s for s in r["standings"] if s["team"] == name), "debrief": r["debriefs"][name],
                 "score_parts": r.get("score_parts", {}).get(name), "churn": r.get("churn", {}).get(name),
                 "flows": r.get("flows", {}).get(name)}
                for r in results if name in r["strategies"]]
        not_played = [r["round"] for r in results if name not in r["strategies"]]  # before it joined (late joins)
        first_round = mine[0]["round"] if mine else self._first_round(db, game, name)
        return {"game": game_id, "team": team_id, "name": name, "rounds_played": game["rounds_played"],
                "revealed": game["revealed"], "not_played": not_played, "first_round": first_round,
                "strategy": strategy, "handed_in": handed_in, "results": mine,
                "debrief": mine[-1]["debrief"] if mine else None}


def _flow_columns(flow: dict | None, everyone: list, team: str) -> dict:
    """A team's customers won from and lost to each rival and the pool in a round, as export columns (a round
    saved before flows were recorded has none; a rival not yet in the market, 0)."""
    if flow is None:
        return {}
    won, lost = flow["won_from"], flow["lost_to"]
    row = {"won_from_pool": won.get(POOL, 0), "lost_to_pool": lost.get(POOL, 0)}
    for rival in everyone:
        if rival != team:
            row[f"won_from[{rival}]"], row[f"lost_to[{rival}]"] = won.get(rival, 0), lost.get(rival, 0)
    return row


def _check_late_joins(allow) -> None:
    if not isinstance(allow, bool):
        raise StoreError("late_joins", allow, "true (a team may join after round 1, as a newcomer firm) or false")


def _rejoin_at(record: dict, number: int) -> None:
    """Round `number` is taken back: a team that joined late at it or after now joins at it (round 1: it is one of
    the teams from the start)."""
    joined = record.get("joined") or {}
    for team, first in list(joined.items()):
        if number == 1:
            del joined[team]
        else:
            joined[team] = min(first, number)
    if not joined:
        record.pop("joined", None)


def _same_claim(claim):
    return games.c.claim.is_(None) if claim is None else games.c.claim == claim


def _team_name(name) -> str:
    """A team name as shown (classroom.names): normalized, without invisible characters or look-alike mixes."""
    try:
        return normalized(name)
    except BadName as err:
        raise InvalidParameter("team", "name", name, str(err)) from None


def _pin_text(pin) -> str | None:
    """A PIN as its six digits (typed with spaces, or sent as a number); None when none was given."""
    if pin is None or (isinstance(pin, str) and not pin.strip()):
        return None
    text = f"{pin:06d}" if isinstance(pin, int) and not isinstance(pin, bool) and 0 <= pin < 10**6 else pin
    text = re.sub(r"\s", "", text) if isinstance(text, str) else None
    if not text or not re.fullmatch(r"\d{6}", text):
        raise InvalidParameter("team", "pin", pin, "the team's PIN: six digits")
    return text
