"""The fast engine: a month of every customer in one compiled pass (numba), composed of the rules in `rules.py`.

`LoyaltyMarket.live_month` is the readable reference: the rules applied to arrays of customers, phase after
phase. The kernel below walks the seats once, in seat order, and lives each customer's whole month at once,
calling the very same functions of `rules.py`, compiled for single numbers (`register_jitable`): a change to a
rule reaches the kernel by itself. What the kernel adds is plumbing only: reading a customer's firm's offer
from a table (`offer_table`), drawing a random number only where a rule needs one, and keeping the books.

Why it is faster: no temporary arrays, no gathers and scatters of selected customers, and three or four random
draws a customer instead of eight (a complaint needs a draw only when a complaint is possible, a recovery only
after a complaint, a cause only for those who leave). The draws come from the model's own seeded generator
(numba reads numpy's `Generator` directly), so the same seed gives the same run. `tests/test_kernel.py` feeds
the same pre-drawn numbers to the kernel and to `live_month` and compares every customer.

A large market is lived in blocks of seats, side by side on the machine's cores (`blocks.py`): a market of
one block (every market of the book and the workshops) is one pass over its seats, on the model's generator.

Compiled functions are cached on disk (`cache=True`); `warm_cache()` compiles them once at set-up. The cache
key includes a hash of `rules.py` and of this file, so an edited rule is never served from a stale cache.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import numpy as np
from numba import njit
from numba.extending import register_jitable

from . import rules
from .blocks import each_block
from .model import DRAWS

# every rule compiles for single numbers when a kernel calls it (and stays a plain function everywhere else);
# inlined into the kernel, not called: a call between compiled functions costs more than most rules' arithmetic
for _name, _rule in inspect.getmembers(rules, inspect.isfunction):
    if _rule.__module__ == rules.__name__:
        takes_any_number = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(_rule).parameters.values())
        register_jitable(inline="never" if takes_any_number else "always")(_rule)  # numba inlines no *args

# The columns of the offer table: each firm's levers as a customer meets them (see `offer_table`).
OFFER = ("product_quality", "frontline_care", "price_index", "reward_value", "reward_rate", "feedback_channel",
         "staying_in_touch", "social_investment", "customization_bond", "structural_bond", "cross_sell", "lock_in",
         "cost_per_revenue")
(QUALITY, CARE, PRICE, REWARD_VALUE, REWARD_RATE, CHANNEL, IN_TOUCH, SOCIAL, CUSTOMIZATION, STRUCTURAL, CROSS_SELL,
 LOCK_IN, COST_PER_REVENUE) = range(len(OFFER))
# The scenario settings the month reads, in this order (see `market_settings`).
MARKET = ("competitor_standard", "competitive_intensity", "wallet_floor", "product_spend_step", "gross_margin",
          "contract_lock_in", "lure_rate", "search_rate", "death_rate", "move_rate", "other_relationships_rate",
          "product_churn_rate", "indifference_rate", "tenure_bonding", "contract_months")
(STANDARD, INTENSITY, WALLET_FLOOR, SPEND_STEP, MARGIN, CONTRACT, LURE, SEARCH, DEATH_RATE, MOVE_RATE, OTHER_RATE,
 PRODUCT_RATE, INDIFFERENCE_RATE, TENURE_BONDING, CONTRACT_MONTHS) = range(len(MARKET))
# The rows of a table of pre-drawn random numbers (`draws=`), one column per customer: for tests that compare
# the kernel with `live_month` on the very same numbers (model.DRAWS).
LUCK, COMPLAINT, RECOVERY, CROSS, REPEAT, LEAVE, CAUSE, RIVAL = range(len(DRAWS))
N_EXITS = 8  # model.EXITS: the ways out, as competing risks
# What the compiler may assume of the kernels' arithmetic: no NaN, no infinity, no sign on zero. It may then turn
# the rules' np.minimum/np.maximum into single instructions (a sixth of the kernel's time at 100,000 customers), while
# every result stays bit for bit the same (benchmarks/fingerprint.py --check). Nothing more: reordering sums or
# fusing multiply-adds ("fast" math in full) would change the last bits of the numbers. And no division by zero
# can happen in the kernels, so error_model="numpy" spares the check for one.
FINITE_MATH = {"nnan", "ninf", "nsz"}


def offer_table(model):
    """(offer, service, cost_per_customer): each firm's levers as its customers meet them, from the firms' strategies.

    offer[f, column] for the columns in OFFER; service[f, tier] the service level of each tier;
    cost_per_customer[f, tier] the month's cost of a customer that does not depend on what they spend, so that
    a customer's cost is goods + cost to serve + cost_per_customer + cost_per_revenue x revenue
    (`LoyaltyMarket._account`, term by term).
    """
    f, sc = model.firm_book, model.scenario
    lever = f.levers
    value, social, lock_in = f.programme["value"], f.programme["social"], f.programme["lock_in"]
    offer = np.empty((len(f), len(OFFER)))
    offer[:, QUALITY], offer[:, CARE], offer[:, PRICE] = lever["product_quality"], lever["frontline_care"], lever["price_index"]
    offer[:, REWARD_VALUE], offer[:, REWARD_RATE] = value * lever["reward_rate"], lever["reward_rate"]
    offer[:, CHANNEL], offer[:, IN_TOUCH] = lever["feedback_channel"], lever["staying_in_touch"]
    offer[:, SOCIAL] = rules.clip01(lever["social_bond"] + social)
    offer[:, CUSTOMIZATION], offer[:, STRUCTURAL] = lever["customization_bond"], lever["structural_bond"]
    offer[:, CROSS_SELL], offer[:, LOCK_IN] = lever["cross_sell"], lock_in
    offer[:, COST_PER_REVENUE] = (rules.lever_cost(lever["product_quality"], sc["quality_cost_share"])
                                  + 0.8 * lever["reward_rate"])
    bonds = lever["social_bond"] ** 2 + lever["customization_bond"] ** 2 + lever["structural_bond"] ** 2
    per_customer = (rules.lever_cost(lever["frontline_care"], sc["care_unit_cost"])
                    + rules.lever_cost(lever["feedback_channel"], sc["channel_unit_cost"])
                    + rules.lever_cost(lever["staying_in_touch"], sc["contact_unit_cost"])
                    + rules.lever_cost(lever["cross_sell"], sc["contact_unit_cost"])
                    + sc["bond_unit_cost"] * bonds + f.programme["overhead"] * sc["programme_overhead"])
    service = np.ascontiguousarray(f.service_by_tier, dtype=float)
    cost_per_customer = rules.lever_cost(service, sc["service_unit_cost"]) + per_customer[:, None]
    return offer, service, cost_per_customer


def market_settings(scenario) -> np.ndarray:
    """The scenario settings of MARKET, as one array."""
    return np.array([float(scenario[name]) for name in MARKET])


@njit(cache=True, inline="always")
def _choose_exit(hazards, u):
    """The way out of a customer who leaves (an index into EXITS): rules.choose_cause for one customer."""
    total = 0.0
    for h in hazards:
        total += h
    total = max(total, 1e-12)
    u = min(u, 1 - 1e-12)
    share, chosen = 0.0, 0
    for h in hazards:
        share += h
        if u >= share / total:
            chosen += 1
    return min(chosen, len(hazards) - 1)


@njit(cache=True, inline="always")
def _grown(values):
    """`values` in an array twice as long."""
    more = np.empty(2 * len(values), values.dtype)
    more[:len(values)] = values
    return more


def _source_hash() -> str:
    """A hash of the rules and of this file: part of the compiled kernels' cache key."""
    return _source_hash_of(Path(rules.__file__).read_bytes())


