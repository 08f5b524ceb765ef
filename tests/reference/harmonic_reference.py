"""Plain-Python reference for ``kernels.harmonic``: five consecutive pivots measured and matched, the obvious way."""

from __future__ import annotations


def reference_harmonic(
    prices: list[float],
    kinds: list[int],
    table: list[list[tuple[float, float]]],
    enabled: list[bool],
    tolerance: float,
) -> list[tuple[int, int, list[float], float, float]]:
    """(code, d_pivot, [ab_xa, bc_ab, cd_bc, ad_xa], prz_low, prz_high) per match, by D then by code."""
    out: list[tuple[int, int, list[float], float, float]] = []
    for j in range(4, len(prices)):
        x, a, b, c, d = prices[j - 4 : j + 1]
        xa, ab, bc = abs(a - x), abs(a - b), abs(c - b)
        if xa == 0 or ab == 0 or bc == 0:
            continue
        ratios = [ab / xa, bc / ab, abs(c - d) / bc, abs(a - d) / xa]
        bullish = kinds[j - 4] == -1
        for code, bands in enumerate(table):
            if not enabled[code]:
                continue
            widened = [(lo * (1 - tolerance), hi * (1 + tolerance)) for lo, hi in bands]
            if not all(lo <= r <= hi for r, (lo, hi) in zip(ratios, widened, strict=True)):
                continue
            # where D may lie: below A and C for a bullish pattern, above them for a bearish one
            step = -1.0 if bullish else 1.0
            ad_prices = [a + step * widened[3][0] * xa, a + step * widened[3][1] * xa]
            cd_prices = [c + step * widened[2][0] * bc, c + step * widened[2][1] * bc]
            low = max(min(ad_prices), min(cd_prices))
            high = min(max(ad_prices), max(cd_prices))
            out.append((code, j, ratios, min(low, d), max(high, d)))
    return out
