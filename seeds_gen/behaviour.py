"""Behavioural simulation of one chunk of customers, fully vectorised.

Customers get latent traits; the traits set a latent churn time through a
proportional-hazards model (loyalty, engagement, satisfaction and purchase
frequency protect). Orders and visits are inhomogeneous Poisson processes
whose intensity is flat while the customer is engaged, falls linearly over a
"decay" period before the churn time (so frequency drops and gaps between
purchases lengthen), and then stops (orders) or fades out (visits). Events
are drawn by sampling uniform points of the cumulative intensity and mapping
them back to calendar time in closed form, so no per-row Python loop exists.

Times are float days since the generator's start date. Nothing here knows
about labels: churn is only observable through behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The simulation works in codes (indices into these tuples; the writer turns them
# into the strings). Order matters: status 0 is completed, 2 returned; event type
# 0 is enrolment, 1 an earn. Category columns must stay within the contract's
# accepted values (warehouse.contract.ACCEPTED_VALUES; a test checks).
SEGMENTS = ("value", "mainstream", "premium")
CHANNELS = ("organic", "paid_search", "social", "referral", "email")
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "ES")
ORDER_STATUSES = ("completed", "cancelled", "returned")
DEVICES = ("mobile", "desktop", "tablet", "app")
LOYALTY_EVENT_TYPES = ("enrolled", "earned", "redeemed", "expired")
TICKET_CATEGORIES = ("delivery", "product_quality", "payment", "account", "return_refund")

SEGMENT_ORDER_INTERVAL_DAYS = np.array([48.0, 36.0, 28.0])  # value, mainstream, premium
SEGMENT_AOV = np.array([42.0, 70.0, 135.0])
SEGMENT_SHARES = (0.35, 0.45, 0.20)
CHANNEL_SHARES = (0.32, 0.24, 0.18, 0.14, 0.12)
COUNTRY_SHARES = (0.40, 0.18, 0.14, 0.11, 0.09, 0.08)
DEVICE_SHARES = (0.48, 0.30, 0.07, 0.15)
TICKET_SHARES = (0.35, 0.25, 0.15, 0.15, 0.10)

PURCHASE_RATE_SIGMA = 0.55  # log-sd of the per-customer order rate
ENGAGEMENT_SIGMA = 0.5  # log-sd of the per-customer browsing multiplier


@dataclass(frozen=True)
class BehaviourConfig:
    """Knobs of the simulation. Effects are log hazard ratios per standard deviation
    of the trait (per membership for loyalty): positive means the trait protects."""

    annual_churn: float = 0.28  # P(churn within a year) for a reference customer
    loyalty_effect: float = 0.8
    engagement_effect: float = 0.45
    satisfaction_effect: float = 0.45
    frequency_effect: float = 0.35
    loyalty_share: float = 0.35
    decay_min_days: float = 45.0  # activity starts falling this long (or up to
    decay_max_days: float = 120.0  # this long) before the churn time
    decay_floor: float = 0.15  # activity at the churn time, relative to normal
    visit_fade_days: float = 30.0  # visits fade with this time constant after churn
    visits_per_order: float = 3.0  # browsing sessions per order, for an average customer
    welcome_order_share: float = 0.6  # share of customers ordering at sign-up


@dataclass
class Traits:
    """Latent state of a chunk of customers (float days since start)."""

    signup: np.ndarray
    segment: np.ndarray  # index into SEGMENTS
    channel: np.ndarray
    country: np.ndarray
    order_rate: np.ndarray  # orders per day while engaged
    engagement: np.ndarray  # browsing multiplier, median 1
    satisfaction: np.ndarray  # in (0, 1)
    price_sensitivity: np.ndarray
    is_loyalty_member: np.ndarray
    loyalty_enrolled: np.ndarray  # inf for non-members
    churn: np.ndarray  # latent churn time
    decay_days: np.ndarray
    aov: np.ndarray  # customer's typical order value
    p_cancel: np.ndarray
    p_return: np.ndarray

    @property
    def p_complete(self) -> np.ndarray:
        return 1.0 - self.p_cancel - self.p_return


def draw_traits(rng: np.random.Generator, n: int, horizon: float, cfg: BehaviourConfig) -> Traits:
    """Latent traits and churn times for n customers signing up within the horizon."""
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARES)
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_SHARES)
    # Slightly front-loaded sign-ups over the first 92% of the span.
    signup = horizon * 0.92 * rng.random(n) ** 1.15
    z_rate = rng.standard_normal(n)
    order_rate = np.exp(PURCHASE_RATE_SIGMA * z_rate) / SEGMENT_ORDER_INTERVAL_DAYS[segment]
    z_engagement = rng.standard_normal(n)
    engagement = np.exp(ENGAGEMENT_SIGMA * z_engagement)
    satisfaction = rng.beta(6.0, 2.5, size=n)
    z_satisfaction = (satisfaction - 6.0 / 8.5) / 0.15
    price_sensitivity = rng.beta(2.0, 3.0, size=n)
    is_member = rng.random(n) < cfg.loyalty_share
    enrolled = np.where(is_member, signup + rng.exponential(20.0, size=n), np.inf)

    base_hazard = -np.log1p(-cfg.annual_churn) / 365.0
    log_hazard = (
        -cfg.loyalty_effect * is_member
        - cfg.engagement_effect * z_engagement
        - cfg.satisfaction_effect * z_satisfaction
        - cfg.frequency_effect * z_rate
    )
    churn = signup + rng.exponential(size=n) / (base_hazard * np.exp(log_hazard))
    decay_days = rng.uniform(cfg.decay_min_days, cfg.decay_max_days, size=n)
    aov = SEGMENT_AOV[segment] * np.exp(0.35 * rng.standard_normal(n))
    p_cancel = 0.015 + 0.05 * (1.0 - satisfaction) * (0.5 + price_sensitivity)
    p_return = 0.02 + 0.14 * (1.0 - satisfaction)
    return Traits(
        signup=signup,
        segment=segment,
        channel=channel,
        country=country,
        order_rate=order_rate,
        engagement=engagement,
        satisfaction=satisfaction,
        price_sensitivity=price_sensitivity,
        is_loyalty_member=is_member,
        loyalty_enrolled=enrolled,
        churn=churn,
        decay_days=decay_days,
        aov=aov,
        p_cancel=p_cancel,
        p_return=p_return,
    )


@dataclass
class Intensity:
    """Piecewise intensity of one process per customer: `rate` from `start` until
    `churn - decay`, then falling linearly to `rate * floor` at `churn`, then
    `rate * floor * exp(-(t - churn) / fade)` (fade 0: nothing after churn)."""

    start: np.ndarray
    churn: np.ndarray
    decay: np.ndarray
    rate: np.ndarray
    floor: float
    fade: float

    def _phases(self, end: np.ndarray) -> tuple[np.ndarray, ...]:
        """Cumulative intensity of each phase over [start, end) and the phase bounds."""
        k = 1.0 - self.floor
        decay_start = self.churn - self.decay
        flat = np.clip(np.minimum(decay_start, end) - self.start, 0.0, None)
        x0 = np.clip(self.start - decay_start, 0.0, self.decay)
        x1 = np.clip(np.minimum(self.churn, end) - decay_start, x0, self.decay)
        g = lambda x: x - k * x * x / (2.0 * self.decay)  # noqa: E731 - integral of the ramp
        falling = g(x1) - g(x0)
        if self.fade > 0:
            y0 = np.clip(self.start - self.churn, 0.0, None)
            y1 = np.clip(end - self.churn, y0, None)
            fading = self.floor * self.fade * (np.exp(-y0 / self.fade) - np.exp(-y1 / self.fade))
        else:
            y0 = np.zeros_like(flat)
            fading = np.zeros_like(flat)
        return flat * self.rate, falling * self.rate, fading * self.rate, x0, y0

    def cumulative(self, end: np.ndarray | float) -> np.ndarray:
        """Expected number of events in [start, end)."""
        end = np.broadcast_to(np.asarray(end, dtype=float), self.start.shape)
        flat, falling, fading, _, _ = self._phases(end)
        return flat + falling + fading

    def sample(self, rng: np.random.Generator, end: float) -> tuple[np.ndarray, np.ndarray]:
        """Event times in [start, end): returns (customer index, time) arrays."""
        end_arr = np.full(self.start.shape, end, dtype=float)
        flat, falling, fading, x0, y0 = self._phases(end_arr)
        total = flat + falling + fading
        counts = rng.poisson(total)
        owner = np.repeat(np.arange(total.size), counts)
        u = rng.random(owner.size) * total[owner]  # uniform in cumulative-intensity units
        rate = self.rate[owner]
        in_flat = u < flat[owner]
        in_fade = u >= (flat + falling)[owner]
        times = self.start[owner] + u / rate
        # Ramp: invert x - k x^2 / (2D) = v for x in [0, D].
        k = 1.0 - self.floor
        decay = self.decay[owner]
        v = (u - flat[owner]) / rate + (x0 - k * x0 * x0 / (2.0 * self.decay))[owner]
        ramp_x = decay / k * (1.0 - np.sqrt(np.clip(1.0 - 2.0 * k * v / decay, 0.0, None)))
        decay_start = self.churn[owner] - decay
        times = np.where(in_flat, times, decay_start + ramp_x)
        if self.fade > 0:
            w = (u - (flat + falling)[owner]) / (rate * self.floor * self.fade)
            remaining = np.clip(np.exp(-y0[owner] / self.fade) - w, 1e-300, None)
            times = np.where(in_fade, self.churn[owner] - self.fade * np.log(remaining), times)
        return owner, np.minimum(times, np.nextafter(end, -np.inf))


def order_intensity(t: Traits, cfg: BehaviourConfig) -> Intensity:
    return Intensity(t.signup, t.churn, t.decay_days, t.order_rate, cfg.decay_floor, 0.0)


def visit_intensity(t: Traits, cfg: BehaviourConfig) -> Intensity:
    rate = t.order_rate * cfg.visits_per_order * t.engagement
    return Intensity(t.signup, t.churn, t.decay_days, rate, cfg.decay_floor, cfg.visit_fade_days)


def grouped_cumsum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum of values within runs of equal (sorted) owner."""
    total = np.cumsum(values)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    offsets = np.repeat(total[starts] - values[starts], np.diff(np.r_[starts, owner.size]))
    return total - offsets