def _source_hash_of(rules_source: bytes) -> str:
    return hashlib.sha256(rules_source + Path(__file__).read_bytes()).hexdigest()


def _compile(source_hash: str):
    """The kernels, compiled (or loaded from numba's cache) for this version of the rules.

    numba keys its cache on a kernel's own bytecode and on the values it closes over, not on the functions it
    calls; closing over `source_hash` makes a change to `rules.py` a change of key.
    """

    @njit(cache=True, error_model="numpy", fastmath=FINITE_MATH, nogil=True)
    def live_month(stage, firm, tier, good_fit, offer_fit, spend, cost_to_serve, price_sensitivity,
                   quality_sensitivity, expectation, proneness, satisfaction, share_of_wallet, tenure, products,
                   points, social, customization, structural, neglect, switching, voluntary_hazard, profit,
                   profit_ema, offer, service, cost_per_customer, market, max_products, rival_cumulative,
                   rivals_are_real, rng, draws):
        """One month of every active customer, in seat order, in place (`LoyaltyMarket.live_month`, fused).

        Returns the books of the month (revenue and cost by firm, profit by tier, complaints, recovered) and
        those who leave (seats, way out as an index into EXITS, rival firm or -1), for `LoyaltyMarket._leave`.
        """
        if source_hash is None:  # never true: ties the compiled kernel to this version of the rules (see above)
            rivals_are_real = False
        n_firms = offer.shape[0]
        revenue_by_firm, cost_by_firm = np.zeros(n_firms), np.zeros(n_firms)
        profit_by_tier = np.zeros(4)
        room = max(1024, len(stage) // 32)  # a few in a hundred leave in a month; more room is made if need be
        leaver_seat, leaver_exit, leaver_rival = np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room, np.int8)
        n_leavers, complaints, recovered_count, k = 0, 0, 0, 0
        ci, standard = market[INTENSITY], market[STANDARD]
        bonding = market[TENURE_BONDING]  # 0 in the built-in markets, where the tie is 0: skip its power
        # each draw comes from the table of pre-drawn numbers if one is given (tests), else from the model's
        # generator; written out at each draw, not in a helper: passing the arrays to one made numba count
        # references to them at every draw (atomic increments, a tenth of the kernel's time)
        predrawn = draws.shape[1] > 0
        for seat in range(len(stage)):
            if stage[seat] < rules.FIRST_TIME or stage[seat] > rules.ADVOCATE:
                continue
            f, t = firm[seat], tier[seat]
            care, price, in_touch = offer[f, CARE], offer[f, PRICE], offer[f, IN_TOUCH]

            # experience -> value -> complaints and recovery -> satisfaction, expectations, neglect
            luck = 0.08 * (draws[LUCK, k] if predrawn else rng.standard_normal())
            got = rules.perceived_quality(service[f, t], offer[f, QUALITY], care, quality_sensitivity[seat],
                                          offer_fit[seat] + luck)
            value = rules.perceived_value(got, price, price_sensitivity[seat], offer[f, REWARD_VALUE],
                                          rules.contact_fatigue(in_touch, offer[f, CROSS_SELL]))
            expects = expectation[seat]
            p_complain = rules.complaint_probability(value, expects)
            complains = p_complain > 0 and (draws[COMPLAINT, k] if predrawn else rng.random()) < p_complain
            recovered = complains and ((draws[RECOVERY, k] if predrawn else rng.random())
                                       < rules.recovery_probability(offer[f, CHANNEL], care))
            feels = rules.cumulative_satisfaction(satisfaction[seat], rules.transaction_satisfaction(value, expects))
            if complains:
                feels = rules.satisfaction_after_complaint(feels, recovered)
                complaints += 1
                recovered_count += recovered
            satisfaction[seat] = feels
            expects = rules.adapt_expectation(expects, value, standard, ci)
            expectation[seat] = expects
            neglect[seat] = rules.update_neglect(neglect[seat], care, in_touch, complains and not recovered)

            # bonds and cross-selling
            social[seat] = rules.grow_bond(social[seat], offer[f, SOCIAL])
            customization[seat] = rules.grow_bond(customization[seat], offer[f, CUSTOMIZATION])
            structural[seat] = rules.grow_bond(structural[seat], offer[f, STRUCTURAL])
            held = products[seat]
            p_cross = rules.cross_sell_probability(offer[f, CROSS_SELL], feels, held, max_products)
            if p_cross > 0 and (draws[CROSS, k] if predrawn else rng.random()) < p_cross:
                held += 1
                products[seat] = held

            # money (LoyaltyMarket._account) and what ties the customer
            revenue = spend[seat] * share_of_wallet[seat] * price * (1 + market[SPEND_STEP] * (held - 1))
            cost = (revenue / price * (1 - market[MARGIN]) + cost_to_serve[seat] + cost_per_customer[f, t]
                    + offer[f, COST_PER_REVENUE] * revenue)
            margin = revenue - cost
            profit[seat] = margin
            ema = profit_ema[seat]
            profit_ema[seat] = margin if ema == 0.0 else 0.8 * ema + 0.2 * margin
            revenue_by_firm[f] += revenue
            cost_by_firm[f] += cost
            profit_by_tier[t] += margin
            balance = points[seat] * (11 / 12) + offer[f, REWARD_RATE] * revenue  # a twelfth is redeemed each month
            points[seat] = balance
            points_tie = rules.points_bond(balance, spend[seat], offer[f, LOCK_IN])
            ties = rules.switching_cost(held, max_products, points_tie, social[seat], customization[seat],
                                        structural[seat],
                                        rules.contract_tie(market[CONTRACT], tenure[seat], market[CONTRACT_MONTHS]),
                                        rules.tenure_bond(tenure[seat], bonding) if bonding > 0.0 else 0.0)
            switching[seat] = ties
            wallet_target = rules.share_of_wallet_target(feels, points_tie * 2, price_sensitivity[seat], price,
                                                         market[WALLET_FLOOR])
            share_of_wallet[seat] += 0.2 * (wallet_target - share_of_wallet[seat])

            # the ladder
            rung = stage[seat]
            bought_again = (rung == rules.FIRST_TIME
                            and ((draws[REPEAT, k] if predrawn else rng.random())
                                 < rules.repeat_purchase_probability(feels, in_touch, care)))
            stage[seat] = rules.ladder_step(rung, feels, held, tenure[seat], bought_again)
            tenure[seat] += 1

            # the competing risks of leaving (LoyaltyMarket.churn_hazards)
            rival, rival_value = -1, standard
            if rivals_are_real:
                u = (draws[RIVAL, k] if predrawn else rng.random())
                rival = 0
                while rival < n_firms - 1 and u >= rival_cumulative[f, rival]:
                    rival += 1
                got_there = rules.perceived_quality(service[rival, rules.IRON], offer[rival, QUALITY],
                                                    offer[rival, CARE], quality_sensitivity[seat])
                rival_value = rules.perceived_value(got_there, offer[rival, PRICE], price_sensitivity[seat],
                                                    offer[rival, REWARD_VALUE])
            prone = proneness[seat]
            preference = rules.rival_preference(feels, expects, rival_value)
            lured = rules.hazard_competitor(rules.rival_exposure(ci, feels, market[LURE], 0.0, prone), preference, ties)
            searched = rules.hazard_competitor(rules.rival_exposure(ci, feels, 0.0, market[SEARCH]), preference, ties)
            gap = rules.product_disappointment(offer[f, QUALITY], expects)
            blame_product, blame_neglect, blame_rival = rules.reasons_for_searching(gap, neglect[seat])
            hazards = (  # in the order of EXITS
                market[DEATH_RATE],
                rules.hazard_moving(market[MOVE_RATE], prone),
                rules.hazard_other_relationships(good_fit[seat], market[OTHER_RATE], prone),
                rules.clip01(lured + blame_rival * searched),
                rules.clip01(blame_product * searched),
                rules.clip01(blame_neglect * searched),
                rules.hazard_product(gap, ci, ties, market[PRODUCT_RATE], prone),
                rules.hazard_indifference(neglect[seat], ci, ties, market[INDIFFERENCE_RATE], prone),
            )
            voluntary_hazard[seat] = rules.total_hazard(*hazards[3:])
            leaves = (draws[LEAVE, k] if predrawn else rng.random()) < rules.total_hazard(*hazards)
            if leaves:
                if n_leavers == len(leaver_seat):
                    leaver_seat, leaver_exit, leaver_rival = _grown(leaver_seat), _grown(leaver_exit), _grown(leaver_rival)
                leaver_seat[n_leavers] = seat
                leaver_exit[n_leavers] = _choose_exit(hazards, (draws[CAUSE, k] if predrawn else rng.random()))
                leaver_rival[n_leavers] = rival
                n_leavers += 1
            k += 1
        return (revenue_by_firm, cost_by_firm, profit_by_tier, complaints, recovered_count,
                leaver_seat[:n_leavers], leaver_exit[:n_leavers], leaver_rival[:n_leavers])

    @njit(cache=True, error_model="numpy", fastmath=FINITE_MATH, nogil=True)
    def census(stage, firm, tier, satisfaction, expectation, switching, share_of_wallet, neglect, products, points,
               spend, social, customization, voluntary_hazard, price_sensitivity, lock_in, competitive_intensity,
               n_firms):
        """The counts and sums of `metrics.month_record` in one pass over the seats.

        Returns (sums, counts): sums of satisfaction, expectation, switching, share of wallet, neglect, products;
        counts of stages, tiers, Dick & Basu types, quadrants, motives, promoters and detractors (NPS), and by
        firm (customers, and their satisfaction summed).
        """
        if source_hash is None:  # never true (see `live_month`)
            n_firms = 0
        sums = np.zeros(6)
        stages, tiers = np.zeros(len(rules.STAGES), np.int64), np.zeros(len(rules.TIERS), np.int64)
        loyalty, quadrants = np.zeros(len(rules.DICK_BASU_TYPES), np.int64), np.zeros(len(rules.QUADRANTS), np.int64)
        motives, nps = np.zeros(len(rules.LOYALTY_MOTIVES), np.int64), np.zeros(2, np.int64)
        by_firm, satisfaction_by_firm = np.zeros(n_firms, np.int64), np.zeros(n_firms)
        for seat in range(len(stage)):
            rung = stage[seat]
            stages[rung] += 1
            if rung < rules.FIRST_TIME or rung > rules.ADVOCATE:
                continue
            feels, f = satisfaction[seat], firm[seat]
            sums[0] += feels
            sums[1] += expectation[seat]
            sums[2] += switching[seat]
            sums[3] += share_of_wallet[seat]
            sums[4] += neglect[seat]
            sums[5] += products[seat]
            tiers[tier[seat]] += 1
            by_firm[f] += 1
            satisfaction_by_firm[f] += feels
            score = rules.recommend_score(feels)
            nps[0] += score >= 9
            nps[1] += score <= 6
            attitude = rules.relative_attitude(feels, social[seat], customization[seat])
            patronage = share_of_wallet[seat]
            stay_12m = (1 - voluntary_hazard[seat]) ** 12
            points_tie = rules.points_bond(points[seat], spend[seat], lock_in[f])
            loyalty[rules.dick_basu_type(attitude, patronage)] += 1
            quadrants[rules.jones_sasser_quadrant(feels, stay_12m)] += 1
            motives[rules.loyalty_motive(attitude, patronage, feels, competitive_intensity, switching[seat], points_tie,
                                         price_sensitivity[seat], 0.5 * (social[seat] + customization[seat]))] += 1
        return sums, stages, tiers, loyalty, quadrants, motives, nps, by_firm, satisfaction_by_firm

    @njit(cache=True)
    def count_by_firm(stage, firm, n_firms):
        """Each firm's number of customers now."""
        if source_hash is None:  # never true (see `live_month`): the stages' codes come from this version of the rules
            n_firms = 0
        counts = np.zeros(n_firms, np.int64)
        for seat in range(len(stage)):  # without a branch: half the seats are customers, in no order a CPU could guess
            counts[max(firm[seat], 0)] += (stage[seat] >= rules.FIRST_TIME) & (stage[seat] <= rules.ADVOCATE)
        return counts

    return live_month, census, count_by_firm


