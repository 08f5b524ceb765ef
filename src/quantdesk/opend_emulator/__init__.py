"""An OpenD emulator that the unmodified ``moomoo-api`` SDK talks to on loopback (``quantdesk opend-emulator``).

``wire`` is the packet format on the SDK's own protobuf modules; ``server`` the TCP server, its connections,
pushes and injected faults; the quote and trade handlers are registered on it by the modules beside it. Tests and
demos of the moomoo adapter run against it; it never reaches a real account.
"""