def simulate(
    rng: np.random.Generator, traits: Traits, horizon: float, cfg: BehaviourConfig
) -> dict:
    """All event tables for one chunk, as dicts of numpy columns (times in days).

    Ids are chunk-local row numbers; foreign keys to customers are chunk-local
    customer indices. The writer turns both into global string ids.
    """
    # One stream of random numbers: the steps draw in this order, always, so the
    # same seed gives the same shop.
    orders = simulate_orders(rng, traits, horizon, cfg)
    visits = simulate_visits(rng, traits, orders, horizon, cfg)
    loyalty = simulate_loyalty(rng, traits, orders, horizon)
    reviews = simulate_reviews(rng, traits, orders, horizon)
    tickets = simulate_tickets(rng, traits, orders, horizon)
    return {
        "orders": orders,
        "site_visits": visits,
        "loyalty_events": loyalty,
        "reviews": reviews,
        "support_tickets": tickets,
    }


def simulate_orders(
    rng: np.random.Generator, traits: Traits, horizon: float, cfg: BehaviourConfig
) -> dict:
    """Welcome orders at sign-up plus the Poisson process, sorted by customer then
    time; status, value, items and discount follow the customer's traits."""
    owner, ordered = order_intensity(traits, cfg).sample(rng, horizon)
    welcome = np.flatnonzero(
        (rng.random(traits.signup.size) < cfg.welcome_order_share) & (traits.churn > traits.signup)
    )
    welcome_at = traits.signup[welcome] + rng.random(welcome.size) / 12.0  # within 2 hours
    owner = np.r_[owner, welcome]
    ordered = np.minimum(np.r_[ordered, welcome_at], np.nextafter(horizon, 0))
    order_sort = np.argsort(owner * (2.0 * horizon) + ordered)  # by customer, then time
    owner, ordered = owner[order_sort], ordered[order_sort]
    n_orders = owner.size
    u = rng.random(n_orders)
    status = np.where(
        u < traits.p_cancel[owner],
        1,
        np.where(u < (traits.p_cancel + traits.p_return)[owner], 2, 0),
    )
    value = np.round(traits.aov[owner] * np.exp(0.45 * rng.standard_normal(n_orders) - 0.1), 2)
    value = np.maximum(value, 3.0)
    items = 1 + rng.poisson(np.maximum(value / 35.0 - 0.7, 0.0))
    has_discount = rng.random(n_orders) < 0.08 + 0.45 * traits.price_sensitivity[owner]
    discount = np.where(has_discount, np.round(value * rng.uniform(0.05, 0.25, n_orders), 2), 0.0)
    return {
        "customer": owner,
        "at": ordered,
        "status": status,  # index into ORDER_STATUSES
        "order_value": value,
        "discount_amount": discount,
        "item_count": items,
    }


