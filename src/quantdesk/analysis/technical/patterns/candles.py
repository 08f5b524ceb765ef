"""Candlestick patterns: every TA-Lib ``CDL*`` function under a readable alias (``Engulfing``,
``Doji``, ``Morning_Star``, ...), next to its TA-Lib name in the catalogue.

Each alias outputs ``signal``: +1 where TA-Lib reports the bullish form on that bar, -1 for the
bearish form, 0 for none (the sign of TA-Lib's +-100, +-80 or +-200; the TA-Lib name keeps the raw
value), NaN before TA-Lib's lookback. TA-Lib judges a pattern on the bar that completes it, from
that bar and earlier ones (body and shadow averages over a trailing window), so a signal on bar
``t`` uses nothing after ``t``. ``penetration`` is exposed where TA-Lib has it.
"""

from __future__ import annotations

import numpy as np

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params
from quantdesk.analysis.technical.talib_functions import SPECS as TALIB_SPECS
from quantdesk.analysis.technical.talib_functions import call_talib
from quantdesk.domain.bars import Bars
from quantdesk.kernels.derived import candle_direction

# readable alias -> TA-Lib function
CANDLE_ALIASES: dict[str, str] = {
    "Two_Crows": "CDL2CROWS",
    "Three_Black_Crows": "CDL3BLACKCROWS",
    "Three_Inside": "CDL3INSIDE",
    "Three_Line_Strike": "CDL3LINESTRIKE",
    "Three_Outside": "CDL3OUTSIDE",
    "Three_Stars_In_The_South": "CDL3STARSINSOUTH",
    "Three_White_Soldiers": "CDL3WHITESOLDIERS",
    "Abandoned_Baby": "CDLABANDONEDBABY",
    "Advance_Block": "CDLADVANCEBLOCK",
    "Belt_Hold": "CDLBELTHOLD",
    "Breakaway": "CDLBREAKAWAY",
    "Closing_Marubozu": "CDLCLOSINGMARUBOZU",
    "Concealing_Baby_Swallow": "CDLCONCEALBABYSWALL",
    "Counterattack": "CDLCOUNTERATTACK",
    "Dark_Cloud_Cover": "CDLDARKCLOUDCOVER",
    "Doji": "CDLDOJI",
    "Doji_Star": "CDLDOJISTAR",
    "Dragonfly_Doji": "CDLDRAGONFLYDOJI",
    "Engulfing": "CDLENGULFING",
    "Evening_Doji_Star": "CDLEVENINGDOJISTAR",
    "Evening_Star": "CDLEVENINGSTAR",
    "Gap_Side_By_Side_White": "CDLGAPSIDESIDEWHITE",
    "Gravestone_Doji": "CDLGRAVESTONEDOJI",
    "Hammer": "CDLHAMMER",
    "Hanging_Man": "CDLHANGINGMAN",
    "Harami": "CDLHARAMI",
    "Harami_Cross": "CDLHARAMICROSS",
    "High_Wave": "CDLHIGHWAVE",
    "Hikkake": "CDLHIKKAKE",
    "Hikkake_Modified": "CDLHIKKAKEMOD",
    "Homing_Pigeon": "CDLHOMINGPIGEON",
    "Identical_Three_Crows": "CDLIDENTICAL3CROWS",
    "In_Neck": "CDLINNECK",
    "Inverted_Hammer": "CDLINVERTEDHAMMER",
    "Kicking": "CDLKICKING",
    "Kicking_By_Length": "CDLKICKINGBYLENGTH",
    "Ladder_Bottom": "CDLLADDERBOTTOM",
    "Long_Legged_Doji": "CDLLONGLEGGEDDOJI",
    "Long_Line": "CDLLONGLINE",
    "Marubozu": "CDLMARUBOZU",
    "Matching_Low": "CDLMATCHINGLOW",
    "Mat_Hold": "CDLMATHOLD",
    "Morning_Doji_Star": "CDLMORNINGDOJISTAR",
    "Morning_Star": "CDLMORNINGSTAR",
    "On_Neck": "CDLONNECK",
    "Piercing": "CDLPIERCING",
    "Rickshaw_Man": "CDLRICKSHAWMAN",
    "Rising_Falling_Three_Methods": "CDLRISEFALL3METHODS",
    "Separating_Lines": "CDLSEPARATINGLINES",
    "Shooting_Star": "CDLSHOOTINGSTAR",
    "Short_Line": "CDLSHORTLINE",
    "Spinning_Top": "CDLSPINNINGTOP",
    "Stalled_Pattern": "CDLSTALLEDPATTERN",
    "Stick_Sandwich": "CDLSTICKSANDWICH",
    "Takuri": "CDLTAKURI",
    "Tasuki_Gap": "CDLTASUKIGAP",
    "Thrusting": "CDLTHRUSTING",
    "Tristar": "CDLTRISTAR",
    "Unique_Three_River": "CDLUNIQUE3RIVER",
    "Upside_Gap_Two_Crows": "CDLUPSIDEGAP2CROWS",
    "Gap_Three_Methods": "CDLXSIDEGAP3METHODS",
}


def _alias(alias: str, base: IndicatorSpec) -> IndicatorSpec:
    def compute(bars: Bars, params: Params) -> Outputs:
        (raw,) = call_talib(base.name, base.inputs, bars, params)
        return {"signal": candle_direction(raw, base.warmup(params), np.empty(len(raw)))}

    return IndicatorSpec(
        name=alias,
        category="pattern",
        description=f"{base.description.split(' (TA-Lib')[0]} candlestick: +1 bullish, -1 bearish, 0 none",
        params=base.params,
        outputs=("signal",),
        warmup=base.warmup,
        compute=compute,
        source="talib",
        inputs=base.inputs,
        check=base.check,
        alias_of=base.name,
    )


def _specs() -> tuple[IndicatorSpec, ...]:
    by_name = {s.name: s for s in TALIB_SPECS}
    missing = sorted(set(CANDLE_ALIASES.values()) - set(by_name))
    if missing:
        raise RuntimeError(f"TA-Lib lacks candlestick functions {missing}")
    return tuple(_alias(alias, by_name[name]) for alias, name in CANDLE_ALIASES.items())


SPECS: tuple[IndicatorSpec, ...] = _specs()
