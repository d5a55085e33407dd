"""How a simulated customer behaves, one small pure function per rule.

Every rule takes plain numbers or numpy arrays alike and returns the same shape, so the model applies
them to the whole customer base at once and a learner can call them on a single customer. The fast
engine (`kernel.py`) compiles these same functions with numba and calls them one customer at a time, so
they keep to arithmetic and numpy's element-wise functions (`np.minimum`, `np.exp`, ...): a rule written
with `np.where`, `np.select` or `np.clip` would not compile for single numbers. Each
docstring names the literature the rule stands on; the functional forms and constants are our own
modelling choices, kept simple enough to read and test.

A probability returned by any rule lies in [0, 1]; the tests check this for every rule.
"""

from __future__ import annotations

import numpy as np

# Codes used in the state arrays. The order of the ladder is Griffin's (1995).
STAGES = ("suspect", "prospect", "disqualified", "first_time", "repeat", "client", "advocate", "lost")
SUSPECT, PROSPECT, DISQUALIFIED, FIRST_TIME, REPEAT, CLIENT, ADVOCATE, LOST = range(len(STAGES))
ACTIVE_STAGES = (FIRST_TIME, REPEAT, CLIENT, ADVOCATE)

TIERS = ("platinum", "gold", "iron", "lead")
PLATINUM, GOLD, IRON, LEAD = range(len(TIERS))

CHURN_CAUSES = ("death", "moved", "other_relationships", "competitor", "product", "indifference")

DICK_BASU_TYPES = ("true", "latent", "spurious", "none")
QUADRANTS = ("apostle", "mercenary", "hostage", "defector")
LOYALTY_MOTIVES = ("no_choice", "false", "latent", "benefit", "incentive", "brand", "super_value")

# What each kind of loyalty programme does (our assumptions, discussed in the bonding chapter):
#   lock_in: how strongly a points balance ties the member (coalition points can be spent elsewhere);
#   value: how much members value a unit of reward (coalitions offer wider choice);
#   overhead: running cost per member relative to a standalone scheme (partners share it);
#   social: how much the programme itself builds a social bond (clubs do, points do not).
PROGRAMMES = {
    "none": dict(lock_in=0.0, value=0.0, overhead=0.0, social=0.0),
    "standalone_points": dict(lock_in=1.0, value=1.0, overhead=1.0, social=0.0),
    "coalition_points": dict(lock_in=0.4, value=1.3, overhead=0.5, social=0.0),
    "cobranded_card": dict(lock_in=0.7, value=1.1, overhead=0.3, social=0.0),
    "membership_club": dict(lock_in=0.6, value=0.9, overhead=1.5, social=0.5),
}


