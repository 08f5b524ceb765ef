"""The emulator's TCP server: connections, packets in and out, handlers by proto id, pushes and injected faults.

``Emulator`` listens on 127.0.0.1 (never another interface) and runs an asyncio loop in its own thread, so a test
or the CLI starts it with ``with Emulator(...) as emu`` and talks to it with the unmodified SDK. Each connection
reads packets (``wire``), checks each body's SHA-1, and answers each request with the handler registered for its
proto id (``register``): the handler gets the ``Connection`` and the request's ``c2s`` and returns the reply's
``s2c`` (or None), or raises ``Refused`` for a reply with ``retType`` -1 and its message. An id without a handler is
answered at once with an error reply (the SDK would otherwise wait 12 s). Replies echo the request's proto id,
serial number and format. ``push`` sends a push packet to one connection (through the fault settings: a delay,
reordering); ``drop_connections`` closes every connection (the SDK reconnects after 6 s) and ``restart`` closes them
and refuses new ones for a while, keeping the emulated broker's state, as an OpenD restart does. Everything the
handlers touch runs on the loop's thread; ``call`` runs a function there from another thread and returns its
result. Only InitConnect, KeepAlive and GetGlobalState are answered here; ``quotes`` and ``trading`` register the
rest.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from quantdesk.core.errors import ConfigError
from quantdesk.opend_emulator import wire

log = logging.getLogger(__name__)
T = TypeVar("T")
Handler = Callable[["Connection", Any], Any]

LOOPBACK = "127.0.0.1"
SERVER_VER = 1011  # moomoo-api 10.11's OpenD
LOGIN_USER_ID = 100_000_001
QOT_MARKET_STATE_AFTERNOON = 5
PROGRAM_STATUS_READY = 10


class Refused(Exception):
    """A request the emulator answers with ``retType`` -1 and this message."""


@dataclass
class Connection:
    """One client connection: its id (``connID``), what it subscribed to, the accounts whose trade pushes it asked
    for (Trd_SubAccPush), and its writer."""

    conn_id: int
    writer: asyncio.StreamWriter
    subscriptions: set[tuple[str, int]] = field(default_factory=set)  # (code such as "US.AAPL", SubType)
    push_accounts: set[int] = field(default_factory=set)
    initialised: bool = False
    closed: bool = False


@dataclass
class Faults:
    """What the emulator is told to do wrong: ``push_delay_s`` holds every push that long; ``reorder_pushes`` sends
    the pushes held in one delay window in a shuffled order (seeded); set on the loop's thread (``Emulator.call``)."""

    push_delay_s: float = 0.0
    reorder_pushes: bool = False
    seed: int = 0


