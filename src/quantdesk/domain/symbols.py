"""The one rule for instrument symbols, checked wherever a symbol enters quantdesk.

A symbol is 1 to ``MAX_SYMBOL_LENGTH`` characters: upper-case letters A-Z, digits and the separators
``.`` ``-`` ``_`` ``=`` ``^`` (``BRK.B``, ``BRK-B``, ``ES=F``, ``^GSPC``), starting with a letter, a
digit or ``^``. FX pairs are written without a slash (``EURUSD``); so a symbol is never a path
(``..``, ``../x``, ``/abs``). Lower-case is refused, not upper-cased: ``spx`` and ``SPX`` would
otherwise name one dataset from two spellings, and the message suggests the upper-case spelling.
Import, synthetic generation, ``--symbols``/``--benchmark``/``--symbol`` options, universe files,
the instrument master and the catalog's Python API all call ``check_symbol`` (pydantic models call
``symbol_problem``).
"""

from __future__ import annotations

import re

from quantdesk.core.errors import ConfigError

MAX_SYMBOL_LENGTH = 32
SYMBOL_SEPARATORS = ".-_=^"
_SYMBOL_RE = re.compile(rf"[A-Z0-9^][A-Z0-9{re.escape(SYMBOL_SEPARATORS)}]{{0,{MAX_SYMBOL_LENGTH - 1}}}")
SYMBOL_RULE = (
    f"1-{MAX_SYMBOL_LENGTH} characters: upper-case letters, digits and {' '.join(SYMBOL_SEPARATORS)}, "
    "starting with a letter, a digit or ^ (FX pairs without a slash, e.g. EURUSD)"
)


def symbol_problem(symbol: object) -> str | None:
    """What is wrong with ``symbol`` as an expected/found sentence, or None when it follows the rule."""
    if not isinstance(symbol, str):
        return f"expected a symbol ({SYMBOL_RULE}), found {type(symbol).__name__} {symbol!r}"
    if _SYMBOL_RE.fullmatch(symbol):
        return None
    shown = symbol if len(symbol) <= 2 * MAX_SYMBOL_LENGTH else symbol[: 2 * MAX_SYMBOL_LENGTH] + "..."
    upper = symbol.upper()
    if upper != symbol and _SYMBOL_RE.fullmatch(upper):
        return f"expected an upper-case symbol such as {upper!r}, found {shown!r} (symbols are not upper-cased for you)"
    if len(symbol) > MAX_SYMBOL_LENGTH:
        return (
            f"expected a symbol of at most {MAX_SYMBOL_LENGTH} characters, found {len(symbol)} characters ({shown!r})"
        )
    return f"expected a symbol of {SYMBOL_RULE}, found {shown!r}"


def check_symbol(symbol: object, *, where: str = "symbol") -> str:
    """``symbol`` unchanged when it follows the rule; otherwise a ``ConfigError`` saying where and why."""
    problem = symbol_problem(symbol)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    assert isinstance(symbol, str)
    return symbol
