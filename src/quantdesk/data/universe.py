"""Named sets of instruments to run a strategy over, resolved against the catalog.

A universe is written ``all`` (every instrument with bars of the timeframe), ``synthetic`` or
``real`` (those labelled so), ``sector:NAME`` (the instrument master's sector, case-insensitive),
``market:NAME`` (its market), or ``@FILE`` (one symbol per line; blank lines and ``#`` comments
are skipped). The result is sorted and keeps only symbols with bars of the timeframe, so a run never
starts on a symbol it cannot read; an empty result is an error that says what was looked for.
"""

from __future__ import annotations

from pathlib import Path

from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe

UNIVERSE_FORMS = "all, synthetic, real, sector:NAME, market:NAME or @FILE"


def _from_file(spec: str) -> list[str]:
    path = Path(spec[1:])
    if not path.is_file():
        raise ConfigError(f"--universe {spec}: no such file {str(path)!r}")
    symbols = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            symbols.append(check_symbol(text, where=f"--universe {spec}: line {number}"))
    return symbols


def resolve_universe(catalog: Catalog, spec: str, timeframe: Timeframe | str) -> list[str]:
    """The symbols ``spec`` names that have ``timeframe`` bars in ``catalog`` (see the module docstring)."""
    tf = Timeframe.parse(timeframe)
    text = spec.strip()
    if not text:
        raise ConfigError(f"--universe: expected {UNIVERSE_FORMS}, found an empty value")
    instruments = {i.symbol: i for i in catalog.instruments()}
    if text.startswith("@"):
        wanted = _from_file(text)
        missing = [s for s in wanted if not catalog.has_bars(s, tf)]
        if missing:
            raise ConfigError(f"--universe {text}: no {tf.value} bars stored for {', '.join(missing)}")
        return sorted(set(wanted))
    key, _, value = text.partition(":")
    key = key.lower()
    if key == "all" and not value:
        chosen = list(instruments)
    elif key in ("synthetic", "real") and not value:
        chosen = [s for s, i in instruments.items() if i.synthetic == (key == "synthetic")]
    elif key == "sector" and value:
        chosen = [s for s, i in instruments.items() if (i.sector or "").lower() == value.strip().lower()]
    elif key == "market" and value:
        chosen = [s for s, i in instruments.items() if i.market.lower() == value.strip().lower()]
    else:
        raise ConfigError(f"--universe: expected {UNIVERSE_FORMS}, found {spec!r}")
    symbols = sorted(s for s in chosen if catalog.has_bars(s, tf))
    if not symbols:
        raise ConfigError(
            f"--universe {text}: no instrument with {tf.value} bars matches; `quantdesk data list` shows what is stored"
        )
    return symbols