class Emulator:
    """An OpenD on loopback (see the module docstring)."""

    def __init__(self, *, port: int = 0, keep_alive_s: int = 10,
                 server_time_s: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.requested_port = int(port)
        self.keep_alive_s = int(keep_alive_s)
        self.server_time_s = server_time_s  # OpenD's clock in GetGlobalState and KeepAlive (a replay's: its time)
        self.handlers: dict[int, Handler] = {}
        self.connections: dict[int, Connection] = {}
        self.faults = Faults()
        self.requests: list[int] = []  # every proto id received, in order (what a test asserts on)
        self._held: list[tuple[Connection, bytes]] = []
        self._flush: asyncio.TimerHandle | None = None
        self._next_conn = 1
        self._refuse_until = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.port = 0
        self.register(1001, self._init_connect)
        self.register(1004, self._keep_alive)
        self.register(1002, self._global_state)

    # ---- life -----------------------------------------------------------------------------------------------------

    def register(self, proto_id: int, handler: Handler) -> None:
        if proto_id not in wire.PROTO_MODULES:
            raise ConfigError(f"opend emulator: proto id {proto_id} has no module in wire.PROTO_MODULES")
        self.handlers[proto_id] = handler

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._run, name="opend-emulator", daemon=True)
        self._thread.start()
        self._ready.wait(10.0)
        if self._startup_error is not None:
            raise ConfigError(f"opend emulator: could not listen on {LOOPBACK}:{self.requested_port}: "
                              f"{self._startup_error}")  # fmt: skip
        if not self._ready.is_set():
            raise ConfigError("opend emulator: the server did not start within 10 s")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10.0)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10.0)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the CLI)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the loop's thread and return its result (from any other thread)."""
        loop = self._loop
        if loop is None:
            raise ConfigError("opend emulator: not started")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(30.0)

    def drop_connections(self) -> int:
        """Close every connection (from any thread); returns how many were open."""
        return self.call(self._drop_all)

    def restart(self, down_s: float = 1.0) -> None:
        """An OpenD restart: every connection closed, new ones refused for ``down_s``; the broker's state is kept."""

        def go() -> None:
            self._refuse_until = time.monotonic() + down_s
            self._drop_all()

        self.call(go)

    # ---- the loop ---------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, LOOPBACK, self.requested_port, reuse_address=True)
            )
        except OSError as exc:
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._drop_all()
        if self._server is not None:
            await self._server.wait_closed()

    def _drop_all(self) -> int:
        n = 0
        for conn in list(self.connections.values()):
            n += 1
            self._close(conn)
        return n

    def _close(self, conn: Connection) -> None:
        if not conn.closed:
            conn.closed = True
            conn.writer.close()
        self.connections.pop(conn.conn_id, None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._refuse_until:
            writer.close()
            return
        conn = Connection(self._next_conn + 7_000_000, writer)
        self._next_conn += 1
        self.connections[conn.conn_id] = conn
        try:
            while not conn.closed:
                head = await reader.readexactly(wire.HEADER_LEN)
                header = wire.unpack_header(head)
                body = await reader.readexactly(header.body_len)
                self._answer(conn, header, body)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:  # the loop is shutting down
            pass
        finally:
            self._close(conn)

    def _answer(self, conn: Connection, header: wire.Header, body: bytes) -> None:
        self.requests.append(header.proto_id)
        pid = header.proto_id
        if not wire.body_ok(header, body):
            reply = wire.response(pid, ret_type=-1, ret_msg="emulator: body SHA-1 mismatch (no encryption emulated)")
        elif pid not in self.handlers:
            reply = wire.response(pid, ret_type=-1, ret_msg=f"proto {pid} not emulated")
        else:
            request = wire.module_of(pid).Request()
            request.ParseFromString(body)
            try:
                s2c = self.handlers[pid](conn, request.c2s)
                reply = wire.response(pid, s2c)
            except Refused as exc:
                reply = wire.response(pid, ret_type=-1, ret_msg=str(exc))
            except Exception as exc:  # a handler bug must answer, not hang the SDK for 12 s
                log.exception("opend emulator: handler %s failed", pid)
                reply = wire.response(pid, ret_type=-1, ret_msg=f"emulator error: {type(exc).__name__}: {exc}")
        self._send(conn, wire.pack(pid, header.serial_no, reply, header.fmt))

    def _send(self, conn: Connection, packet: bytes) -> None:
        if not conn.closed:
            conn.writer.write(packet)

    # ---- pushes -----------------------------------------------------------------------------------------------------

    def push(self, conn: Connection, proto_id: int, s2c: Any) -> None:
        """Send a push to ``conn`` (on the loop's thread), held and shuffled as ``faults`` says."""
        packet = wire.pack(proto_id, 0, wire.response(proto_id, s2c))
        if self.faults.push_delay_s <= 0.0:
            self._send(conn, packet)
            return
        self._held.append((conn, packet))
        if self._flush is None and self._loop is not None:
            self._flush = self._loop.call_later(self.faults.push_delay_s, self._release)

    def _release(self) -> None:
        self._flush = None
        held, self._held = self._held, []
        if self.faults.reorder_pushes:
            random.Random(self.faults.seed + len(self.requests)).shuffle(held)
        for conn, packet in held:
            self._send(conn, packet)

    # ---- system protos ----------------------------------------------------------------------------------------------

    def _init_connect(self, conn: Connection, c2s: Any) -> Any:
        if c2s.HasField("packetEncAlgo") and c2s.packetEncAlgo not in (-1, 0):
            raise Refused("emulator: packet encryption is not emulated (loopback only; leave it off)")
        s2c = wire.pb("InitConnect").S2C()
        s2c.serverVer = SERVER_VER
        s2c.loginUserID = LOGIN_USER_ID
        s2c.connID = conn.conn_id
        s2c.connAESKey = "0123456789abcdef"  # required even without encryption
        s2c.keepAliveInterval = self.keep_alive_s
        conn.initialised = True
        return s2c

    def _keep_alive(self, conn: Connection, c2s: Any) -> Any:
        s2c = wire.pb("KeepAlive").S2C()
        s2c.time = int(self.server_time_s())
        return s2c

    def _global_state(self, conn: Connection, c2s: Any) -> Any:
        s2c = wire.pb("GetGlobalState").S2C()
        for name in ("marketHK", "marketUS", "marketSH", "marketSZ", "marketHKFuture"):
            setattr(s2c, name, QOT_MARKET_STATE_AFTERNOON)
        s2c.qotLogined = True
        s2c.trdLogined = True
        s2c.serverVer = SERVER_VER
        s2c.serverBuildNo = 1
        s2c.time = int(self.server_time_s())
        s2c.localTime = self.server_time_s()
        s2c.programStatus.type = PROGRAM_STATUS_READY
        s2c.connID = conn.conn_id
        return s2c