def simulate_visits(
    rng: np.random.Generator, traits: Traits, orders: dict, horizon: float, cfg: BehaviourConfig
) -> dict:
    """Browsing sessions plus one converting session just before each order."""
    owner, ordered = orders["customer"], orders["at"]
    n_orders = owner.size
    v_owner, visited = visit_intensity(traits, cfg).sample(rng, horizon)
    conv_at = np.maximum(ordered - rng.uniform(2, 40, n_orders) / 1440.0, traits.signup[owner])
    v_owner = np.r_[v_owner, owner]
    visited = np.r_[visited, conv_at]
    converting = np.r_[np.zeros(visited.size - n_orders, bool), np.ones(n_orders, bool)]
    pages = np.where(
        converting,
        3 + rng.poisson(4.0, visited.size),
        1 + rng.poisson(1.5 * np.sqrt(traits.engagement[v_owner])),
    )
    seconds = np.round(pages * 45.0 * np.exp(0.6 * rng.standard_normal(visited.size))).astype(
        np.int64
    )
    return {
        "customer": v_owner,
        "at": visited,
        "page_views": pages,
        "session_seconds": np.maximum(seconds, 5),
        "device": rng.choice(len(DEVICES), size=visited.size, p=DEVICE_SHARES),
    }


def simulate_reviews(
    rng: np.random.Generator, traits: Traits, orders: dict, horizon: float
) -> dict:
    """Reviews of some completed or returned orders; ratings reflect satisfaction."""
    owner, ordered, status = orders["customer"], orders["at"], orders["status"]
    reviewable = np.flatnonzero((status != 1) & (rng.random(owner.size) < 0.22))
    reviewed_at = ordered[reviewable] + 2.0 + rng.exponential(6.0, reviewable.size)
    keep = reviewed_at < horizon
    reviewable, reviewed_at = reviewable[keep], reviewed_at[keep]
    r_owner = owner[reviewable]
    raw_rating = (
        0.9
        + 4.4 * traits.satisfaction[r_owner]
        + 0.8 * rng.standard_normal(reviewable.size)
        - 1.6 * (status[reviewable] == 2)
    )
    return {
        "customer": r_owner,
        "order": reviewable,  # chunk-local order row
        "at": reviewed_at,
        "rating": np.clip(np.rint(raw_rating), 1, 5).astype(np.int64),
    }


