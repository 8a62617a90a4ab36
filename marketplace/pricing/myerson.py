"""Myerson's optimal reserve price for a known distribution of buyers' values.

R. B. Myerson, "Optimal Auction Design", Mathematics of Operations Research 6(1), 1981, §6 (the
optimal auction with a regular value distribution): the seller's expected revenue equals the
expected *virtual value* of the winner, ``φ(v) = v − (1 − F(v)) / f(v)``, so the optimal
auction sells to the highest bidder whose virtual value covers the seller's own value ``c`` of
keeping the good, here its unit cost. With independent, identically distributed values this
is a second-price auction with the reserve ``r*`` solving ``φ(r*) = c``; the reserve does not
depend on the number of bidders (J. G. Riley & W. F. Samuelson, "Optimal Auctions", American
Economic Review 71(3), 1981, §II, who derived the same reserve for the standard auctions).

Known answers (derived in the tests): values uniform on ``[a, b]`` give ``φ(v) = 2v − b``, so
``r* = max(a, (b + c) / 2)``: for ``[0, 1]`` and ``c = 0``, ``r* = ½``. Exponential values of
mean ``m`` have a constant inverse hazard ``(1 − F)/f = m``, so ``φ(v) = v − m`` and
``r* = m + c``.

The rule needs ``φ`` increasing (a *regular* distribution). Where it is not, Myerson's optimal
auction irons ``φ`` and is no longer a second-price auction with one reserve, so
:func:`myerson_reserve` refuses such a distribution (a log-normal with σ ≳ 1.6 and a U-shaped
beta are irregular) instead of returning a reserve that is not optimal. Values come as the
scenario's distributions (:mod:`marketplace.distributions`), in fen; the densities are
scipy's. The reserve is a float here: the mechanism rounds it up to whole fen.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from marketplace.distributions import (
    Beta,
    Distribution,
    Exponential,
    LogNormal,
    Triangular,
    Uniform,
)
from marketplace.errors import MarketError

if TYPE_CHECKING:
    from scipy.stats._distn_infrastructure import rv_continuous_frozen

    Law: TypeAlias = rv_continuous_frozen[Any, Any]

__all__ = ["check_regular", "myerson_reserve", "value_law", "virtual_value"]

#: The regularity check looks at the virtual value between these quantiles, on this many points;
#: a dip anywhere in between makes the distribution irregular.
_TAIL = 1e-6
_GRID = 4_001
#: Numerical slack of the check, relative to the largest |φ| on the grid.
_SLACK = 1e-9


def value_law(value: Distribution) -> Law:
    """The scipy distribution of ``value`` (a frozen continuous law with pdf, sf and ppf).

    Raises:
        MarketError: the distribution has no density (a constant, integers, a degenerate
            uniform or a log-normal with σ = 0): Myerson's reserve is defined for densities.
    """
    from scipy import stats  # imported when used: scipy costs a second

    if isinstance(value, Uniform) and value.high > value.low:
        return stats.uniform(loc=value.low, scale=value.high - value.low)
    if isinstance(value, Exponential):
        return stats.expon(scale=value.mean_value)
    if isinstance(value, LogNormal) and value.sigma > 0:
        return stats.lognorm(s=value.sigma, scale=value.median)
    if isinstance(value, Beta):
        return stats.beta(value.a, value.b, loc=value.low, scale=value.high - value.low)
    if isinstance(value, Triangular):
        width = value.high - value.low
        return stats.triang((value.mode - value.low) / width, loc=value.low, scale=width)
    raise MarketError(
        f"Myerson's reserve needs values with a density; {value.dist} "
        f"({value.model_dump(by_alias=True)}) has none; use uniform (low < high), exponential, "
        "lognormal (sigma > 0), beta or triangular"
    )


def virtual_value(law: Law, v: float) -> float:
    """``φ(v) = v − (1 − F(v)) / f(v)``, the inverse hazard rate taken in logs so that far
    tails neither overflow nor divide zero by zero; ``v`` itself at the top of a bounded
    support (nothing is left above it), ``−∞`` where the density vanishes below it."""
    log_sf = float(law.logsf(v))
    if log_sf == -math.inf:
        return v
    log_pdf = float(law.logpdf(v))
    if log_pdf == -math.inf:
        return -math.inf
    return v - math.exp(log_sf - log_pdf)


def check_regular(value: Distribution) -> Law:
    """``value``'s law, once its virtual value is seen to be non-decreasing.

    Raises:
        MarketError: no density, or ``φ`` falls somewhere between the 10⁻⁶ and 1 − 10⁻⁶
            quantiles (the values where it falls are named).
    """
    law = value_law(value)
    points = np.asarray(law.ppf(np.linspace(_TAIL, 1 - _TAIL, _GRID)), dtype=float)
    phi = np.asarray(points - np.exp(law.logsf(points) - law.logpdf(points)), dtype=float)
    slack = _SLACK * float(np.max(np.abs(phi[np.isfinite(phi)]), initial=1.0))
    falls = np.flatnonzero(np.diff(phi) < -slack)
    if falls.size:
        low, high = float(points[falls[0]]), float(points[falls[-1] + 1])
        raise MarketError(
            f"{value.dist} values ({value.model_dump(by_alias=True)}) are irregular: the virtual "
            f"value v - (1 - F(v))/f(v) falls between v = {low:.6g} and v = {high:.6g}, so "
            "Myerson's optimal auction would iron it and no single reserve is optimal; use "
            "reserve = 'cost' or a regular value distribution"
        )
    return law


def myerson_reserve(value: Distribution, cost: float) -> float:
    """The reserve ``r*`` with ``φ(r*) = cost`` for buyers' values distributed as ``value``.

    Below the support's lowest value ``L`` the equation may have no root (``φ(L) ≥ cost``):
    every buyer is then worth selling to and ``r* = L``. A bounded support whose top is at or
    below ``cost`` leaves no profitable sale: ``r* = cost``, so the seller never sells at a
    loss. Otherwise ``φ`` crosses ``cost`` once (it is increasing) and Brent's method finds the
    crossing.

    Raises:
        MarketError: ``value`` has no density or is irregular (:func:`check_regular`).
    """
    from scipy import optimize

    law = check_regular(value)
    low, high = (float(bound) for bound in law.support())
    if virtual_value(law, low) >= cost:
        return max(low, cost)
    if math.isfinite(high):
        if high <= cost:
            return cost
        top = high
    else:
        top = float(law.ppf(1 - _TAIL))
        while virtual_value(law, top) < cost:  # φ(v) → ∞ with v on an unbounded support
            top *= 2
    bottom = low if math.isfinite(virtual_value(law, low)) else float(law.ppf(_TAIL**2))
    if virtual_value(law, bottom) >= cost:
        return bottom
    root = optimize.brentq(lambda v: virtual_value(law, v) - cost, bottom, top, xtol=1e-9)
    return float(root)
