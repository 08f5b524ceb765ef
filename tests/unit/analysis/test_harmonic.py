"""Harmonic patterns on bars drawn through chosen X, A, B, C, D turning points, found at D's confirmation bar.

Every series starts at bar 0 (150), reaches X at bar 10, A at 30, B at 45, C at 55 and D at 70, then
moves away from D by 1.0 per bar for 20 bars. With the default 5 % zigzag, D is confirmed on the
first bar whose high (bullish) or low (bearish) is 5 % beyond D: ``70 + ceil(0.05 * D)`` bars.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.analysis.turning_points import bars_from_points

from quantdesk.analysis.technical.patterns.harmonic import HarmonicPattern, scan_harmonic_patterns
from quantdesk.analysis.technical.registry import compute_indicator
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars

BARS_XABCD = (10, 30, 45, 55, 70)


def xabcd_bars(bullish: bool, ab: float, bc: float, ad: float) -> tuple[Bars, tuple[float, ...]]:
    """X = 100 and A = 200 (bullish) or X = 200 and A = 100 (bearish); B, C, D placed by the ratios."""
    x, a = (100.0, 200.0) if bullish else (200.0, 100.0)
    up = 1.0 if bullish else -1.0  # the XA leg's direction
    b = a - up * ab * 100.0
    c = b + up * bc * ab * 100.0
    d = a - up * ad * 100.0
    points = [(0, 150.0), *zip(BARS_XABCD, (x, a, b, c, d), strict=True), (90, d + up * 20.0)]
    return bars_from_points(points), (x, a, b, c, d)


def only(patterns: list[HarmonicPattern]) -> HarmonicPattern:
    assert len(patterns) == 1, patterns
    return patterns[0]


def test_bullish_gartley_is_found_when_d_is_confirmed_with_its_ratios_and_prz() -> None:
    bars, prices = xabcd_bars(True, ab=0.618, bc=0.5, ad=0.786)
    assert prices == pytest.approx((100, 200, 138.2, 169.1, 121.4))
    p = only(scan_harmonic_patterns(bars))
    # D = 121.4 is confirmed by a high of 121.4 * 1.05 = 127.47: 7 bars of +1.0 after bar 70
    assert (p.name, p.direction, p.confirmed) == ("gartley", 1, 77)
    assert p.pivot_bars == BARS_XABCD and p.pivot_confirmed[-1] == 77
    assert p.pivot_prices == pytest.approx(prices)
    # CD = 169.1 - 121.4 = 47.7 over BC = 30.9
    assert p.ratios == pytest.approx({"ab_xa": 0.618, "bc_ab": 0.5, "cd_bc": 47.7 / 30.9, "ad_xa": 0.786})
    assert p.tolerance == 0.05
    # AD band 0.786 * (0.95, 1.05) from A = 200: 117.47..125.33; CD band 1.272 * 0.95 .. 1.618 * 1.05 from
    # C = 169.1: 116.60..131.76; the zone is where both hold
    assert (p.prz_low, p.prz_high) == pytest.approx((200 - 0.786 * 1.05 * 100, 200 - 0.786 * 0.95 * 100))
    assert p.prz_low <= p.pivot_prices[-1] <= p.prz_high
    assert p.to_dict()["points"]["D"] == {"bar": 70, "price": pytest.approx(121.4), "confirmed": 77}
    assert p.to_dict()["prz"] == {"low": p.prz_low, "high": p.prz_high}


def test_gartley_is_not_reported_before_d_is_confirmed() -> None:
    bars, _ = xabcd_bars(True, ab=0.618, bc=0.5, ad=0.786)
    assert scan_harmonic_patterns(bars[:77]) == []
    assert only(scan_harmonic_patterns(bars[:78])).confirmed == 77


def test_bearish_gartley_mirrors_the_bullish_one() -> None:
    bars, prices = xabcd_bars(False, ab=0.618, bc=0.5, ad=0.786)
    assert prices == pytest.approx((200, 100, 161.8, 130.9, 178.6))
    p = only(scan_harmonic_patterns(bars))
    # D = 178.6 is confirmed by a low of 178.6 * 0.95 = 169.67: 9 bars of -1.0 after bar 70
    assert (p.name, p.direction, p.confirmed) == ("gartley", -1, 79)
    assert p.ratios == pytest.approx({"ab_xa": 0.618, "bc_ab": 0.5, "cd_bc": 47.7 / 30.9, "ad_xa": 0.786})
    # AD band above A = 100: 174.67..182.53; CD band above C = 130.9: 168.24..183.40
    assert (p.prz_low, p.prz_high) == pytest.approx((100 + 0.786 * 0.95 * 100, 100 + 0.786 * 1.05 * 100))


def test_butterfly_is_found_with_d_beyond_x() -> None:
    bars, prices = xabcd_bars(True, ab=0.786, bc=0.618, ad=1.27)
    assert prices == pytest.approx((100, 200, 121.4, 169.9748, 73.0))
    p = only(scan_harmonic_patterns(bars))
    # D = 73 is confirmed by a high of 76.65: 4 bars after bar 70
    assert (p.name, p.direction, p.confirmed) == ("butterfly", 1, 74)
    bc = 0.618 * 78.6
    assert p.ratios == pytest.approx({"ab_xa": 0.786, "bc_ab": 0.618, "cd_bc": (169.9748 - 73) / bc, "ad_xa": 1.27})
    # AD band 1.27 * 0.95 .. 1.618 * 1.05 below A: 30.11..79.35; CD band 1.618 * 0.95 .. 2.24 * 1.05 below C:
    # 55.73..95.31
    assert (p.prz_low, p.prz_high) == pytest.approx((169.9748 - 2.24 * 1.05 * bc, 200 - 1.27 * 0.95 * 100))


def test_bat_is_found_with_its_ratios_and_prz() -> None:
    bars, prices = xabcd_bars(True, ab=0.5, bc=0.5, ad=0.886)
    assert prices == pytest.approx((100, 200, 150, 175, 111.4))
    p = only(scan_harmonic_patterns(bars))
    # D = 111.4 is confirmed by a high of 116.97: 6 bars after bar 70
    assert (p.name, p.direction, p.confirmed) == ("bat", 1, 76)
    assert p.ratios == pytest.approx({"ab_xa": 0.5, "bc_ab": 0.5, "cd_bc": 63.6 / 25, "ad_xa": 0.886})
    # AD band below A: 106.97..115.83; CD band 1.618 * 0.95 .. 2.618 * 1.05 below C = 175: 106.28..136.57
    assert (p.prz_low, p.prz_high) == pytest.approx((200 - 0.886 * 1.05 * 100, 200 - 0.886 * 0.95 * 100))


def test_crab_is_found_with_its_ratios_and_prz() -> None:
    bars, prices = xabcd_bars(True, ab=0.618, bc=0.7, ad=1.618)
    assert prices == pytest.approx((100, 200, 138.2, 181.46, 38.2))
    p = only(scan_harmonic_patterns(bars))
    # D = 38.2 is confirmed by a high of 40.11: 2 bars after bar 70
    assert (p.name, p.direction, p.confirmed) == ("crab", 1, 72)
    assert p.ratios == pytest.approx({"ab_xa": 0.618, "bc_ab": 0.7, "cd_bc": 143.26 / 43.26, "ad_xa": 1.618})
    # AD band below A: 30.11..46.29; CD band 2.24 * 0.95 .. 3.618 * 1.05 below C = 181.46: 17.12..89.40
    assert (p.prz_low, p.prz_high) == pytest.approx((200 - 1.618 * 1.05 * 100, 200 - 1.618 * 0.95 * 100))


@pytest.mark.parametrize(
    ("ratios", "why"),
    [
        ({"ab": 0.618, "bc": 0.5, "ad": 0.786 * 1.06}, "Gartley with AD 6 % above 0.786 (CD 1.696 still fits)"),
        ({"ab": 0.786 * 1.06, "bc": 0.618, "ad": 1.27}, "Butterfly with AB 6 % above 0.786"),
        ({"ab": 0.5, "bc": 0.886 * 1.06, "ad": 0.886}, "Bat with BC 6 % above 0.886"),
        ({"ab": 0.618, "bc": 0.7, "ad": 1.618 * 1.06}, "Crab with AD 6 % above 1.618 (CD 3.54 still fits)"),
    ],
)
def test_near_miss_one_ratio_out_of_tolerance_is_not_a_pattern(ratios: dict[str, float], why: str) -> None:
    bars, _ = xabcd_bars(True, **ratios)
    assert scan_harmonic_patterns(bars) == [], why
    # the same shape passes once the tolerance covers the 6 %
    assert len(scan_harmonic_patterns(bars, tolerance=0.07)) >= 1, why


def test_names_restrict_the_scan_and_unknown_names_are_config_errors() -> None:
    bars, _ = xabcd_bars(True, ab=0.5, bc=0.5, ad=0.886)
    assert scan_harmonic_patterns(bars, names=["gartley", "crab"]) == []
    assert only(scan_harmonic_patterns(bars, names=["Bat"])).name == "bat"
    with pytest.raises(ConfigError, match=r"unknown harmonic pattern 'shark'; valid: gartley, butterfly, bat, crab"):
        scan_harmonic_patterns(bars, names=["shark"])
    with pytest.raises(ConfigError, match=r"scan_harmonic_patterns.tolerance: expected 0 <= tolerance <= 0.5"):
        scan_harmonic_patterns(bars, tolerance=0.9)


def test_registry_signal_is_the_direction_on_the_confirmation_bar() -> None:
    bull, _ = xabcd_bars(True, ab=0.618, bc=0.5, ad=0.786)
    bear, _ = xabcd_bars(False, ab=0.618, bc=0.5, ad=0.786)
    up = compute_indicator("Gartley", bull)["signal"]
    down = compute_indicator("Gartley", bear)["signal"]
    assert np.isnan(up[:5]).all() and np.isnan(down[:5]).all()
    assert np.flatnonzero(up[5:]).tolist() == [77 - 5] and up[77] == 1.0
    assert np.flatnonzero(down[5:]).tolist() == [79 - 5] and down[79] == -1.0
    assert np.nansum(compute_indicator("Bat", bull)["signal"]) == 0.0
    crab, _ = xabcd_bars(True, ab=0.618, bc=0.7, ad=1.618)
    assert np.flatnonzero(compute_indicator("Crab", crab)["signal"] == 1.0).tolist() == [72]
