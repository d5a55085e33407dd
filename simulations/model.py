"""`LoyaltyMarket`: a customer base under one firm's strategy, or several rival firms', month by month (a Mesa 3 model).

Three homes: the people and their state (`population.py`), the firms with their offers and books
(`firms.py`), and here the phases of a month.

A month, in order (see `step`):
  1. every active customer lives the month (`live_month`): experience, complaints and recovery,
     satisfaction and expectations, bonds, cross-selling, money, ladder moves, and the competing
     risks of leaving, some of which take the customer to a rival (`_leave`);
  2. word of mouth: advocates refer neighbours to their firm, very unhappy customers warn theirs off;
  3. acquisition: each firm's campaign turns suspects into its prospects, targeting disqualifies poor
     fits, prospects buy (`_acquire`);
  4. people move on: the lost and disqualified become suspects again after a year; newcomers take
     the seats of those who died or moved away;
  5. tiers are reviewed from profitability every `tier_review_months`;
  6. the data collector records the month.

With one firm (`strategy=`), rivals are the abstract rest of the market: their offer is worth
`competitor_standard`, and a customer who leaves for one is simply lost. With several (`firms=`),
each rival is real: a customer weighs a particular rival's offer and, if they switch, becomes that
rival's customer.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from . import rules
from .agents import Customer
from .blocks import each_block, in_parallel
from .errors import InvalidParameter
from .firms import Firms, Ledger
from .metrics import customer_table, month_record
from .population import (NO_FIRM, People, Selection, draw_newcomers, in_seat_order, keep_freed_memory_for_reuse,
                         small_world_network, without_huge_pages)
from .scenarios import load_scenario

COOLOFF_MONTHS = 12  # how long the lost and the disqualified stay out of reach before they are suspects again
DEATH, MOVED = rules.CHURN_CAUSES.index("death"), rules.CHURN_CAUSES.index("moved")  # causes that free a seat for a newcomer
ENGINES = ("fast", "numpy", "agents")
SINGLE_FIRM = "firm"  # the name of the firm when a market is built with `strategy=`
SETUP_SLICE = 1 << 16  # customers weighed at a time when a market is set up

# The ways out, as competing risks: (cause recorded, whether the customer goes to a rival's offer).
# A customer who searched because they were unhappy goes to the rival they found, but names what made
# them unhappy (rules.reasons_for_searching).
EXITS = (("death", False), ("moved", False), ("other_relationships", False), ("competitor", True), ("product", True),
         ("indifference", True), ("product", False), ("indifference", False))
EXIT_CAUSE = np.array([rules.CHURN_CAUSES.index(cause) for cause, _ in EXITS])
EXIT_TO_RIVAL = np.array([to_rival for _, to_rival in EXITS])
VOLUNTARY_EXITS = slice(3, None)
# The random numbers of a customer's month, as the rows of a pre-drawn table (`live_month(draws=)`): "luck" is a
# standard normal draw, the rest uniforms. The fast engine's kernel reads the same rows.
DRAWS = ("luck", "complaint", "recovery", "cross_sell", "repeat", "leave", "cause", "rival")


class LoyaltyMarket(mesa.Model):
    """A market of customers who judge a firm's service, bond with it, talk about it and leave it.

    Args:
        scenario: a market name from `list_scenarios()`, a YAML path, or a dict of settings.
        strategy: the one firm's strategy: a `Strategy`, a preset name ('balanced', 'neglect', 'tiered',
            'bonding'), a dict of levers, or None (balanced).
        n_customers: customers at the start (shared equally among the firms); the market also holds
            `pool_ratio` suspects per customer.
        seed: seed for the model's random generators; the same seed gives the same run.
        engine: 'fast' (default) lives every customer's month in one compiled pass (`kernel.py`), composed of
            the same rules; 'numpy' applies each rule to every customer at once, rule after rule (the
            readable reference, `live_month`); 'agents' lets each Customer agent live its month in turn
            (slowest, same rules, for reading and teaching). All three draw from the model's seeded generator,
            but not the same numbers: runs agree in distribution, not number for number.
        firms: instead of `strategy`, rival firms in one market: {name: strategy, ...}, 1 to 12 of them.
        **scenario_overrides: any scenario setting by name, e.g. `competitive_intensity=0.1`.
    """

    def __init__(self, scenario="telecom", strategy=None, n_customers=2000, seed=None, engine="fast", firms=None,
                 **scenario_overrides):
        super().__init__(seed=seed)
        self.scenario = load_scenario(scenario, **scenario_overrides)
        if firms is not None and strategy is not None:
            raise InvalidParameter("model", "firms", "given with strategy", "either strategy= (one firm) or firms=")
        if firms is not None and not isinstance(firms, dict):
            raise InvalidParameter("model", "firms", type(firms).__name__, "a dict of firm name: strategy")
        self.rivals_are_real = firms is not None
        self.firm_book = Firms(firms if firms is not None else {SINGLE_FIRM: strategy})
        if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or not 10 <= n_customers <= 1_000_000:
            raise InvalidParameter("model", "n_customers", n_customers, "a whole number from 10 to 1000000")
        if engine not in ENGINES:
            raise InvalidParameter("model", "engine", engine, f"one of {', '.join(ENGINES)}")
        self.n_customers, self.engine, self.month = int(n_customers), engine, 0

        n_people = self.n_customers + int(round(self.scenario["pool_ratio"] * self.n_customers))
        keep_freed_memory_for_reuse()
        self._customers = None
        with without_huge_pages():  # set-up touches most of the market's memory for the first time
            self._set_up(n_people)
        if engine == "agents":
            self.customers  # the agents engine steps them, so they exist from the start
        self.ledger.begin_month(np.zeros(len(self.firm_book)), self.active_by_firm())  # month 0: no money has moved yet
        self._record = month_record(self)
        self.datacollector = mesa.DataCollector(model_reporters={key: _reporter(key) for key in self._record})
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ the firms
    @property
    def firms(self) -> tuple[str, ...]:
        """The firms' names, in the order given (('firm',) for a one-firm market)."""
        return self.firm_book.names

    @property
    def strategy(self):
        """The strategy of the first firm (the only one in a one-firm market)."""
        return self.firm_book.strategies[0]

    def set_strategy(self, firm: str, strategy) -> None:
        """Change `firm`'s strategy from the next month on (a Strategy, preset name or dict of levers)."""
        self.firm_book.set_strategy(firm, strategy)

    def add_firm(self, firm: str, strategy=None) -> None:
        """A new rival enters the market from the next month on, with no customers: a newcomer that must win them
        from the pool of non-customers (its campaigns) and from the firms already there (its offer reaches their
        customers through its advertising, as any rival's does; see `rival_table`).

        Only a market of real rivals (`firms=`) can grow. Nothing is drawn here, so a market no firm enters runs
        exactly as before. The firm's monthly columns (`active[firm]`, ...) are NaN for the months before it
        entered: it was not there, which is not the same as having nobody.
        """
        if not self.rivals_are_real:
            raise InvalidParameter("model", "firm", firm, "a firm added to a market of rivals (built with firms=)")
        self.firm_book.add(firm, strategy)
        self.ledger.add_firm(self.month)
        before = len(self.datacollector.model_vars["month"])
        self._record = month_record(self)
        for key in self._record:
            if key not in self.datacollector.model_reporters:
                self.datacollector._new_model_reporter(key, _reporter(key))
                self.datacollector.model_vars[key] = [float("nan")] * before

    def entered(self, firm: str) -> int:
        """The month `firm` entered the market (0: it was there from the start)."""
        return int(self.ledger.entered[self.firm_book.index(firm)])

    def switching_table(self) -> pd.DataFrame:
        """Where each firm's customers came from and went, so far: one row per firm (`from`) and rival (`to`) with
        the customers who left the one for the other, plus rows with `from` or `to` None for the pool of
        non-customers (`to` None: customers who left the market, for good or for a while; `from` None: customers
        the firm won from the pool). Counts are cumulative; a round's are the difference of two tables."""
        ledger, names = self.ledger, self.firms
        rows = [{"from": names[a], "to": names[b], "customers": int(ledger.switched[a, b])}
                for a in range(len(names)) for b in range(len(names)) if a != b]
        rows += [{"from": None, "to": name, "customers": int(ledger.recruited[i])} for i, name in enumerate(names)]
        rows += [{"from": name, "to": None, "customers": int(ledger.churned[i].sum() - ledger.lost[i])}
                 for i, name in enumerate(names)]
        return pd.DataFrame(rows, columns=["from", "to", "customers"])

    def active_by_firm(self) -> np.ndarray:
        """Each firm's number of customers now."""
        if self.engine == "fast":
            return _kernel().count_by_firm(self.people.stage, self.people.firm, len(self.firm_book))
        p, active = self.people, self.active_mask()
        if len(self.firm_book) == 1:
            return np.array([np.count_nonzero(active)], dtype=np.int64)
        return np.bincount(p.firm[active], minlength=len(self.firm_book)).astype(np.int64)

    def firm_table(self) -> pd.DataFrame:
        """One row per firm: customers, market share, money (cumulative), retention, satisfaction, NPS, customers won and lost."""
        p, ledger = self.people, self.ledger
        active = self.active_mask()
        counts = self.active_by_firm()
        rows = []
        for i, name in enumerate(self.firms):
            mine = active & (p.firm == i)
            rows.append({
                "firm": name, "active": int(counts[i]), "market_share": counts[i] / max(counts.sum(), 1),
                "profit": float(ledger.profit[i]), "revenue": float(ledger.revenue[i]),
                "retention_12m": float(ledger.retention_12m()[i]),
                "mean_satisfaction": float(p.satisfaction[mine].mean()) if mine.any() else float("nan"),
                "nps": rules.net_promoter_score(rules.recommend_score(p.satisfaction[mine])),
                "won_from_rivals": int(ledger.won[i]), "lost_to_rivals": int(ledger.lost[i]),
            })
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ set-up
    def _set_up(self, n_people: int):
        """The market at month 0: people and their network, the starting customers, their tiers and ties."""
        self.people = People.empty(n_people)
        self.neighbours = small_world_network(self.rng, n_people, self.scenario["network_degree"],
                                              self.scenario["network_rewiring"])
        self._draw_everyone()
        self._make_initial_customers(self.n_customers)
        self.ledger = Ledger(len(self.firm_book), self.active_by_firm())
        # customer by customer, so a large base is weighed a slice at a time: the same numbers, without holding a
        # dozen temporary arrays of a million customers each (memory touched for the first time is slow to get)
        starting = np.array_split(np.flatnonzero(self.active_mask()), -(-self.n_customers // SETUP_SLICE))
        for seats in starting:
            self._account(seats)  # a first month's profit places customers in tiers (the money is not booked)
        self._review_tiers()
        # so that month 0 already says who is loyal; each slice writes only its own seats, so slices share the cores
        in_parallel(lambda k: self._weigh_risks(starting[k]), len(starting))

    def _weigh_risks(self, seats: np.ndarray):
        """The switching costs and this month's hazards of the customers in `seats`."""
        self._update_switching(seats)
        self.churn_hazards(seats)

    def _draw_everyone(self):
        """Every seat's person, drawn block by block (`blocks.py`): a market of one block in one draw of each trait."""
        each_block(len(self.people.stage), lambda block, rng: draw_newcomers(self.people, block, self.scenario, rng),
                   self.rng)

    def _start_as_customers(self, seats: np.ndarray, firm, weigh_risks: bool = True):
        """People in `seats` buy from `firm` (an index or an array of them) for the first time: a fresh relationship.

        `weigh_risks=False` skips their switching costs and hazards, for callers that set them afterwards.
        """
        p = self.people
        p.firm[seats] = firm
        p.stage[seats], p.tier[seats], p.tenure[seats], p.stage_months[seats] = rules.FIRST_TIME, rules.IRON, 0, 0
        p.satisfaction[seats], p.neglect[seats], p.products[seats], p.points[seats] = 0.7, 0.3, 1, 0.0
        p.social[seats] = p.customization[seats] = p.structural[seats] = 0.0
        p.share_of_wallet[seats] = 0.5
        p.incarnation[seats] += 1
        if weigh_risks:
            self._weigh_risks(seats)  # a new customer's loyalty is their own, not the seat's last occupant's

    def _make_initial_customers(self, n: int):
        """The starting base: `n` people with some history (tenure, products, rung), shared equally among the firms."""
        p, sc = self.people, self.scenario
        chosen = self.rng.permutation(len(p.stage))[:n]  # the seat of each starting customer, in the order of their draws
        firm = self.rng.permutation(np.arange(n) % len(self.firm_book))
        seats, order = in_seat_order(chosen, len(p.stage))  # writing in seat order is sequential, so fast
        # switching costs and hazards are weighed once the base is complete (see _set_up)
        self._start_as_customers(seats, firm[order], weigh_risks=False)
        tenure, proneness, satisfaction, products = (drawn[order] for drawn in self._draw_histories(n))
        satisfied = satisfaction >= 0.6
        stage = np.select([tenure < 2, (tenure < 12) | ~satisfied], [rules.FIRST_TIME, rules.REPEAT], rules.CLIENT)
        stage = np.where((stage == rules.CLIENT) & (satisfaction >= 0.85), rules.ADVOCATE, stage)
        c = Selection(p, seats)
        wallet = rules.share_of_wallet_target(satisfaction, 0.0, c.price_sensitivity, self.firm_book.of("price_index", c.firm),
                                              sc["wallet_floor"])
        c.set(tenure=tenure, proneness=proneness, satisfaction=satisfaction, products=products, stage=stage,
              share_of_wallet=wallet)

    def _draw_histories(self, n: int) -> tuple:
        """(tenure, proneness, satisfaction, products) of `n` starting customers, in the order of their draws, drawn
        block by block (`blocks.py`)."""
        sc = self.scenario
        tenure, products = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        proneness, satisfaction = np.empty(n), np.empty(n)

        def draw(block: slice, rng):
            tenure[block] = drawn = rng.geometric(1 / 24, block.stop - block.start) - 1
            # the starting base is what earlier years left: long-standing customers are the less prone ones
            proneness[block] = rules.survivor_proneness(rng, sc["proneness_shape"], len(drawn), drawn)
            satisfaction[block] = rules.clip01(0.7 + 0.1 * rng.standard_normal(len(drawn)))
            products[block] = 1 + rng.binomial(sc["max_products"] - 1, np.minimum(drawn / 60, 0.5))

        each_block(n, draw, self.rng)
        return tenure, proneness, satisfaction, products

    def make_cohort(self) -> np.ndarray:
        """Turn today's customers into one cohort acquired this month; returns their seats.

        Each is a first-time customer with a newcomer's proneness (nobody has been sorted yet), so the
        cohort's survival shows how a market's customers sort themselves over the years. Their
        `incarnation` marks them: someone who leaves and is later won back is a new incarnation.
        """
        seats = np.flatnonzero(self.active_mask())
        self._start_as_customers(seats, self.people.firm[seats])
        self.people.proneness[seats] = rules.churn_proneness(self.rng, self.scenario["proneness_shape"], len(seats))
        self.churn_hazards(seats)
        return seats

    @property
    def customers(self):
        """Every seat as a Mesa `Customer` agent, created on first use (the numpy engine never needs them)."""
        if self._customers is None:
            self._customers = Customer.create_agents(self, len(self.people.stage), list(range(len(self.people.stage))))
        return self._customers

    # ------------------------------------------------------------------ the month
    def step(self, record: bool = True):
        """One month: customers live it, word spreads, new customers arrive, people move on, tiers are reviewed.

        `record=False` leaves the month out of the data collector (and `summary()`), for a caller that reads only
        the people (a cohort's survival): the month itself is the same, a fifth quicker at a few thousand customers.
        """
        self.month += 1
        sc = self.scenario
        self.ledger.begin_month(np.full(len(self.firm_book), sc["fixed_cost"] * self.n_customers / len(self.firm_book)),
                                self.active_by_firm())
        if self.engine == "agents":
            self.customers.shuffle_do("step")
        elif self.engine == "numpy":
            self.live_month(np.flatnonzero(self.active_mask()))
        else:
            _kernel().live_month(self)
        self._word_of_mouth()
        self._acquire()
        self._move_on()
        if self.month % sc["tier_review_months"] == 0:
            self._review_tiers()
        self.ledger.close_month()
        if record:
            self._record = month_record(self)
            self.datacollector.collect(self)

    def run(self, months: int):
        """Step `months` times; returns the model so calls can be chained."""
        if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or not 0 <= months <= 1200:
            raise InvalidParameter("model", "months", months, "a whole number from 0 to 1200")
        for _ in range(int(months)):
            self.step()
        return self

    def live_month(self, seats: np.ndarray, draws: np.ndarray | None = None):
        """One month in the life of the customers in `seats` (all of them at once, or a single one).

        The rules, in order: experience -> complaints and recovery -> satisfaction and expectations ->
        neglect and bonds -> cross-selling -> money -> share of wallet and switching costs -> the ladder
        -> competing risks of leaving. Every random draw comes from the model's generator, or from
        `draws`, a table of pre-drawn numbers (rows `DRAWS`, a column per customer in `seats`) with
        which a test replays the same month through the fast engine's kernel.
        """
        p, f, sc = self.people, self.firm_book, self.scenario
        c = Selection(p, seats)  # each attribute gathered once, written back once
        firm, n = c.firm, len(seats)
        care, price = f.of("frontline_care", firm), f.of("price_index", firm)
        if draws is None:
            draws = np.vstack([self.rng.standard_normal(n), self.rng.random((len(DRAWS) - 1, n))])
        draws = dict(zip(DRAWS, draws))
        luck = 0.08 * draws["luck"]

        got = rules.perceived_quality(f.service(firm, c.tier), f.of("product_quality", firm), care,
                                      c.quality_sensitivity, c.offer_fit + luck)
        value = rules.perceived_value(got, price, c.price_sensitivity,
                                      f.programme_of("value", firm) * f.of("reward_rate", firm),
                                      rules.contact_fatigue(f.of("staying_in_touch", firm), f.of("cross_sell", firm)))
        expectation = c.expectation

        complains = draws["complaint"] < rules.complaint_probability(value, expectation)
        recovered = complains & (draws["recovery"] < rules.recovery_probability(f.of("feedback_channel", firm), care))
        satisfaction = rules.cumulative_satisfaction(c.satisfaction, rules.transaction_satisfaction(value, expectation))
        voiced = np.flatnonzero(complains)  # a few in a hundred: only their satisfaction moves again
        satisfaction[voiced] = rules.satisfaction_after_complaint(satisfaction[voiced], recovered[voiced])
        c.set(satisfaction=satisfaction,
              expectation=rules.adapt_expectation(expectation, value, sc["competitor_standard"], sc["competitive_intensity"]),
              neglect=rules.update_neglect(c.neglect, care, f.of("staying_in_touch", firm), complains & ~recovered))

        c.set(social=rules.grow_bond(c.social, rules.clip01(f.of("social_bond", firm) + f.programme_of("social", firm))),
              customization=rules.grow_bond(c.customization, f.of("customization_bond", firm)),
              structural=rules.grow_bond(c.structural, f.of("structural_bond", firm)))
        c.set(products=c.products + (draws["cross_sell"] < rules.cross_sell_probability(f.of("cross_sell", firm), satisfaction,
                                                                              c.products, sc["max_products"])))

        revenue = self._account(c)
        c.set(points=c.points * (11 / 12) + f.of("reward_rate", firm) * revenue)  # a twelfth is redeemed each month
        points_tie = self._update_switching(c)
        wallet_target = rules.share_of_wallet_target(satisfaction, points_tie * 2, c.price_sensitivity, price,
                                                     sc["wallet_floor"])
        c.set(share_of_wallet=c.share_of_wallet + 0.2 * (wallet_target - c.share_of_wallet))

        bought_again = draws["repeat"] < rules.repeat_purchase_probability(satisfaction, f.of("staying_in_touch", firm), care)
        c.set(stage=rules.ladder_step(c.stage, satisfaction, c.products, c.tenure, bought_again), tenure=c.tenure + 1)

        rival = self._rival_heard_of(seats, draws["rival"])
        hazards = self.churn_hazards(c, rival)
        leaves = np.flatnonzero(draws["leave"] < rules.total_hazard(*hazards))
        # only the few who leave need a way out: about 2% a month, so stacking the hazards over everyone would be waste
        way_out = rules.choose_cause([h.take(leaves) for h in hazards], np.zeros(len(leaves)),
                                     draws["cause"].take(leaves))
        self.ledger.month["complaints"] += int(np.count_nonzero(complains))
        self.ledger.month["recovered"] += int(np.count_nonzero(recovered))
        self._leave(seats.take(leaves), way_out, rival.take(leaves))

    def _rival_heard_of(self, seats: np.ndarray, u: np.ndarray) -> np.ndarray:
        """For each customer in `seats`, the rival firm whose offer reaches them this month (-1: the rest of the market).

        `u`: a uniform draw for each customer, which picks the rival (see `rival_table`).
        """
        n_firms = len(self.firm_book)
        if not self.rivals_are_real or n_firms == 1:
            return np.full(len(seats), NO_FIRM, dtype=np.int8)
        rival = (u[:, None] >= self.rival_table()[self.people.firm[seats]]).sum(axis=1)
        return np.minimum(rival, n_firms - 1).astype(np.int8)

    def rival_table(self) -> np.ndarray:
        """Row f: the cumulative chances that a customer of firm f hears of each firm's offer (never f's own).

        A rival is heard of in proportion to its advertising budget and its share of customers (word of
        mouth); names and order play no part. With one firm, or none real, a 1 x 1 table of ones.
        """
        n_firms = len(self.firm_book)
        if not self.rivals_are_real or n_firms == 1:
            return np.ones((n_firms, n_firms))
        weight = self.firm_book.visibility(self.active_by_firm())
        others = np.tile(weight, (n_firms, 1))
        np.fill_diagonal(others, 0.0)
        return np.cumsum(others, axis=1) / others.sum(axis=1, keepdims=True)

    def _update_switching(self, seats) -> np.ndarray:
        """Store the switching costs of the customers in `seats` (seats or a `Selection`); returns their points bond."""
        c, sc = Selection.of(self.people, seats), self.scenario
        points_tie = rules.points_bond(c.points, c.spend, self.firm_book.programme_of("lock_in", c.firm))
        c.set(switching=rules.switching_cost(c.products, sc["max_products"], points_tie, c.social, c.customization,
                                             c.structural,
                                             rules.contract_tie(sc["contract_lock_in"], c.tenure, sc["contract_months"]),
                                             rules.tenure_bond(c.tenure, sc["tenure_bonding"])))
        return points_tie

    def churn_hazards(self, seats, rival=None) -> tuple:
        """This month's competing risks of leaving for the customers in `seats`, one per way out in EXITS.

        `seats`: seat numbers or a `Selection` of them. `rival`: the rival firm each customer hears of
        (see `_rival_heard_of`; -1 or None for the rest of the market, whose offer is worth
        `competitor_standard`). Also stores the voluntary part, which says who is loyal in Jones &
        Sasser's sense.
        """
        c, f, sc = Selection.of(self.people, seats), self.firm_book, self.scenario
        ci, prone, satisfaction, switching, expectation = (sc["competitive_intensity"], c.proneness, c.satisfaction,
                                                           c.switching, c.expectation)
        rival_value = np.full(len(c), sc["competitor_standard"])
        if rival is not None and self.rivals_are_real:
            real = rival >= 0
            rival_value[real] = f.newcomer_value(rival[real], c.quality_sensitivity[real], c.price_sensitivity[real])
        preference = rules.rival_preference(satisfaction, expectation, rival_value)
        lured = rules.hazard_competitor(rules.rival_exposure(ci, satisfaction, sc["lure_rate"], 0.0, prone), preference, switching)
        searched = rules.hazard_competitor(rules.rival_exposure(ci, satisfaction, 0.0, sc["search_rate"]), preference, switching)
        gap = rules.product_disappointment(f.of("product_quality", c.firm), expectation)
        # an unhappy customer who went looking names what made them unhappy (Keaveney 1995), not the rival
        blame_product, blame_neglect, blame_rival = rules.reasons_for_searching(gap, c.neglect)
        hazards = (
            np.full(len(c), sc["death_rate"]),
            rules.hazard_moving(sc["move_rate"], prone),
            rules.hazard_other_relationships(c.good_fit, sc["other_relationships_rate"], prone),
            rules.clip01(lured + blame_rival * searched),
            rules.clip01(blame_product * searched),
            rules.clip01(blame_neglect * searched),
            rules.hazard_product(gap, ci, switching, sc["product_churn_rate"], prone),
            rules.hazard_indifference(c.neglect, ci, switching, sc["indifference_rate"], prone),
        )
        c.set(voluntary_hazard=rules.total_hazard(*hazards[VOLUNTARY_EXITS]))
        return hazards

    def _account(self, seats) -> np.ndarray:
        """This month's revenue and cost of each customer in `seats` (seats or a `Selection`); adds them to their firms' books."""
        c, f, sc = Selection.of(self.people, seats), self.firm_book, self.scenario
        firm = c.firm
        price, reward_rate = f.of("price_index", firm), f.of("reward_rate", firm)
        revenue = c.spend * c.share_of_wallet * price * (1 + sc["product_spend_step"] * (c.products - 1))
        goods = revenue / price * (1 - sc["gross_margin"])
        bonds = f.of("social_bond", firm) ** 2 + f.of("customization_bond", firm) ** 2 + f.of("structural_bond", firm) ** 2
        cost = (goods + c.cost_to_serve
                + rules.lever_cost(f.service(firm, c.tier), sc["service_unit_cost"])
                + rules.lever_cost(f.of("product_quality", firm), sc["quality_cost_share"]) * revenue
                + rules.lever_cost(f.of("frontline_care", firm), sc["care_unit_cost"])
                + rules.lever_cost(f.of("feedback_channel", firm), sc["channel_unit_cost"])
                + rules.lever_cost(f.of("staying_in_touch", firm), sc["contact_unit_cost"])
                + rules.lever_cost(f.of("cross_sell", firm), sc["contact_unit_cost"])  # cross-selling is outbound contact too
                + sc["bond_unit_cost"] * bonds
                + f.programme_of("overhead", firm) * sc["programme_overhead"]
                + 0.8 * reward_rate * revenue)  # about a fifth of points are never redeemed (breakage)
        profit = revenue - cost
        ema = c.profit_ema
        c.set(profit=profit, profit_ema=np.where(ema == 0.0, profit, 0.8 * ema + 0.2 * profit))
        self.ledger.add_money(firm, revenue, cost, c.tier, profit)
        return revenue

    def _leave(self, seats: np.ndarray, way_out: np.ndarray, rival: np.ndarray):
        """Customers in `seats` leave by `way_out` (indices into EXITS); those who go to a real rival become its customers."""
        p = self.people
        causes = EXIT_CAUSE[way_out]
        to_rival = EXIT_TO_RIVAL[way_out] & (rival >= 0)
        self.ledger.add_exits(p.firm[seats], causes, to_rival, np.maximum(rival, 0))
        p.churn_cause[seats] = causes
        p.stage[seats], p.stage_months[seats] = rules.LOST, 0
        if to_rival.any():
            self._start_as_customers(seats[to_rival], rival[to_rival])
        p.firm[seats[~to_rival]] = NO_FIRM

    # ------------------------------------------------------------------ the market around the customers
    def _word_of_mouth(self):
        """Advocates bring neighbours in as referred prospects of their firm; very unhappy customers warn theirs off.

        Unhappy customers tell more people than happy ones (Anderson 1998), hence the higher warning rate.
        """
        p, sc = self.people, self.scenario
        active = self.active_mask()
        speakers, praised = self._pass_word(np.flatnonzero(p.stage == rules.ADVOCATE), sc["referral_rate"])
        fresh = (p.stage[praised] == rules.SUSPECT) & (p.warned[praised] == 0)
        newly, their_firm = praised[fresh], p.firm[speakers[fresh]]
        p.stage[newly], p.stage_months[newly], p.referred[newly], p.prospect_firm[newly] = rules.PROSPECT, 0, True, their_firm
        p.expectation[newly] = rules.praised_expectation(p.expectation[newly])
        self.ledger.month["referrals"] = len(newly)

        _, warned = self._pass_word(np.flatnonzero(active & (p.satisfaction < 0.3)), min(1.0, 2 * sc["referral_rate"]))
        p.warned[warned] = COOLOFF_MONTHS
        listeners = warned[active[warned]]
        p.satisfaction[listeners] = rules.warned_satisfaction(p.satisfaction[listeners])

    def _pass_word(self, speakers: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
        """(the speakers who speak this month, each with chance `rate`; the neighbour each of them talks to)."""
        speakers = speakers[self.rng.random(len(speakers)) < rate]
        return speakers, self.neighbours[speakers, self.rng.integers(0, self.neighbours.shape[1], len(speakers))]

    def _acquire(self):
        """Each firm's campaign reaches suspects (firms in a random order each month); targeting disqualifies poor fits;
        prospects buy from the firm they are considering, wait or lapse."""
        p, f, sc = self.people, self.firm_book, self.scenario
        suspects = np.flatnonzero((p.stage == rules.SUSPECT) & (p.warned == 0))
        order = self.rng.permutation(len(f))
        reach = np.round(f.levers["acquisition_budget"][order] * sc["max_contact_rate"] * self.n_customers / len(f))
        # the suspects the campaigns reach, in a random order: drawn without replacement, not by shuffling them all
        suspects = suspects[self.rng.choice(len(suspects), size=min(int(reach.sum()), len(suspects)), replace=False)]
        taken = 0
        for i, reach_i in zip(order, reach.astype(int)):
            budget, precision = f.levers["acquisition_budget"][i], f.levers["targeting_precision"][i]
            reached = suspects[taken:taken + reach_i]
            taken += len(reached)
            self.ledger.month["acquisition_cost"][i] = len(reached) * rules.cost_per_contact(
                sc["acquisition_contact_cost"], budget, precision)
            spotted = ~p.good_fit[reached] & (self.rng.random(len(reached)) < precision)
            p.stage[reached], p.stage_months[reached], p.referred[reached], p.prospect_firm[reached] = rules.PROSPECT, 0, False, i
            p.stage[reached[spotted]] = rules.DISQUALIFIED

        prospects = np.flatnonzero(p.stage == rules.PROSPECT)
        firm = p.prospect_firm[prospects]
        price_pull = rules.clip01(rules.price_response(p.price_sensitivity[prospects], f.of("price_index", firm)))
        offer_pull = 1 + 3 * f.programme_of("value", firm) * f.of("reward_rate", firm)  # rewards attract newcomers too
        chance = rules.clip01(np.where(p.referred[prospects], sc["referral_conversion"], sc["conversion_rate"]) * price_pull * offer_pull)
        draws = self.rng.random((2, len(prospects)))
        buys = (draws[0] < chance) & (p.warned[prospects] == 0)
        lapses = ~buys & ((draws[1] < 0.1) | (p.warned[prospects] > 0))
        self._start_as_customers(prospects[buys], firm[buys])
        p.stage[prospects[lapses]] = rules.SUSPECT
        self.ledger.month["new_customers"] += np.bincount(firm[buys], minlength=len(f))

    def _move_on(self):
        """Newcomers take the seats of the dead and the moved; the lost and disqualified return to the pool after a cool-off."""
        p = self.people
        p.stage_months += 1
        np.subtract(p.warned, 1, out=p.warned, where=p.warned > 0)  # a warning wears off a month at a time
        gone = (p.stage == rules.LOST) & (p.stage_months == 1) & ((p.churn_cause == DEATH) | (p.churn_cause == MOVED))
        draw_newcomers(p, np.flatnonzero(gone), self.scenario, self.rng)
        back = ((p.stage == rules.LOST) | (p.stage == rules.DISQUALIFIED)) & (p.stage_months >= COOLOFF_MONTHS)
        p.stage[back] = rules.SUSPECT

    def _review_tiers(self):
        """Place each customer in their firm's pyramid from recent profitability (Zeithaml, Rust & Lemon 2001)."""
        p, sc = self.people, self.scenario
        seats = np.flatnonzero(self.active_mask())
        cut = [sc["platinum_cutoff"], sc["gold_cutoff"], sc["iron_cutoff"]]
        profit = p.profit_ema[seats]
        p.tier[seats] = np.select([profit >= cut[0], profit >= cut[1], profit >= cut[2]],
                                  [rules.PLATINUM, rules.GOLD, rules.IRON], rules.LEAD)

    # ------------------------------------------------------------------ book-keeping
    def active_mask(self) -> np.ndarray:
        """Boolean array over seats: True for customers (first-time up to advocate) of any firm."""
        return self.people.active_mask()

    @property
    def totals(self) -> dict:
        """Market-wide cumulative counts and money: acquired, churned by cause, revenue, cost, profit."""
        ledger = self.ledger
        return {"acquired": int(ledger.acquired.sum()),
                "churned": dict(zip(rules.CHURN_CAUSES, (int(c) for c in ledger.churned.sum(axis=0)))),
                "revenue": float(ledger.revenue.sum()), "cost": float(ledger.cost.sum()), "profit": float(ledger.profit.sum())}

    def retention_12m(self) -> float:
        """Twelve-month retention over all customers: the product of the last twelve monthly rates (annualised before month 12)."""
        return self.ledger.market_retention_12m()

    def summary(self) -> dict:
        """Headline outcomes of the run so far (money totals are over all months run)."""
        r, totals = self._record, self.totals
        return {
            "scenario": self.scenario["name"], "months": self.month, "active": r["active"],
            "acquired": totals["acquired"], "retention_12m": r["retention_12m"],
            "mean_satisfaction": r["mean_satisfaction"], "nps": r["nps"],
            "revenue": totals["revenue"], "cost": totals["cost"], "profit": totals["profit"],
            "churned": totals["churned"],
            "tiers": {t: r[f"tier_{t}"] for t in rules.TIERS},
        }

    def customer_table(self):
        """One row per current customer: stage, tier, satisfaction, profit and what ties them (a pandas DataFrame)."""
        return customer_table(self)


def _kernel():
    """The fast engine (`kernel.py`), imported on first use: numba takes a moment to import, and commands that
    simulate nothing (`loyalty-lab check`) need none of it."""
    from . import kernel
    return kernel


def _reporter(key):
    return lambda model: model._record[key]
