"""The moomoo adapter: quantdesk's broker and data interfaces over the ``moomoo-api`` SDK and its OpenD gateway.

``errors`` turns the SDK's ``(ret, data)`` into data or the project's errors (transient failures retried);
``live`` decides the trading environment (SIMULATE unless every opt-in for REAL holds) and holds the trade
password as a ``Secret``. Two of the plan's names are not the SDK's: ``get_financial_data`` does not exist
(``get_financials_statements`` joined to ``get_earnings_calendar`` for the known time replaces it) and
``get_order_list`` is ``order_list_query``; ``docs/moomoo.md`` has the whole mapping.
"""
