"""The exception tree of quantdesk, sorted by what the person must do about it.

::

    QuantdeskError                 base of everything quantdesk raises on purpose
    ├── ConfigError                fix the input: a strategy file, an option, a parameter
    │   └── LookAheadError         something fitted was applied to bars at or before the last time it saw
    ├── DataError                  fix the input: a data file or a data set (names file, row, column)
    │   └── NotFoundError          the data asked for is not in the store (import or fetch it)
    ├── StoreError                 the store on disk is damaged or unwritable (check the data directory)
    ├── SourceUnavailableError     an outside source (EDGAR, a database server) cannot be reached: check the
    │                              network or the server, then retry
    │   ├── BrokerUnavailableError the broker's gateway (moomoo OpenD) dropped or timed out a call: transient,
    │   │                          retried with backoff, then reported
    │   └── ExecutorUnavailableError  the task queue of distributed runs (the Celery broker, its result backend)
    │                              cannot be reached, or no worker finished the tasks in time: start the server
    │                              or a worker (``quantdesk worker``), then retry
    ├── BrokerAuthError            the broker refused the login or the trade unlock: trading stops until a
    │                              person fixes the credentials (never retried)
    └── OrderStateError            an order event that its order's state does not allow (a fill after a cancel,
                                   an accept after a reject, a fill beyond the quantity): a broker or a log
                                   out of step with quantdesk; stop and reconcile

Business outcomes (a denied order, a strategy that never trades) are results, not exceptions.
Third-party errors (pyarrow, pydantic, pandas) are translated into this tree where quantdesk calls
them, so a caller never has to catch another library's exception types. The CLI maps
``ConfigError``/``DataError`` to exit code 2 and anything unexpected to exit code 1.
"""

from __future__ import annotations


class QuantdeskError(Exception):
    """Base of every error quantdesk raises on purpose."""


class ConfigError(QuantdeskError):
    """A configuration, option or strategy file is invalid; the message says where and why."""


class LookAheadError(ConfigError):
    """A fitted object (likelihoods, priors, parameters) was asked to score bars at or before the last
    time it saw (``fitted_until_ns``): its output there would use outcomes not yet known. Fit on an
    earlier window, or score later bars."""


class DataError(QuantdeskError):
    """Input data is invalid. Carries where (file, row, column), what was expected and what was found.

    ``row`` is 1-based over the data rows (the header is not a row); ``None`` when the problem is
    not tied to one row.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.column = column
        self.expected = expected
        self.found = found
        self.detail = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = ", ".join(where)
        text = f"{text}: {self.detail}" if text else self.detail
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found}"
        return text


class NotFoundError(DataError):
    """The store has no data for what was asked (a symbol, timeframe or series)."""


class StoreError(QuantdeskError):
    """The on-disk store could not be read or written (permissions, a damaged file)."""


class SourceUnavailableError(QuantdeskError):
    """An outside data source or server could not be reached (no network, refused, timed out)."""


class BrokerUnavailableError(SourceUnavailableError):
    """The broker's gateway dropped or timed out a call (a transient failure: the adapter retries it with backoff
    and raises this when the retries are spent)."""


class ExecutorUnavailableError(SourceUnavailableError):
    """The Celery broker (RabbitMQ) or result backend (Redis) of an executor cannot be reached, or its workers did
    not finish the tasks in time. The message names the server by its URL with the credentials masked."""


class BrokerAuthError(QuantdeskError):
    """The broker refused the login or the trade unlock. Trading stops; retrying would only lock the account."""


class OrderStateError(QuantdeskError):
    """An order event its order's state does not allow (``execution.state_machine``): names the order, its
    status, the event and why."""
