"""`LoyaltyMarket`: a customer base under a firm's strategy, month by month (a Mesa 3 model).

A month, in order (see `step`):
  1. every active customer lives the month (`live_month`): experience, complaints and recovery,
     satisfaction and expectations, bonds, cross-selling, money, ladder moves, and the competing churn risks;
  2. word of mouth: advocates refer neighbours on the social network, very unhappy customers warn them;
  3. acquisition: the campaign turns suspects into prospects, targeting disqualifies poor fits, prospects convert;
  4. people move on: lost and disqualified people become suspects again after a year; newcomers take
     the seats of those who died or moved away;
  5. tiers are reviewed from profitability every `tier_review_months`;
  6. the data collector records the month.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import mesa
import numpy as np

from . import rules
from .agents import Customer
from .errors import InvalidParameter
from .metrics import customer_table, month_record
from .scenarios import load_scenario
from .strategy import Strategy

COOLOFF_MONTHS = 12  # how long the lost and the disqualified stay out of reach before they are suspects again
DEATH, MOVED = rules.CHURN_CAUSES.index("death"), rules.CHURN_CAUSES.index("moved")  # causes that free a seat for a newcomer


@dataclass
class People:
    """The state of every seat in the market, one numpy array per attribute (structure of arrays)."""

    stage: np.ndarray
    tier: np.ndarray
    good_fit: np.ndarray
    offer_fit: np.ndarray
    spend: np.ndarray
    cost_to_serve: np.ndarray
    price_sensitivity: np.ndarray
    quality_sensitivity: np.ndarray
    expectation: np.ndarray
    satisfaction: np.ndarray
    share_of_wallet: np.ndarray
    tenure: np.ndarray
    stage_months: np.ndarray
    products: np.ndarray
    points: np.ndarray
    social: np.ndarray
    customization: np.ndarray
    structural: np.ndarray
    neglect: np.ndarray
    switching: np.ndarray
    voluntary_hazard: np.ndarray
    profit: np.ndarray
    profit_ema: np.ndarray
    referred: np.ndarray
    warned: np.ndarray
    churn_cause: np.ndarray
    incarnation: np.ndarray
    proneness: np.ndarray

    # small integer types keep a million customers within a kilobyte each
    DTYPES = {"stage": np.int8, "tier": np.int8, "churn_cause": np.int8, "warned": np.int8, "products": np.int16,
              "tenure": np.int32, "stage_months": np.int32, "incarnation": np.int32, "good_fit": bool, "referred": bool}

    @classmethod
    def empty(cls, n: int) -> "People":
        return cls(**{f.name: np.zeros(n, dtype=cls.DTYPES.get(f.name, np.float64)) for f in fields(cls)})


class LoyaltyMarket(mesa.Model):
    """A market of customers who judge a firm's service, bond with it, talk about it and leave it.

    Args:
        scenario: a market name from `list_scenarios()`, a YAML path, or a dict of settings.
        strategy: a `Strategy`, a preset name ('balanced', 'neglect', 'tiered', 'bonding') or None (balanced).
        n_customers: customers at the start; the market also holds `pool_ratio` suspects per customer.
        seed: seed for the model's random generators; the same seed gives the same run.
        engine: 'numpy' (default) updates every customer at once; 'agents' lets each Customer agent
            live its month in turn (slower, same rules, for reading and teaching).
        **scenario_overrides: any scenario setting by name, e.g. `competitive_intensity=0.1`.
    """

    def __init__(self, scenario="telecom", strategy=None, n_customers=2000, seed=None, engine="numpy",
                 **scenario_overrides):
        super().__init__(seed=seed)
        self.scenario = load_scenario(scenario, **scenario_overrides)
        self.strategy = Strategy.coerce(strategy)
        if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or not 10 <= n_customers <= 1_000_000:
            raise InvalidParameter("model", "n_customers", n_customers, "a whole number from 10 to 1000000")
        if engine not in ("numpy", "agents"):
            raise InvalidParameter("model", "engine", engine, "one of numpy, agents")
        self.n_customers, self.engine, self.month = int(n_customers), engine, 0
        self._programme = rules.PROGRAMMES[self.strategy.loyalty_programme]
        s = self.strategy
        self._service_by_tier = np.array([s.service_platinum, s.service_gold, s.service_iron, s.service_lead])

        n_people = self.n_customers + int(round(self.scenario["pool_ratio"] * self.n_customers))
        self.people = People.empty(n_people)
        self.neighbours = self._small_world_network(n_people)
        self._draw_newcomers(np.arange(n_people))
        self._make_initial_customers(self.n_customers)
        self._customers = None
        if engine == "agents":
            self.customers  # the agents engine steps them, so they exist from the start

        self.totals = {"acquired": self.n_customers, "churned": dict.fromkeys(rules.CHURN_CAUSES, 0),
                       "revenue": 0.0, "cost": 0.0, "profit": 0.0}
        self._retention_history: list[float] = []
        self._begin_month_totals()
        starting = np.flatnonzero(self.active_mask())
        self._account(starting)  # a first month's profit places customers in tiers
        self._review_tiers()
        self._update_switching(starting)
        self.churn_hazards(starting)  # so that month 0 already says who is loyal
        self._begin_month_totals()  # month 0 is the starting state: no money has moved yet
        self._record = month_record(self)
        self.datacollector = mesa.DataCollector(model_reporters={key: _reporter(key) for key in self._record})
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up
    def _small_world_network(self, n: int) -> np.ndarray:
        """Each person's neighbours: a ring lattice with random long ties (Watts & Strogatz 1998)."""
        k = self.scenario["network_degree"]
        offsets = np.concatenate([np.arange(1, k // 2 + 1), -np.arange(1, k // 2 + 1)])
        neighbours = (np.arange(n)[:, None] + offsets[None, :]) % n
        rewire = self.rng.random(neighbours.shape) < self.scenario["network_rewiring"]
        neighbours[rewire] = self.rng.integers(0, n, rewire.sum())
        return neighbours

    def _draw_newcomers(self, seats: np.ndarray):
        """Fresh people in `seats`: suspects with their own spend, costs, sensitivities and expectations."""
        sc, p, n = self.scenario, self.people, len(seats)
        good_fit = self.rng.random(n) < sc["good_fit_share"]
        p.good_fit[seats] = good_fit
        # poor fits buy little and cost more: they are the disqualified prospects of Griffin's ladder
        p.spend[seats] = sc["spend_median"] * np.exp(sc["spend_sigma"] * self.rng.standard_normal(n)) * np.where(good_fit, 1.0, 0.5)
        p.cost_to_serve[seats] = (sc["cost_to_serve_median"] * np.exp(sc["cost_to_serve_sigma"] * self.rng.standard_normal(n))
                                  * np.where(good_fit, 1.0, 1.3))
        # how well the offer suits this person's needs: a lasting part of what they get, worse for poor fits
        p.offer_fit[seats] = 0.08 * self.rng.standard_normal(n) - np.where(good_fit, 0.0, 0.1)
        p.price_sensitivity[seats] = _beta(self.rng, sc["price_sensitivity_mean"], n)
        p.quality_sensitivity[seats] = _beta(self.rng, sc["quality_sensitivity_mean"], n)
        p.expectation[seats] = rules.clip01(sc["expectation_mean"] + sc["expectation_sd"] * self.rng.standard_normal(n))
        p.proneness[seats] = rules.churn_proneness(self.rng, sc["proneness_shape"], n)
        p.stage[seats], p.stage_months[seats], p.warned[seats], p.referred[seats] = rules.SUSPECT, 0, 0, False
        p.churn_cause[seats], p.satisfaction[seats], p.profit[seats], p.profit_ema[seats] = -1, 0.0, 0.0, 0.0

    def _start_as_customers(self, seats: np.ndarray):
        """People in `seats` buy for the first time: a fresh relationship on the first rung."""
        p = self.people
        p.stage[seats], p.tier[seats], p.tenure[seats], p.stage_months[seats] = rules.FIRST_TIME, rules.IRON, 0, 0
        p.satisfaction[seats], p.neglect[seats], p.products[seats], p.points[seats] = 0.7, 0.3, 1, 0.0
        p.social[seats] = p.customization[seats] = p.structural[seats] = 0.0
        p.share_of_wallet[seats] = 0.5
        p.incarnation[seats] += 1
        self._update_switching(seats)
        self.churn_hazards(seats)  # a new customer's loyalty is their own, not the seat's last occupant's

    def _make_initial_customers(self, n: int):
        """The starting base: `n` people with some history (tenure, products, rung) already behind them."""
        seats = self.rng.choice(len(self.people.stage), size=n, replace=False)
        self._start_as_customers(seats)
        p = self.people
        p.tenure[seats] = self.rng.geometric(1 / 24, n) - 1
        # the starting base is what earlier years left: long-standing customers are the less prone ones
        p.proneness[seats] = rules.survivor_proneness(self.rng, self.scenario["proneness_shape"], n, p.tenure[seats])
        p.satisfaction[seats] = rules.clip01(0.7 + 0.1 * self.rng.standard_normal(n))
        p.products[seats] = 1 + self.rng.binomial(self.scenario["max_products"] - 1, np.minimum(p.tenure[seats] / 60, 0.5))
        p.stage[seats] = np.select([p.tenure[seats] < 2, p.tenure[seats] < 12], [rules.FIRST_TIME, rules.REPEAT], rules.CLIENT)
        p.stage[seats] = np.where((p.stage[seats] == rules.CLIENT) & (p.satisfaction[seats] >= 0.85), rules.ADVOCATE, p.stage[seats])
        p.share_of_wallet[seats] = rules.share_of_wallet_target(p.satisfaction[seats], 0.0, p.price_sensitivity[seats],
                                                                self.strategy.price_index, self.scenario["wallet_floor"])

    @property
    def customers(self):
        """Every seat as a Mesa `Customer` agent, created on first use (the numpy engine never needs them)."""
        if self._customers is None:
            self._customers = Customer.create_agents(self, len(self.people.stage), list(range(len(self.people.stage))))
        return self._customers

    def make_cohort(self) -> np.ndarray:
        """Turn today's customers into one cohort acquired this month; returns their seats.

        Each is a first-time customer with a newcomer's proneness (nobody has been sorted yet), so the
        cohort's survival shows how a market's customers sort themselves over the years. Their
        `incarnation` marks them: someone who leaves and is later won back is a new incarnation.
        """
        seats = np.flatnonzero(self.active_mask())
        self._start_as_customers(seats)
        self.people.proneness[seats] = rules.churn_proneness(self.rng, self.scenario["proneness_shape"], len(seats))
        self.churn_hazards(seats)
        return seats

    # ------------------------------------------------------------------ the month
    def step(self):
        """One month: customers live it, word spreads, new customers arrive, people move on, tiers are reviewed."""
        self.month += 1
        self._begin_month_totals()
        active = np.flatnonzero(self.active_mask())
        self._month["active_at_start"] = len(active)
        if self.engine == "agents":
            self.customers.shuffle_do("step")
        else:
            self.live_month(active)
        self._word_of_mouth()
        self._acquire()
        self._move_on()
        if self.month % self.scenario["tier_review_months"] == 0:
            self._review_tiers()
        self._close_month()
        self._record = month_record(self)
        self.datacollector.collect(self)

    def run(self, months: int):
        """Step `months` times; returns the model so calls can be chained."""
        if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or not 0 <= months <= 1200:
            raise InvalidParameter("model", "months", months, "a whole number from 0 to 1200")
        for _ in range(int(months)):
            self.step()
        return self

    def live_month(self, seats: np.ndarray):
        """One month in the life of the customers in `seats` (all of them at once, or a single one).

        The rules, in order: experience -> complaints and recovery -> satisfaction and expectations ->
        neglect and bonds -> cross-selling -> money -> share of wallet and switching costs -> the ladder
        -> competing churn risks. Every random draw comes from the model's generator.
        """
        p, s, sc, prog = self.people, self.strategy, self.scenario, self._programme
        ci, n = sc["competitive_intensity"], len(seats)
        draws = self.rng.random((6, n))
        luck = 0.08 * self.rng.standard_normal(n)

        got = rules.perceived_quality(self._service_by_tier[p.tier[seats]], s.product_quality, s.frontline_care,
                                      p.quality_sensitivity[seats], p.offer_fit[seats] + luck)
        value = rules.perceived_value(got, s.price_index, p.price_sensitivity[seats], prog["value"] * s.reward_rate)
        expectation = p.expectation[seats]

        complains = draws[0] < rules.complaint_probability(value, expectation)
        recovered = complains & (draws[1] < rules.recovery_probability(s.feedback_channel, s.frontline_care))
        satisfaction = rules.cumulative_satisfaction(p.satisfaction[seats], rules.transaction_satisfaction(value, expectation))
        satisfaction = np.where(complains, rules.satisfaction_after_complaint(satisfaction, recovered), satisfaction)
        p.satisfaction[seats] = satisfaction
        p.expectation[seats] = rules.adapt_expectation(expectation, value, sc["competitor_standard"], ci)
        p.neglect[seats] = rules.update_neglect(p.neglect[seats], s.frontline_care, s.staying_in_touch, complains & ~recovered)

        p.social[seats] = rules.grow_bond(p.social[seats], rules.clip01(s.social_bond + prog["social"]))
        p.customization[seats] = rules.grow_bond(p.customization[seats], s.customization_bond)
        p.structural[seats] = rules.grow_bond(p.structural[seats], s.structural_bond)
        p.products[seats] += draws[2] < rules.cross_sell_probability(s.cross_sell, satisfaction, p.products[seats], sc["max_products"])

        revenue = self._account(seats)
        p.points[seats] = p.points[seats] * (11 / 12) + s.reward_rate * revenue  # a twelfth is redeemed each month
        points_tie = self._update_switching(seats)
        wallet_target = rules.share_of_wallet_target(satisfaction, points_tie * 2, p.price_sensitivity[seats], s.price_index,
                                                     sc["wallet_floor"])
        p.share_of_wallet[seats] += 0.2 * (wallet_target - p.share_of_wallet[seats])

        bought_again = draws[3] < rules.repeat_purchase_probability(satisfaction, s.staying_in_touch, s.frontline_care)
        p.stage[seats] = rules.ladder_step(p.stage[seats], satisfaction, p.products[seats], p.tenure[seats], bought_again)
        p.tenure[seats] += 1

        hazards = self.churn_hazards(seats)
        leaves = draws[4] < rules.total_hazard(*hazards)
        # only the few who leave need a cause: about 2% a month, so stacking six hazards over everyone would be waste
        cause = rules.choose_cause([np.broadcast_to(h, n)[leaves] for h in hazards], np.zeros(leaves.sum()), draws[5][leaves])
        self._month["complaints"] += int(complains.sum())
        self._month["recovered"] += int(recovered.sum())
        self._churn(seats[leaves], cause)

    def _update_switching(self, seats: np.ndarray) -> np.ndarray:
        """Store the switching costs of the customers in `seats`; returns their points bond (a part of it)."""
        p = self.people
        points_tie = rules.points_bond(p.points[seats], p.spend[seats], self._programme["lock_in"])
        p.switching[seats] = rules.switching_cost(p.products[seats], self.scenario["max_products"], points_tie, p.social[seats],
                                                  p.customization[seats], p.structural[seats], self.scenario["contract_lock_in"])
        return points_tie

    def churn_hazards(self, seats: np.ndarray) -> tuple:
        """This month's competing churn hazards of the customers in `seats`, in CHURN_CAUSES order.

        Also stores the voluntary part (competitor, product, indifference), which says who is loyal
        in Jones & Sasser's sense.
        """
        p, s, sc = self.people, self.strategy, self.scenario
        ci, prone, satisfaction, switching = sc["competitive_intensity"], p.proneness[seats], p.satisfaction[seats], p.switching[seats]
        preference = rules.rival_preference(satisfaction, p.expectation[seats], sc["competitor_standard"])
        lured = rules.hazard_competitor(rules.rival_exposure(ci, satisfaction, sc["lure_rate"], 0.0, prone), preference, switching)
        searched = rules.hazard_competitor(rules.rival_exposure(ci, satisfaction, 0.0, sc["search_rate"]), preference, switching)
        gap = rules.product_disappointment(s.product_quality, p.expectation[seats])
        # an unhappy customer who went looking names what made them unhappy (Keaveney 1995), not the rival
        blame_product, blame_neglect, blame_rival = rules.reasons_for_searching(gap, p.neglect[seats])
        hazards = (
            np.full(len(seats), sc["death_rate"]),
            rules.hazard_moving(sc["move_rate"], prone),
            rules.hazard_other_relationships(p.good_fit[seats], sc["other_relationships_rate"], prone),
            rules.clip01(lured + blame_rival * searched),
            rules.clip01(rules.hazard_product(gap, ci, switching, sc["product_churn_rate"], prone) + blame_product * searched),
            rules.clip01(rules.hazard_indifference(p.neglect[seats], ci, switching, sc["indifference_rate"], prone)
                         + blame_neglect * searched),
        )
        p.voluntary_hazard[seats] = rules.total_hazard(*hazards[3:])
        return hazards

    def _account(self, seats: np.ndarray) -> np.ndarray:
        """This month's revenue and cost of each customer in `seats`; adds them to the month's totals."""
        p, s, sc, prog = self.people, self.strategy, self.scenario, self._programme
        revenue = (p.spend[seats] * p.share_of_wallet[seats] * s.price_index
                   * (1 + sc["product_spend_step"] * (p.products[seats] - 1)))
        goods = revenue / s.price_index * (1 - sc["gross_margin"])
        cost = (goods + p.cost_to_serve[seats]
                + rules.lever_cost(self._service_by_tier[p.tier[seats]], sc["service_unit_cost"])
                + rules.lever_cost(s.product_quality, sc["quality_cost_share"]) * revenue
                + rules.lever_cost(s.frontline_care, sc["care_unit_cost"])
                + rules.lever_cost(s.feedback_channel, sc["channel_unit_cost"])
                + rules.lever_cost(s.staying_in_touch, sc["contact_unit_cost"])
                + rules.lever_cost(s.cross_sell, sc["contact_unit_cost"])  # cross-selling is outbound contact too
                + rules.lever_cost(np.array([s.social_bond, s.customization_bond, s.structural_bond]), sc["bond_unit_cost"]).sum()
                + prog["overhead"] * sc["programme_overhead"]
                + 0.8 * s.reward_rate * revenue)  # about a fifth of points are never redeemed (breakage)
        profit = revenue - cost
        p.profit[seats] = profit
        p.profit_ema[seats] = np.where(p.profit_ema[seats] == 0.0, profit, 0.8 * p.profit_ema[seats] + 0.2 * profit)
        self._month["revenue"] += float(revenue.sum())
        self._month["cost"] += float(cost.sum())
        np.add.at(self._month["profit_by_tier"], p.tier[seats], profit)
        return revenue

    def _churn(self, seats: np.ndarray, causes: np.ndarray):
        """Customers in `seats` leave for `causes` (indices into CHURN_CAUSES)."""
        p = self.people
        p.stage[seats], p.stage_months[seats], p.churn_cause[seats] = rules.LOST, 0, causes
        for code in np.unique(causes):
            self._month["churned"][rules.CHURN_CAUSES[code]] += int((causes == code).sum())

    # ------------------------------------------------------------------ the market around the customers
    def _word_of_mouth(self):
        """Advocates bring neighbours in as referred prospects; very unhappy customers warn theirs off.

        Unhappy customers tell more people than happy ones (Anderson 1998), hence the higher warning rate.
        """
        p, sc = self.people, self.scenario
        active = self.active_mask()
        praised = self._pass_word(np.flatnonzero(p.stage == rules.ADVOCATE), sc["referral_rate"])
        newly = praised[(p.stage[praised] == rules.SUSPECT) & (p.warned[praised] == 0)]
        p.stage[newly], p.stage_months[newly], p.referred[newly] = rules.PROSPECT, 0, True
        p.expectation[newly] = rules.praised_expectation(p.expectation[newly])
        self._month["referrals"] = len(newly)

        warned = self._pass_word(np.flatnonzero(active & (p.satisfaction < 0.3)), min(1.0, 2 * sc["referral_rate"]))
        p.warned[warned] = COOLOFF_MONTHS
        listeners = warned[active[warned]]
        p.satisfaction[listeners] = rules.warned_satisfaction(p.satisfaction[listeners])

    def _pass_word(self, speakers: np.ndarray, rate: float) -> np.ndarray:
        """Seats of the neighbours that `speakers` talk to this month (each speaks with chance `rate`)."""
        speakers = speakers[self.rng.random(len(speakers)) < rate]
        return self.neighbours[speakers, self.rng.integers(0, self.neighbours.shape[1], len(speakers))]

    def _acquire(self):
        """The campaign reaches suspects; targeting disqualifies poor fits; prospects buy, wait or lapse."""
        p, s, sc = self.people, self.strategy, self.scenario
        reach = int(round(s.acquisition_budget * sc["max_contact_rate"] * self.n_customers))
        suspects = np.flatnonzero((p.stage == rules.SUSPECT) & (p.warned == 0))
        reached = self.rng.choice(suspects, size=min(reach, len(suspects)), replace=False)
        self._month["acquisition_cost"] = len(reached) * sc["acquisition_contact_cost"] * (0.75 + 0.5 * s.targeting_precision)
        spotted = ~p.good_fit[reached] & (self.rng.random(len(reached)) < s.targeting_precision)
        p.stage[reached], p.stage_months[reached], p.referred[reached] = rules.PROSPECT, 0, False
        p.stage[reached[spotted]] = rules.DISQUALIFIED

        prospects = np.flatnonzero(p.stage == rules.PROSPECT)
        price_pull = rules.clip01(1 - 1.5 * p.price_sensitivity[prospects] * (s.price_index - 1))
        offer_pull = 1 + 3 * self._programme["value"] * s.reward_rate  # rewards attract newcomers too
        chance = rules.clip01(np.where(p.referred[prospects], sc["referral_conversion"], sc["conversion_rate"]) * price_pull * offer_pull)
        draws = self.rng.random((2, len(prospects)))
        buys = (draws[0] < chance) & (p.warned[prospects] == 0)
        lapses = ~buys & ((draws[1] < 0.1) | (p.warned[prospects] > 0))
        self._start_as_customers(prospects[buys])
        p.stage[prospects[lapses]] = rules.SUSPECT
        self._month["new_customers"] = int(buys.sum())

    def _move_on(self):
        """Newcomers take the seats of the dead and the moved; the lost and disqualified return to the pool after a cool-off."""
        p = self.people
        p.stage_months += 1
        p.warned = np.maximum(p.warned - 1, 0)
        gone = (p.stage == rules.LOST) & (p.stage_months == 1) & ((p.churn_cause == DEATH) | (p.churn_cause == MOVED))
        self._draw_newcomers(np.flatnonzero(gone))
        back = ((p.stage == rules.LOST) | (p.stage == rules.DISQUALIFIED)) & (p.stage_months >= COOLOFF_MONTHS)
        p.stage[back] = rules.SUSPECT

    def _review_tiers(self):
        """Place each customer in the pyramid from recent profitability (Zeithaml, Rust & Lemon 2001)."""
        p, sc = self.people, self.scenario
        seats = np.flatnonzero(self.active_mask())
        cut = [sc["platinum_cutoff"], sc["gold_cutoff"], sc["iron_cutoff"]]
        profit = p.profit_ema[seats]
        p.tier[seats] = np.select([profit >= cut[0], profit >= cut[1], profit >= cut[2]],
                                  [rules.PLATINUM, rules.GOLD, rules.IRON], rules.LEAD)

    # ------------------------------------------------------------------ book-keeping
    def active_mask(self) -> np.ndarray:
        """Boolean array over seats: True for customers (first-time up to advocate)."""
        return (self.people.stage >= rules.FIRST_TIME) & (self.people.stage <= rules.ADVOCATE)

    def _begin_month_totals(self):
        self._month = {"revenue": 0.0, "cost": 0.0, "acquisition_cost": 0.0, "new_customers": 0,
                       "fixed_cost": self.scenario["fixed_cost"] * self.n_customers if self.month else 0.0,
                       "complaints": 0, "recovered": 0, "active_at_start": 0, "referrals": 0,
                       "churned": dict.fromkeys(rules.CHURN_CAUSES, 0), "profit_by_tier": np.zeros(len(rules.TIERS))}

    def _close_month(self):
        m, t = self._month, self.totals
        m["cost"] += m["acquisition_cost"] + m["fixed_cost"]
        t["acquired"] += m["new_customers"]
        for cause, count in m["churned"].items():
            t["churned"][cause] += count
        t["revenue"] += m["revenue"]
        t["cost"] += m["cost"]
        t["profit"] += m["revenue"] - m["cost"]
        left = sum(m["churned"].values())
        self._retention_history.append(1 - left / m["active_at_start"] if m["active_at_start"] else 1.0)

    def retention_12m(self) -> float:
        """Twelve-month retention: the product of the last twelve monthly retention rates (annualised before month 12)."""
        history = self._retention_history[-12:]
        if not history:
            return float("nan")
        return float(np.prod(history) ** (12 / len(history)))

    def summary(self) -> dict:
        """Headline outcomes of the run so far (money totals are over all months run)."""
        r = self._record
        return {
            "scenario": self.scenario["name"], "months": self.month, "active": r["active"],
            "acquired": self.totals["acquired"], "retention_12m": r["retention_12m"],
            "mean_satisfaction": r["mean_satisfaction"], "nps": r["nps"],
            "revenue": self.totals["revenue"], "cost": self.totals["cost"], "profit": self.totals["profit"],
            "churned": dict(self.totals["churned"]),
            "tiers": {t: r[f"tier_{t}"] for t in rules.TIERS},
        }

    def customer_table(self):
        """One row per current customer: stage, tier, satisfaction, profit and what ties them (a pandas DataFrame)."""
        return customer_table(self)


def _reporter(key):
    return lambda model: model._record[key]


def _beta(rng, mean, n, concentration=6.0):
    """Draws in [0, 1] with the given mean (a Beta distribution), for sensitivities."""
    mean = min(max(mean, 0.01), 0.99)
    return rng.beta(mean * concentration, (1 - mean) * concentration, n)