def clip01(x):
    """Clamp a number or array to [0, 1]."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def pick(condition, value, otherwise):
    """`value` where `condition` holds, else `otherwise` (whole numbers): `np.where` for numbers and arrays alike."""
    return otherwise + condition * (value - otherwise)


def felt_level(level, knee=0.6):
    """How much of a lever's level customers actually feel: fully up to `knee`, then less and less.

    Positive performance has diminishing returns on satisfaction while shortfalls hurt fully (Mittal,
    Ross & Baldasare 1998; Anderson & Mittal 2000; the 'return on quality' of Rust, Zahorik & Keiningham
    1995 peaks before perfection). Above the knee the curve bends (a quadratic that is flat at 1), so
    white-glove service (1.0) feels like 0.8 while it costs the most.
    """
    over = np.maximum(level - knee, 0.0)
    return level - over ** 2 / (2.0 * (1.0 - knee))


def perceived_quality(service_level, product_quality, frontline_care, quality_sensitivity, noise=0.0):
    """What a customer gets in a month, on the 0-1 scale of expectations.

    Technical quality (the product) and functional quality (how it is delivered: the tier's service
    level and the frontline's care) both count, weighted by how much this customer cares about the
    product itself (Grönroos 1984; Parasuraman, Zeithaml & Berry 1988). Each lever is felt with
    diminishing returns above its middle (`felt_level`). `noise` is the month's luck.
    """
    delivery = 0.6 * felt_level(service_level) + 0.4 * felt_level(frontline_care)
    return clip01(quality_sensitivity * felt_level(product_quality) + (1 - quality_sensitivity) * delivery + noise)


def contact_fatigue(staying_in_touch, cross_sell, tolerance=0.5, penalty=0.15):
    """How much outbound contact beyond what customers welcome takes off the value they perceive (0 to `penalty`).

    Relational communication has an inverted-U effect: some contact brings customers back, too much is
    intrusive and lowers repurchase (Godfrey, Seiders & Voss 2011; Fournier, Dobscha & Mick 1998 on
    relationship marketing that overwhelms). Thank-you notes and check-ins count with sales calls:
    contact is the mean of staying in touch and cross-selling effort; beyond `tolerance` the annoyance
    grows with the square of the excess.
    """
    contact = 0.5 * (staying_in_touch + cross_sell)
    excess = np.maximum(contact - tolerance, 0.0) / (1.0 - tolerance)
    return penalty * excess ** 2


def perceived_value(quality, price_index, price_sensitivity, reward_value=0.0, annoyance=0.0):
    """Quality net of price, plus what rewards give back (Zeithaml 1988: value is what you get for what you give).

    A price above the market (price_index > 1) subtracts in proportion to the customer's price
    sensitivity; a loyalty reward adds its perceived value; `annoyance` (see `contact_fatigue`) subtracts.
    """
    return clip01(quality - 0.6 * price_sensitivity * (price_index - 1.0) + reward_value - annoyance)


def transaction_satisfaction(perceived, expectation, steepness=10.0, met_bonus=1.0):
    """Satisfaction with this month's experience from expectation-disconfirmation (Oliver 1980).

    Above expectations delights, below disappoints, with a logistic curve; merely meeting
    expectations gives about 0.73 (`met_bonus` shifts the curve), not delight.
    """
    return 1.0 / (1.0 + np.exp(-(steepness * (perceived - expectation) + met_bonus)))


def cumulative_satisfaction(previous, transaction, memory=0.8):
    """Overall satisfaction as a running evaluation of all experiences so far (Anderson, Fornell & Lehmann 1994).

    `memory` is the weight on the past: one bad month dents a long good history, it does not erase it.
    """
    return clip01(memory * previous + (1 - memory) * transaction)


def adapt_expectation(expectation, perceived, competitor_standard, competitive_intensity,
                      experience_weight=0.03, competitor_weight=0.05):
    """Expectations keep moving (Zeithaml, Berry & Parasuraman 1993; Oliver 1980).

    Each month they drift toward what the customer has been getting (adaptation to experience) and
    toward what rivals offer, in proportion to competitive intensity. What other people say acts
    through `praised_expectation` and `warned_satisfaction`.
    """
    moved = (expectation + experience_weight * (perceived - expectation)
             + competitor_weight * competitive_intensity * (competitor_standard - expectation))
    return clip01(moved)


def praised_expectation(expectation, lift=0.05):
    """A prospect referred by an advocate arrives expecting more: praise raises expectations.

    Word of mouth is one of the sources of expectations (Zeithaml, Berry & Parasuraman 1993).
    """
    return clip01(expectation + lift)


def warned_satisfaction(satisfaction, drop=0.03):
    """A customer warned off by a very unhappy neighbour grows a little less satisfied (Anderson 1998)."""
    return clip01(satisfaction - drop)


def complaint_probability(perceived, expectation, propensity=0.5):
    """Chance that a disappointed customer voices a complaint this month.

    Most dissatisfied customers never complain; they exit or stay silent (Hirschman 1970; TARP's
    complaint studies for the US Office of Consumer Affairs, 1979 and 1986). Voice grows with the
    size of the disappointment.
    """
    return clip01(propensity * clip01(4.0 * (expectation - perceived)))


def recovery_probability(feedback_channel, frontline_care):
    """Chance that a voiced complaint is heard and resolved well.

    A channel must exist (feedback page, phone agents, timely answers) and the people behind it must
    treat the customer fairly (Tax, Brown & Chandrashekaran 1998; Smith, Bolton & Wagner 1999).
    """
    return clip01(0.95 * feedback_channel * (0.4 + 0.6 * frontline_care))


def satisfaction_after_complaint(satisfaction, recovered, lift=0.12, drop=0.06):
    """Good recovery restores satisfaction; an unanswered complaint deepens the damage.

    A failed recovery is a 'double deviation' (Bitner, Booms & Tetreault 1990). `recovered` is a boolean
    (or boolean array) for customers who complained.
    """
    return clip01(satisfaction + recovered * lift * (1 - satisfaction) - (1 - recovered) * drop)


def update_neglect(neglect, frontline_care, staying_in_touch, unanswered_complaint, speed=0.2):
    """Perceived indifference: the feeling that the firm does not care.

    It moves toward (1 - attention)^2, where attention is care at contacts plus staying in touch, and
    jumps when a complaint goes unanswered. This is our modelling of the 'indifference' that the
    popular 68% figure names; that figure has no known primary source (see the chapter on why
    customers leave).
    """
    attention = 0.5 * frontline_care + 0.5 * staying_in_touch
    target = clip01((1 - attention) ** 2 + 0.5 * unanswered_complaint)
    return clip01(neglect + speed * (target - neglect))


def grow_bond(bond, investment, build=0.10, decay=0.04):
    """A social, customization or structural bond grows with investment and decays without upkeep.

    Berry & Parasuraman (1991) describe three levels of relationship bonds (financial, social,
    structural); customization bonds follow Lovelock & Wirtz. Steady state: build*i / (build*i + decay*(1-i)).
    """
    return clip01(bond + build * investment * (1 - bond) - decay * (1 - investment) * bond)


def cross_sell_probability(cross_sell, satisfaction, products, max_products, base=0.06):
    """Monthly chance that a customer takes one more product.

    Cross-selling needs effort and a receptive customer (Kamakura et al. 2003); we let satisfaction
    stand for receptiveness, a simplification: Verhoef, Franses & Hoekstra (2001) found relationship
    length and payment equity mattered more than satisfaction. Nothing is left to sell once every
    product is held.
    """
    room = products < max_products
    return clip01(base * cross_sell * satisfaction * 2.0 * room)


def points_bond(points, monthly_spend, lock_in):
    """Financial bond of an unspent points balance: leaving forfeits it (Berry & Parasuraman 1991, level one).

    Grows with the balance relative to a month's spend and saturates; `lock_in` is the programme kind's.
    Sharp & Sharp (1997) found such programmes shift behaviour only modestly, hence the ceiling.
    """
    return clip01(lock_in * 0.5 * points / (points + monthly_spend + 1e-9))


def tenure_bond(tenure, deepening):
    """The tie that time alone builds: habit, trust and know-how deepen with tenure, whatever the firm invests.

    Relationships develop from exploration to commitment (Dwyer, Schurr & Oh 1987); the longer a customer has
    stayed, the more their own history with the firm weighs against a single bad month (Bolton 1998). Retention
    data show it: once customers' lasting differences are allowed for, each customer's own churn still falls with
    tenure (negative duration dependence; Fader, Hardie, Liu, Davin & Steenburgh 2018). We take their discrete
    Weibull's form: after `tenure` months the tie lets through (1 + years)^-deepening of a rival's pull, so it
    keeps deepening, ever more slowly, and never holds a customer entirely. `deepening` is scenario data
    (0 = no such tie). A relational switching cost (Burnham, Frels & Mahajan 2003), one part of `switching_cost`.
    """
    return clip01(1.0 - (1.0 + tenure / 12.0) ** -deepening)


def contract_tie(lock_in, tenure, term_months):
    """The part of a contract's `lock_in` that still ties a customer after `tenure` months: all of it, then none.

    Early-termination fees make leaving costly while a contract runs; once its term is over the customer may go
    at no cost, and leavers gather where terms end (a financial switching cost of Burnham, Frels & Mahajan
    2003). `term_months` is scenario data: 0 is a tie that never lapses (contracts that renew themselves, or
    the lasting procedural costs of a direct debit), as in the built-in markets.
    """
    return pick((term_months == 0) | (tenure < term_months), lock_in, 0.0)


def switching_cost(products, max_products, points_bond_value, social, customization, structural, contract,
                   tenure_tie=0.0):
    """Share of a rival's pull that the customer's ties absorb, in [0, 1).

    Switching costs are procedural, financial and relational (Burnham, Frels & Mahajan 2003): products
    held and structural ties make leaving laborious, points and contracts make it costly, social and
    customization bonds make it painful, and so does the tie of a long tenure (`tenure_bond`). Parts combine
    as 1 - prod(1 - part), so each helps with diminishing returns and the total never reaches one.
    """
    extra_products = (products - 1) / max(max_products - 1, 1)
    parts = (0.4 * extra_products, points_bond_value, 0.3 * social, 0.35 * customization, 0.45 * structural,
             0.8 * contract, tenure_tie)
    kept = 1.0
    for part in parts:
        kept = kept * (1 - clip01(part))
    return clip01(1 - kept)


PRICE_RESPONSE = 2.5  # spend elasticity at the market price is 2.5 x price sensitivity (see `price_response`)


def price_response(price_sensitivity, price_index):
    """How a price away from the market's scales the spend (or custom) a customer gives the firm.

    Linear around the market price, with elasticity `PRICE_RESPONSE` x price sensitivity there: an
    average customer (0.5) has elasticity 1.25, the most price-sensitive 2.5. Bijmolt, van Heerde &
    Pieters' (2005) meta-analysis of 1,851 elasticities gives a mean of -2.62 for brands of packaged
    goods, where switching is free; the model's customers also leave over price (through perceived
    value), so the spend response here is set lower. Never below zero.
    """
    return np.maximum(1.0 - PRICE_RESPONSE * price_sensitivity * (price_index - 1.0), 0.0)


def share_of_wallet_target(satisfaction, lock_in, price_sensitivity, price_index, floor=0.3):
    """Share of the category spend a customer gives this firm, toward which their actual share drifts.

    Highly satisfied customers consolidate their purchases with one supplier (Jones & Sasser 1995;
    Keiningham, Perkins-Munn & Evans 2003 find the link non-linear); programmes pull spend in; a
    price above the market pushes price-sensitive spend out (`price_response`).
    """
    pulled = floor + (1 - floor) * (0.8 * satisfaction ** 2 + 0.2 * lock_in)
    return clip01(pulled * price_response(price_sensitivity, price_index))


def repeat_purchase_probability(satisfaction, staying_in_touch, frontline_care, base=0.4):
    """Monthly chance that a first-time customer comes back (Griffin 1995).

    Thanking customers and staying in touch bring them back, provided the first visit satisfied.
    """
    return clip01(base * satisfaction * (0.5 + 0.25 * staying_in_touch + 0.25 * frontline_care) * 2.0)


def ladder_step(stage, satisfaction, products, tenure, bought_again, advocate_threshold=0.85, client_tenure=12,
                client_satisfaction=0.6):
    """The next rung of the loyalty ladder for active customers (Griffin 1995; Christopher, Payne & Ballantyne 1991).

    first-time -> repeat when they buy again; repeat -> client when satisfied (`client_satisfaction`)
    and either cross-sold a second product or a customer for `client_tenure` months; client ->
    advocate when highly satisfied. Going down: an advocate whose satisfaction falls back is a client
    again, and a client who is no longer satisfied (0.1 below the bar) is merely a repeat customer:
    Griffin's client has a strong, positive relationship, not just a long one. Other stages are
    returned unchanged.
    """
    up_to_client = (satisfaction >= client_satisfaction) & ((products >= 2) | (tenure >= client_tenure))
    # the rungs are consecutive codes, and at most one of these holds for anyone: a step is one rung up or down
    up = (((stage == FIRST_TIME) & bought_again) | ((stage == REPEAT) & up_to_client)
          | ((stage == CLIENT) & (satisfaction >= advocate_threshold)))
    down = (((stage == CLIENT) & (satisfaction < client_satisfaction - 0.1))
            | ((stage == ADVOCATE) & (satisfaction < advocate_threshold - 0.1)))
    return stage + up - down


def churn_proneness(rng, shape, n):
    """Each person's lasting proneness to leave: a Gamma-distributed multiplier of their exit hazards, mean 1.

    Customers differ in lasting ways: some are loyal by disposition, some restless. Under such
    heterogeneity a cohort sorts itself: the prone leave early, and retention rises with tenure even
    though nobody's own hazard falls (Fader & Hardie 2007's shifted-beta-geometric model; the
    'mover-stayer' model of Blumen, Kogan & McCarthy 1955). A smaller `shape` means more polarized
    customers (variance 1/shape); `shape` is scenario data. `rng` is the model's generator.
    """
    return rng.gamma(shape, 1.0 / shape, n)


def survivor_proneness(rng, shape, n, months_survived, hazard_scale=1 / 24):
    """Proneness of people who have already stayed `months_survived` months (the starting base).

    If a person's hazard is proneness x `hazard_scale`, the survivors of T months have proneness
    Gamma(shape, rate shape + hazard_scale * T): long-standing customers are the less prone ones. The
    default scale matches the starting base's tenures, drawn with a mean of 24 months.
    """
    rate = shape + hazard_scale * np.asarray(months_survived, dtype=float)
    return rng.gamma(shape, 1.0, n) / rate


def rival_exposure(competitive_intensity, satisfaction, lure_rate, search_rate, proneness=1.0):
    """Monthly chance that a customer weighs a rival's offer seriously.

    Two routes, both in proportion to competitive intensity: rivals' advertising catches the eye of
    restless customers more often (`lure_rate` x `proneness`), and a dissatisfied customer searches
    actively, the more the unhappier, whatever their disposition (`search_rate`; Hirschman 1970: exit
    follows dissatisfaction where alternatives exist; Keaveney 1995 on what triggers switching).
    """
    unhappiness = (1.0 - satisfaction) ** 3
    return clip01(competitive_intensity * (lure_rate * proneness + search_rate * unhappiness))


def rival_preference(satisfaction, expectation, rival_value, spread=0.03):
    """Chance that the rival offer a customer meets would satisfy them more than their own firm does.

    Rivals' offers vary around `rival_value` (a logistic spread, in value units). The customer asks how
    satisfied that offer would leave them, by the same expectation-disconfirmation curve as
    `transaction_satisfaction`, and compares it with how they feel now. A merely satisfied customer
    often meets a better offer; a completely satisfied one rarely does. This is where Jones & Sasser's
    (1995) zone of affection comes from: no threshold, only the distribution of rivals' offers.
    """
    bounded = np.minimum(np.maximum(satisfaction, 1e-6), 1 - 1e-6)
    feels = np.log(bounded / (1 - bounded))
    rival_feels = 10.0 * (rival_value - expectation) + 1.0  # the logit of transaction_satisfaction
    return 1.0 / (1.0 + np.exp(-(rival_feels - feels) / (10.0 * spread)))


def market_openness(competitive_intensity, floor=0.1):
    """How easily an unhappy customer can go elsewhere: a small `floor` even in a monopoly (go without)."""
    return floor + (1 - floor) * competitive_intensity


def hazard_competitor(exposure, preference, switching):
    """Monthly chance of leaving for a rival (Jones & Sasser 1995; Reichheld 1996).

    The customer must meet a rival's offer (`rival_exposure`), prefer it (`rival_preference`), and
    get past the ties that hold them: switching costs absorb that share of the pull.
    """
    return clip01(exposure * preference * (1 - switching))


def reasons_for_searching(product_gap, neglect, nothing_to_blame=0.1):
    """Why a customer who searched because they were unhappy says they left: (product, indifference, competitor) shares.

    Customers who switch name what went wrong, not the rival who caught them: in Keaveney's (1995)
    study of service switching, core-service and service-encounter failures were the most cited
    reasons and competitors' offers among the least. So an exit that active search set off is put
    down to the product's shortfall (`product_gap`, see `product_disappointment`) and to the firm's
    perceived indifference (`neglect`), weighted as their own hazards weigh them (the gap linearly,
    neglect squared: a little inattention is forgiven); what is left (`nothing_to_blame`) goes to the
    rival's better offer. The three shares sum to one.
    """
    felt_neglect = neglect ** 2
    total = product_gap + felt_neglect + nothing_to_blame
    return product_gap / total, felt_neglect / total, nothing_to_blame / total


def product_disappointment(product_quality, expectation):
    """How far the core product falls short of what the customer expects, in [0, 1]."""
    return clip01(2.5 * (expectation - product_quality))


def hazard_product(disappointment, competitive_intensity, switching, product_churn_rate, proneness=1.0):
    """Monthly chance of leaving because the product or service itself disappoints.

    Disappointed customers leave if they can: in a near-monopoly they mostly stay as hostages
    (Jones & Sasser 1995).
    """
    return clip01(product_churn_rate * disappointment * market_openness(competitive_intensity) * (1 - switching) * proneness)


def hazard_indifference(neglect, competitive_intensity, switching, indifference_rate, proneness=1.0):
    """Monthly chance of drifting away because the firm seems not to care.

    Convex in neglect: a little inattention is forgiven, a firm that never listens is left.
    """
    return clip01(indifference_rate * neglect ** 2 * market_openness(competitive_intensity) * (1 - switching) * proneness)


def hazard_other_relationships(good_fit, other_relationships_rate, proneness=1.0):
    """Monthly chance that needs end or another relationship takes over; three times higher for poor fits.

    Customers who never fitted the offer (Griffin's disqualified prospects who were acquired anyway)
    drift off for reasons no service fixes; restless people (`proneness`) change habits more often.
    """
    return clip01(other_relationships_rate * (3.0 - 2.0 * good_fit) * proneness)


def hazard_moving(move_rate, proneness=1.0):
    """Monthly chance of moving out of the firm's reach.

    Residential mobility is a lasting trait: some households move often, most rarely (the mover-stayer
    model of Blumen, Kogan & McCarthy 1955; Goodman 1961), so the same `proneness` scales it.
    """
    return clip01(move_rate * proneness)


def total_hazard(*hazards):
    """Probability of leaving for any cause, treating causes as independent competing risks."""
    stay = 1.0
    for h in hazards:
        stay = stay * (1 - h)
    return clip01(1 - stay)


def choose_cause(hazards, u_leave, u_cause):
    """Draw who leaves and why, as competing risks.

    Args:
        hazards: sequence of per-cause monthly probabilities (numbers or arrays), in CHURN_CAUSES order.
        u_leave, u_cause: uniform draws in [0, 1), a number or an array each.

    Returns:
        Index of the cause in CHURN_CAUSES for each customer, or -1 for those who stay
        (an int for scalar draws, an integer array otherwise).
    """
    scalar = np.ndim(u_leave) == 0
    u_leave = np.atleast_1d(u_leave)
    u_cause = np.minimum(np.atleast_1d(u_cause), 1 - 1e-12)  # a draw of exactly 1 still lands on a cause that has a hazard
    stacked = np.vstack([np.broadcast_to(h, u_leave.shape) for h in hazards])
    share = np.cumsum(stacked, axis=0) / np.maximum(stacked.sum(axis=0), 1e-12)
    cause = np.minimum((u_cause[None, :] >= share).sum(axis=0), len(hazards) - 1)
    chosen = np.where(u_leave < total_hazard(*stacked), cause, -1)
    return int(chosen[0]) if scalar else chosen


def recommend_score(satisfaction):
    """Likelihood to recommend on the 0-10 scale of the Net Promoter question (Reichheld 2003).

    Respondents are a little generous: a customer whose expectations are just met (satisfaction about
    0.73) answers 8, a passive; promoters (9-10) need satisfaction of 0.8 or more, detractors (0-6) are below 0.6.
    """
    return np.minimum(np.maximum(np.floor(10.0 * satisfaction + 1.0), 0), 10)


def net_promoter_score(scores):
    """Promoters (9-10) minus detractors (0-6), in percent, from -100 to 100 (Reichheld 2003)."""
    scores = np.asarray(scores)
    if scores.size == 0:
        return 0.0
    return float(100.0 * ((scores >= 9).mean() - (scores <= 6).mean()))


def relative_attitude(satisfaction, social, customization):
    """Attitude toward the firm relative to rivals: satisfaction plus emotional ties (Dick & Basu 1994)."""
    return clip01(0.75 * satisfaction + 0.125 * social + 0.125 * customization)


def dick_basu_type(attitude, patronage, high_attitude=0.55, high_patronage=0.7):
    """Dick & Basu's (1994) loyalty matrix: relative attitude x repeat patronage.

    Returns indices into DICK_BASU_TYPES: true loyalty (high, high), latent (high attitude, low
    patronage), spurious (low attitude, high patronage), none (low, low).
    """
    low_att, low_pat = attitude < high_attitude, patronage < high_patronage
    return np.int8(2) * low_att + low_pat  # the codes are the two answers as bits: cheap every month


def jones_sasser_quadrant(satisfaction, stay_probability, satisfied=0.7, loyal=0.5):
    """Jones & Sasser's (1995) satisfaction x loyalty quadrants, as indices into QUADRANTS.

    Apostles are satisfied and stay, mercenaries are satisfied but leave for a better deal, hostages
    are dissatisfied but stuck, defectors are dissatisfied and go. `stay_probability` is the chance of
    not leaving of one's own accord over the next twelve months; 'staying' means more likely to stay
    the year than to leave it, so the share who leave fits the retention rate.
    """
    unsatisfied, leaves = satisfaction < satisfied, stay_probability < loyal
    return np.int8(2) * unsatisfied + leaves  # the codes are the two answers as bits: cheap every month


def loyalty_motive(attitude, patronage, satisfaction, competitive_intensity, switching, points_bond_value,
                   price_sensitivity, emotional_bond):
    """What holds a customer, in the seven loyalty types of the course notes, as indices into LOYALTY_MOTIVES.

    no-choice (nowhere else to go), false (held by switching costs, not by liking), latent (likes but buys
    little), benefit (comes for the price), incentive (comes for the rewards), brand (likes and buys),
    super-value (devoted: delighted and emotionally bonded). Checked in that order of precedence.
    """
    high_att, high_pat = attitude >= 0.55, patronage >= 0.7
    devoted = (satisfaction >= 0.85) & (emotional_bond >= 0.4)
    # from the last in precedence to the first, so that the first that holds has the last word
    motive = pick(price_sensitivity >= 0.6, 3, 1)
    motive = pick(switching >= 0.3, 1, motive)
    motive = pick(points_bond_value >= 0.15, 4, motive)
    motive = pick(competitive_intensity < 0.25, 0, motive)
    motive = pick(high_att, 2, motive)
    motive = pick(high_att & high_pat, 5, motive)
    return pick(devoted & high_pat, 6, motive)


def cost_per_contact(contact_cost, budget, targeting_precision):
    """What reaching one more suspect costs a campaign of size `budget` (0-1) with a given targeting precision.

    Advertising has diminishing returns: a campaign reaches its cheapest, most receptive audiences first
    and each further contact costs more (Simon & Arndt 1980). The cost per contact grows
    with the budget (half the base price for a tiny campaign, the base price at the default half budget,
    one and a half times it at full budget); finer targeting costs up to a quarter more.
    """
    return contact_cost * (0.5 + np.asarray(budget)) * (0.75 + 0.5 * np.asarray(targeting_precision))


def lever_cost(level, unit_cost):
    """Monthly cost of a lever set to `level` (0-1): the square makes the last points of quality dearest."""
    return unit_cost * level ** 2


def customer_lifetime_value(monthly_margin, monthly_retention, monthly_discount=0.01):
    """Expected discounted margin of a customer (Gupta, Lehmann & Stuart 2004): m * r / (1 + d - r) per month."""
    return monthly_margin * monthly_retention / (1.0 + monthly_discount - monthly_retention)