live_month_kernel, census_kernel, count_by_firm = _compile(_source_hash())
NO_DRAWS = np.empty((len(DRAWS), 0))


def live_month(model, draws=None):
    """One month of every active customer of `model`, fused; then those who leave leave (`model._leave`).

    `draws`: a table of pre-drawn numbers (rows DRAWS, one column per active customer in seat order), to
    replay the exact numbers `LoyaltyMarket.live_month` was given, in one pass; None draws from the model's
    generators, block by block (`blocks.each_block`).
    """
    p, book = model.people, model.ledger.month
    columns = (p.stage, p.firm, p.tier, p.good_fit, p.offer_fit, p.spend, p.cost_to_serve, p.price_sensitivity,
               p.quality_sensitivity, p.expectation, p.proneness, p.satisfaction, p.share_of_wallet, p.tenure,
               p.products, p.points, p.social, p.customization, p.structural, p.neglect, p.switching,
               p.voluntary_hazard, p.profit, p.profit_ema)
    shared = (*offer_table(model), market_settings(model.scenario), int(model.scenario["max_products"]),
              model.rival_table(), model.rivals_are_real and len(model.firm_book) > 1)
    if draws is not None:
        parts = [(0, live_month_kernel(*columns, *shared, model.rng, np.ascontiguousarray(draws, dtype=float)))]
    else:
        parts = each_block(len(p.stage), lambda block, rng: (
            block.start, live_month_kernel(*(column[block] for column in columns), *shared, rng, NO_DRAWS)), model.rng)
    leavers, exits, rivals = [], [], []
    for start, (revenue, cost, profit_by_tier, complaints, recovered, seats, way_out, rival) in parts:
        book["revenue"] += revenue
        book["cost"] += cost
        book["profit_by_tier"] += profit_by_tier
        book["complaints"] += int(complaints)
        book["recovered"] += int(recovered)
        leavers.append(seats + start)
        exits.append(way_out)
        rivals.append(rival)
    model._leave(np.concatenate(leavers), np.concatenate(exits), np.concatenate(rivals))


def census(model):
    """`census_kernel` over the model's people, block by block: the counts and sums of the monthly record."""
    p = model.people
    columns = (p.stage, p.firm, p.tier, p.satisfaction, p.expectation, p.switching, p.share_of_wallet, p.neglect,
               p.products, p.points, p.spend, p.social, p.customization, p.voluntary_hazard, p.price_sensitivity)
    shared = (np.asarray(model.firm_book.programme["lock_in"], dtype=float),
              float(model.scenario["competitive_intensity"]), len(model.firm_book))
    parts = each_block(len(p.stage), lambda block, _: census_kernel(*(column[block] for column in columns), *shared))
    return tuple(sum(counted[1:], counted[0]) for counted in zip(*parts))  # each count and sum, block after block


def warm_cache():
    """Compile the kernels on a tiny market (or load them from numba's cache), so that a model's first month does not."""
    from .model import LoyaltyMarket
    LoyaltyMarket("telecom", n_customers=20, seed=0).run(1)
    LoyaltyMarket("telecom", firms={"a": "balanced", "b": "neglect"}, n_customers=20, seed=0).run(1)