def simulate_tickets(
    rng: np.random.Generator, traits: Traits, orders: dict, horizon: float
) -> dict:
    """Support tickets: more likely for dissatisfied customers and for returns."""
    owner, ordered, status = orders["customer"], orders["at"], orders["status"]
    p_ticket = np.where(status == 2, 0.45, 0.02 + 0.10 * (1.0 - traits.satisfaction[owner]))
    ticketed = np.flatnonzero(rng.random(owner.size) < p_ticket)
    opened_at = ordered[ticketed] + 0.5 + rng.exponential(4.0, ticketed.size)
    keep = opened_at < horizon
    ticketed, opened_at = ticketed[keep], opened_at[keep]
    category = rng.choice(len(TICKET_CATEGORIES), size=ticketed.size, p=TICKET_SHARES)
    category = np.where(status[ticketed] == 2, TICKET_CATEGORIES.index("return_refund"), category)
    return {"customer": owner[ticketed], "at": opened_at, "category": category}


def simulate_loyalty(
    rng: np.random.Generator, traits: Traits, orders: dict, horizon: float
) -> dict:
    """Enrolment, points earned on completed orders, redemptions and expiry.

    A redemption spends half of what was earned since the previous redemption,
    so balances never go negative; points expire a year after the last order.
    """
    owner, at, status = orders["customer"], orders["at"], orders["status"]
    enrolled = traits.loyalty_enrolled
    members = np.flatnonzero(enrolled < horizon)

    earns = (at >= enrolled[owner]) & (status == 0)
    earn_idx = np.flatnonzero(earns)
    e_owner = owner[earn_idx]
    points = np.floor(orders["order_value"][earn_idx]).astype(np.int64)
    credited = at[earn_idx] + 2.0  # points are credited two days after the order
    cum_earned = grouped_cumsum(points, e_owner)

    # Redeem on some later orders: half of the points earned since the previous redemption.
    redeem = rng.random(earn_idx.size) < 0.12 + 0.25 * traits.price_sensitivity[e_owner]
    first = np.r_[True, e_owner[1:] != e_owner[:-1]]
    redeem &= ~first
    earned_before = cum_earned - points
    # Each customer's first earn is a mark with nothing before it, so the
    # previous mark of a redemption is always the same customer's.
    prev = _previous_mark(redeem | first)
    redeemed_points = np.where(redeem, (earned_before - earned_before[prev]) // 2, 0)
    redeem &= redeemed_points >= 50
    r_sel = np.flatnonzero(redeem)

    # Expiry: a year after the customer's last order, the remaining balance lapses.
    last_order = np.full(traits.signup.size, -np.inf)
    np.maximum.at(last_order, owner, at)
    total_earned = np.bincount(e_owner, weights=points, minlength=traits.signup.size)
    total_redeemed = np.bincount(
        e_owner[r_sel], weights=redeemed_points[r_sel], minlength=traits.signup.size
    )
    balance = (total_earned - total_redeemed).astype(np.int64)
    expire_at = last_order + 365.0
    expiring = np.flatnonzero((expire_at < horizon) & (balance > 0))

    customer = np.r_[members, e_owner, e_owner[r_sel], expiring]
    # Redemptions happen when that order's points are credited, after every earlier credit.
    event_at = np.r_[enrolled[members], credited, credited[r_sel], expire_at[expiring]]
    event_type = np.r_[
        np.zeros(members.size, np.int64),
        np.ones(earn_idx.size, np.int64),
        np.full(r_sel.size, 2),
        np.full(expiring.size, 3),
    ]
    # Points are magnitudes; the event type gives their direction.
    pts = np.r_[np.zeros(members.size, np.int64), points, redeemed_points[r_sel], balance[expiring]]
    keep = event_at < horizon
    return {
        "customer": customer[keep],
        "at": event_at[keep],
        "event_type": event_type[keep],  # index into LOYALTY_EVENT_TYPES
        "points": pts[keep],
    }


def _previous_mark(marks: np.ndarray) -> np.ndarray:
    """For each position, the index of the latest marked position strictly before it."""
    idx = np.where(marks, np.arange(marks.size), 0)
    running = np.maximum.accumulate(idx)
    return np.r_[0, running[:-1]]
