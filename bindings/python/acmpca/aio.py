"""acmpca.aio - the asyncio client: acmpca's surface, awaited.

    import acmpca.aio

    async with acmpca.aio.client("acm-pca", region_name="eu-west-1") as pca:
        out = await pca.issue_certificate(CertificateAuthorityArn=ca_arn, Csr=csr_pem,
                                          SigningAlgorithm="SHA256WITHECDSA",
                                          Validity={"Value": 30, "Type": "DAYS"})
        await pca.get_waiter("certificate_issued").wait(
            CertificateAuthorityArn=ca_arn, CertificateArn=out["CertificateArn"])
        async for page in pca.get_paginator("list_permissions").paginate(
                CertificateAuthorityArn=ca_arn):
            ...

The constructor takes exactly acmpca.client()'s arguments and Config; the 23
operations, the waiters, the paginators and request_certificate() have the
blocking client's names, arguments, results and exceptions (the same classes:
pca.exceptions is acmpca's).

Each call is the core's call machine (acmpca._Machine), driven on the running
event loop: the machine validates (before any I/O), signs, and decides
retries, back-off, rate limiting, the total timeout, waiter delays and
credential refreshes (IMDS, container, STS and SSO exchanges are steps of the
call, so they never block the loop), exactly as the blocking client does.
This module only moves bytes and sleeps: no thread, no executor. Pauses are
asyncio.sleep, so cancelling a task stops a call at once; a request in flight
has its connection closed (never returned to the pool). The IdempotencyToken
of an interrupted IssueCertificate or CreateCertificateAuthority is on the
exception (exc.idempotency_token; idempotency_token(exc) also looks along
__cause__/__context__, where asyncio.timeout and, from Python 3.11,
asyncio.wait_for leave it): calling again with it cannot issue twice.

Why asyncio transports rather than libcurl's multi socket interface: the
machine already decides everything libcurl's easy interface decided (retries,
timeouts, sizes as data), so what is left, one HTTP/1.1 request and answer with
Content-Length or chunked framing over loop.create_connection and
loop.start_tls, is small, runs unchanged on any loop (uvloop included), and is
cancelled with a plain transport.abort(). Bridging curl_multi_socket_action
into add_reader/add_writer/call_later would put a second event library's
socket and timer bookkeeping between the loop and every request, for no
behaviour the machine does not already own.

A Protocol (the layer under asyncio streams) rather than StreamReader: the
read timeout is the longest silence, as the blocking client's, with one timer
per request instead of a wait_for per read; the size caps are enforced as the
bytes arrive; and a pooled connection the server closed is known to be dead
without reading from it.

Proxies: Config(proxies=...) when given (machine.proxy()), else the
environment as libcurl reads it (https_proxy, http_proxy, all_proxy); no_proxy
applies to both; http:// proxies, CONNECT for https; never for the instance and
container metadata endpoints. Not covered: https://
and SOCKS proxies; credential_process runs its program synchronously;
request_certificate() makes its key on the loop (an RSA key takes tens of
milliseconds; EC keys, the default, well under one).
"""
import asyncio
import base64
import os
import ssl
import sys
from collections import deque, namedtuple

from . import _acmpca
from . import client as _sync_client

__all__ = ["client", "Client", "Waiter", "Paginator", "PageIterator", "idempotency_token"]

# What one answer may hold before the driver gives up on it (as libcurl's
# CURL_MAX_HTTP_HEADER for a header line).
MAX_LINE = 102400
MAX_HEAD = 1 << 20
# botocore's (and aiobotocore's) default connection pool size.
DEFAULT_POOL_CONNECTIONS = 10

_SEND = "send"
_SLEEP = "sleep"
_SIGN = "sign"  # only with event handlers (_Hooks)
_BACKOFF = "backoff"


def idempotency_token(exc):
    """The IdempotencyToken sent by the call that `exc` stopped (a cancellation, a
    timeout, any error), or None: found on the exception itself or along its
    __cause__ / __context__ chain, where asyncio.wait_for() and asyncio.timeout()
    leave the call's own CancelledError. Pass it as IdempotencyToken to retry
    without issuing twice."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        token = getattr(exc, "idempotency_token", None)
        if token is not None:
            return token
        exc = exc.__cause__ if exc.__cause__ is not None else exc.__context__
    return None


class _TransportFailure(Exception):
    """A send step got no complete answer: what the machine is told."""

    def __init__(self, kind, status, detail, stale=False):
        Exception.__init__(self, detail)
        self.kind = kind
        self.status = status
        self.detail = detail
        self.stale = stale  # a reused connection died before any byte: resend once


def _where(step):
    return "%s://%s:%d%s" % (step.scheme, step.host, step.port, step.path)


# ---- proxies, as libcurl reads them from the environment ---------------------------

_Proxy = namedtuple("_Proxy", "url host port authorization")


def _bypassed(host, no_proxy):
    """NO_PROXY as libcurl reads it: "*", host names matching themselves and their
    subdomains (a leading dot changes nothing), IP addresses and CIDR ranges."""
    import ipaddress  # only with a proxy configured: kept out of `import acmpca.aio`

    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in no_proxy.split(","):
        entry = entry.strip().lower().lstrip(".").strip("[]")
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
        elif host == entry or host.endswith("." + entry):
            return True
    return False


def _proxy_for(step, explicit=None):
    """The proxy a request goes through, or None: `explicit` (the client's
    Config(proxies), from machine.proxy()), else https_proxy / HTTPS_PROXY for https,
    http_proxy (lower case only, as libcurl) for http, else all_proxy / ALL_PROXY;
    never for NO_PROXY hosts, nor for a step that must not (the instance and
    container metadata endpoints: a proxy there would see their tokens)."""
    if step.no_proxy:
        return None
    env = os.environ
    if explicit:
        url = explicit
    elif step.scheme == "https":
        url = env.get("https_proxy") or env.get("HTTPS_PROXY")
    else:
        url = env.get("http_proxy")
    url = url or env.get("all_proxy") or env.get("ALL_PROXY")
    if not url or _bypassed(step.host, env.get("no_proxy") or env.get("NO_PROXY") or ""):
        return None
    import urllib.parse  # only with a proxy configured: kept out of `import acmpca.aio`

    parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    if parts.scheme != "http" or not parts.hostname:
        raise _TransportFailure("connect", 0, "proxy %s for %s: acmpca.aio speaks to http:// "
                                "proxies only" % (parts.scheme + "://" + (parts.hostname or ""),
                                                  _where(step)))
    authorization = None
    if parts.username is not None:
        credentials = "%s:%s" % (urllib.parse.unquote(parts.username),
                                 urllib.parse.unquote(parts.password or ""))
        authorization = b"Proxy-Authorization: Basic " + base64.b64encode(
            credentials.encode("utf-8")) + b"\r\n"
    port = parts.port or 1080  # libcurl's default proxy port
    return _Proxy("http://%s:%d" % (parts.hostname, port), parts.hostname, port, authorization)


def _authority(step):
    host = "[%s]" % step.host if ":" in step.host else step.host
    return "%s:%d" % (host, step.port)


# ---- one HTTP/1.1 connection ----------------------------------------------------

_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _TRAILER, _UNTIL_EOF = range(6)


class _Connection(asyncio.Protocol):
    """One connection: sends a request, parses the answer as it arrives, and
    completes `waiter` with (status, headers, body) or a _TransportFailure. A
    single timer per request enforces the read timeout (the longest silence) and
    the call's deadline."""

    def __init__(self, loop):
        self.loop = loop
        self.transport = None
        self.dead = False       # closed, closing, or not reusable
        self.gone = False       # connection_lost was called
        self.closed = None      # a future done at connection_lost, once asked for
        self.waiter = None      # the answer being awaited
        self.timer = None
        self.tunnel = None      # the answer to a proxy's CONNECT being awaited
        self.step = None
        self.buf = bytearray()

    # -- asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.dead = True
        self.gone = True
        if self.waiter is not None:
            self._eof(exc)
        if self.tunnel is not None and not self.tunnel.done():
            self.tunnel.set_exception(ConnectionError("the proxy closed the connection"))
        if self.closed is not None and not self.closed.done():
            self.closed.set_result(None)

    def eof_received(self):
        self.dead = True
        if self.waiter is not None:
            self._eof(None)
        return False  # close our side too

    def data_received(self, data):
        if self.waiter is None:
            if self.tunnel is not None:
                self._tunnel_data(data)
                return
            # Nothing was asked: a server talking out of turn is never reused.
            self.dead = True
            self.transport.abort()
            return
        self.last = self.loop.time()
        self.received += len(data)
        self.buf += data
        self._parse()

    # -- requests

    def request(self, data, step, deadline, reused):
        self.waiter = fut = self.loop.create_future()
        self.step = step
        self.deadline = deadline
        self.read_timeout = step.read_timeout
        self.max_bytes = step.max_response_bytes
        self.reused = reused
        self.received = 0
        self.state = _HEAD
        self.scan = 0
        self.status = 0
        self.head_request = step.method == "HEAD"
        del self.buf[:]
        self.last = self.loop.time()
        self.transport.write(data)
        self._arm()
        return fut

    def connect_through(self, request):
        """Send a proxy's CONNECT; a future of the status code it answers."""
        self.tunnel = self.loop.create_future()
        self.transport.write(request)
        return self.tunnel

    def _tunnel_data(self, data):
        buf = self.buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0 and len(buf) <= MAX_HEAD:
            return
        parts = bytes(buf[:buf.find(b"\r\n")]).split(None, 2)
        rest = end < 0 or len(buf) > end + 4
        del buf[:]
        fut, self.tunnel = self.tunnel, None
        if fut.done():
            return
        if rest or len(parts) < 2 or not parts[1].isdigit():
            fut.set_exception(ConnectionError("the proxy's answer to CONNECT is not HTTP"))
        else:
            fut.set_result(int(parts[1]))

    def reusable(self):
        return (not self.dead and self.waiter is None and self.transport is not None
                and not self.transport.is_closing())

    def abandon(self):
        """Close at once (a request in flight or a broken answer): never pooled."""
        self.dead = True
        self.waiter = None
        self.tunnel = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.transport is not None:
            self.transport.abort()

    def close(self):
        """Close an idle connection politely; a future done when it is gone."""
        self.dead = True
        if self.closed is None:
            self.closed = self.loop.create_future()
            if self.transport is None or self.gone:
                self.closed.set_result(None)
            else:
                self.transport.close()
        return self.closed

    # -- timeouts

    def _arm(self):
        at = self.last + self.read_timeout
        if self.deadline is not None and self.deadline < at:
            at = self.deadline
        self.timer = self.loop.call_at(at, self._on_timer)

    def _on_timer(self):
        self.timer = None
        if self.waiter is None:
            return
        now = self.loop.time()
        # The loop may run a timer up to its clock resolution early.
        if self.deadline is not None and now >= self.deadline - 0.001:
            self._fail("read_timeout", "total_timeout passed while waiting for")
        elif now - self.last >= self.read_timeout - 0.001:
            self._fail("read_timeout", "read timeout: no data from")
        else:
            self._arm()

    # -- outcomes

    def _fail(self, kind, what, stale=False):
        fut = self.waiter
        self.abandon()
        if fut is not None and not fut.done():
            fut.set_exception(_TransportFailure(kind, self.status, "%s %s" % (
                what, _where(self.step)), stale))

    def _complete(self, body, keep_alive):
        fut = self.waiter
        self.waiter = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not keep_alive or self.buf:
            self.dead = True
        if not fut.done():
            fut.set_result((self.status, self.headers, body))

    def _eof(self, exc):
        if self.state == _UNTIL_EOF and exc is None:
            body = bytes(self.buf)
            del self.buf[:]
            self._complete(body, False)
            return
        what = "connection closed early by" if exc is None else "connection reset by"
        self._fail("network", what, self.reused and self.received == 0)

    def _too_large(self):
        self._fail("too_large", "response is larger than the %d-byte limit from" % self.max_bytes)

    # -- parsing

    def _status_line(self):
        buf = self.buf
        nl = buf.find(b"\r\n")
        if nl < 0:
            return True
        parts = bytes(buf[:nl]).split(None, 2)
        if (len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3
                or not parts[1].isdigit()):
            self._fail("network", "no HTTP status line from")
            return False
        self.status = int(parts[1])
        self.http10 = parts[0] == b"HTTP/1.0"
        return True

    def _head(self, end):
        buf = self.buf
        if not self.status and (not self._status_line() or not self.status):
            return False
        lines = bytes(buf[:end]).split(b"\r\n")
        del buf[:end + 4]
        self.scan = 0
        status = self.status
        if 100 <= status < 200 and status != 101:
            self.status = 0  # an interim answer: the real one follows
            return True
        headers = []
        length = None
        chunked = False
        close = self.http10
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                self._fail("network", "a malformed header line from")
                return False
            name = name.strip().decode("latin-1")
            value = value.strip().decode("latin-1")
            headers.append((name, value))
            lower = name.lower()
            if lower == "content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
                if length < 0:
                    self._fail("network", "a bad Content-Length from")
                    return False
            elif lower == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif lower == "connection":
                token = value.lower()
                if "close" in token:
                    close = True
                elif "keep-alive" in token:
                    close = False
        self.headers = headers
        self.keep_alive = not close
        if self.head_request or status in (204, 304):
            self._complete(b"", self.keep_alive)
            return False
        if chunked:
            self.state = _CHUNK_SIZE
            self.chunks = []
            self.body_len = 0
        elif length is not None:
            if length > self.max_bytes:
                self._too_large()
                return False
            self.need = length
            self.state = _LENGTH
        else:
            self.state = _UNTIL_EOF
            self.keep_alive = False
        return True

    def _parse(self):
        buf = self.buf
        while self.waiter is not None:
            state = self.state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n", self.scan)
                if end < 0:
                    if not self.status and not self._status_line():
                        return
                    if len(buf) - buf.rfind(b"\n") - 1 > MAX_LINE:
                        self._fail("too_large", "a response header line over the %d-byte "
                                                "limit from" % MAX_LINE)
                    elif len(buf) > MAX_HEAD:
                        self._fail("too_large", "response headers over the %d-byte limit "
                                                "from" % MAX_HEAD)
                    self.scan = max(0, len(buf) - 3)
                    return
                if not self._head(end):
                    return
            elif state == _LENGTH:
                need = self.need
                if len(buf) < need:
                    return
                if len(buf) == need:
                    body = bytes(buf)
                    del buf[:]
                else:
                    body = bytes(buf[:need])
                    del buf[:need]
                self._complete(body, self.keep_alive)
                return
            elif state == _CHUNK_SIZE:
                nl = buf.find(b"\r\n")
                if nl < 0:
                    if len(buf) > MAX_LINE:
                        self._fail("network", "a bad chunk from")
                    return
                try:
                    size = int(bytes(buf[:nl]).split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._fail("network", "a bad chunk size from")
                    return
                del buf[:nl + 2]
                if size == 0:
                    self.state = _TRAILER
                elif self.body_len + size > self.max_bytes:
                    self._too_large()
                    return
                else:
                    self.need = size
                    self.state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                need = self.need
                if len(buf) < need + 2:
                    return
                if buf[need:need + 2] != b"\r\n":
                    self._fail("network", "a bad chunk from")
                    return
                self.chunks.append(bytes(buf[:need]))
                self.body_len += need
                del buf[:need + 2]
                self.state = _CHUNK_SIZE
            elif state == _TRAILER:
                nl = buf.find(b"\r\n")
                if nl < 0:
                    if len(buf) > MAX_LINE:
                        self._fail("too_large", "a trailer line over the limit from")
                    return
                del buf[:nl + 2]
                if nl == 0:
                    self._complete(b"".join(self.chunks), self.keep_alive)
                    return
            else:  # _UNTIL_EOF
                if len(buf) > self.max_bytes:
                    self._too_large()
                return


# ---- the connection pool ---------------------------------------------------------

def _expire(fut, step):
    if not fut.done():
        fut.set_exception(_TransportFailure(
            "read_timeout", 0, "total_timeout passed while waiting for a connection to %s"
            % (_where(step) if step is not None else "the endpoint")))


class _Host:
    """The connections to one (scheme, host, port): at most `limit` open, idle
    ones reused newest first, callers beyond the limit queued in order."""

    def __init__(self, limit, proxy):
        self.limit = limit
        self.proxy = proxy      # the _Proxy its connections go through, or None
        self.busy = 0           # connections in use or being opened
        self.idle = []
        self.waiters = deque()

    async def acquire(self, loop, deadline, step):
        if self.busy < self.limit and not self.waiters:
            self.busy += 1
            return
        fut = loop.create_future()
        self.waiters.append(fut)
        timer = loop.call_at(deadline, _expire, fut, step) if deadline is not None else None
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.release()  # handed a slot, then cancelled: pass it on
            else:
                try:
                    self.waiters.remove(fut)
                except ValueError:
                    pass
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def release(self):
        waiters = self.waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes on
                return
        self.busy -= 1

    def take_idle(self):
        idle = self.idle
        while idle:
            conn = idle.pop()
            if conn.reusable():
                return conn
            conn.abandon()
        return None


class _Driver:
    """Moves the bytes of a client's send steps: the pools, TLS contexts and
    the User-Agent, bound to one event loop at a time."""

    def __init__(self, pool_size, user_agent, total_timeout):
        self.pool_size = pool_size
        self.ua_line = ("User-Agent: %s\r\n\r\n" % user_agent).encode("latin-1")
        self.total_timeout = total_timeout
        self.hosts = {}
        self.main = None        # the endpoint's pool key, from the first call there
        self.ssl_contexts = {}
        self.loop = None
        self.closed = False

    def _bind(self, loop):
        # Connections belong to the loop that opened them.
        for host in self.hosts.values():
            for conn in host.idle:
                try:
                    conn.abandon()
                except RuntimeError:  # that loop is closed
                    pass
        self.hosts = {}
        self.main = None
        self.loop = loop

    def host(self, step, explicit=None):
        """The pool for a step's destination (raises _TransportFailure for a proxy
        setting acmpca.aio cannot use); `explicit`: the client's proxy, if any."""
        proxy = _proxy_for(step, explicit)
        key = (step.scheme, step.host, step.port, proxy)
        host = self.hosts.get(key)
        if host is None:
            host = self.hosts[key] = _Host(self.pool_size, proxy)
        if self.main is None and not step.credentials:
            self.main = key
        return host

    def main_host(self):
        """The endpoint's pool, once a call has gone there, else None."""
        return self.hosts.get(self.main) if self.main is not None else None

    async def exchange(self, loop, host, step, deadline, extra=b""):
        """One request on a connection of `host` (whose slot the caller holds); `extra`:
        header lines a before-send handler added (unsigned)."""
        proxy = host.proxy
        if proxy is not None and step.scheme == "http":
            # Through an HTTP proxy, plain http asks for the absolute URL.
            head = step.head
            eol = head.index(b"\r\n")
            data = b"".join((head[:head.index(b" ")], b" ", step.url.encode("latin-1"),
                             b" HTTP/1.1\r\n", head[eol + 2:], proxy.authorization or b"",
                             extra, self.ua_line, step.body))
        else:
            data = step.head + extra + self.ua_line + step.body
        conn = None
        try:
            conn = host.take_idle()
            if conn is not None:
                try:
                    return await conn.request(data, step, deadline, True)
                except _TransportFailure as e:
                    if not e.stale:
                        raise
                    conn = None  # the server had closed it: once more on a new one
            conn = await self._connect(loop, step, deadline, proxy)
            return await conn.request(data, step, deadline, False)
        finally:
            if conn is not None:
                if conn.reusable() and not self.closed and self.hosts.get(
                        (step.scheme, step.host, step.port, proxy)) is host:
                    host.idle.append(conn)
                else:
                    conn.abandon()

    def _ssl_context(self, step):
        key = (step.verify, step.ca_bundle)
        ctx = self.ssl_contexts.get(key)
        if ctx is not None:
            return ctx
        try:
            if step.verify:
                ctx = ssl.create_default_context(cafile=step.ca_bundle)
            else:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
        except (OSError, ssl.SSLError) as e:
            raise _TransportFailure("tls", 0, "could not load the CA bundle %s for %s: %s" % (
                step.ca_bundle, _where(step), e)) from None
        self.ssl_contexts[key] = ctx
        return ctx

    async def _open(self, loop, conn, step, ctx, proxy):
        where = _where(step) if proxy is None else "proxy %s for %s" % (proxy.url, _where(step))
        try:
            await loop.create_connection(lambda: conn, *(
                (step.host, step.port) if proxy is None else (proxy.host, proxy.port)))
        except OSError as e:
            raise _TransportFailure("connect", 0, "could not connect to %s: %s" % (
                where, e.strerror or e)) from None
        if proxy is not None and step.scheme == "https":
            authority = _authority(step).encode("latin-1")
            try:
                status = await conn.connect_through(
                    b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
                        authority, authority, proxy.authorization or b""))
            except ConnectionError as e:
                raise _TransportFailure("connect", 0, "could not connect to %s: %s" % (
                    where, e)) from None
            if status // 100 != 2:
                raise _TransportFailure("connect", 0, "could not connect to %s: the proxy "
                                        "answered HTTP %d to CONNECT" % (where, status))
        if ctx is not None:
            try:
                conn.transport = await loop.start_tls(conn.transport, conn, ctx,
                                                      server_hostname=step.host)
            except (OSError, ssl.SSLError, ssl.CertificateError) as e:
                raise _TransportFailure("tls", 0, "TLS handshake with %s failed: %s" % (
                    _where(step), e)) from None

    async def _connect(self, loop, step, deadline, proxy):
        ctx = None
        if step.scheme == "https":
            ctx = self._ssl_context(step)
        elif step.scheme != "http":
            raise _TransportFailure("connect", 0, "unsupported scheme in %s" % _where(step))
        timeout, kind, what = step.connect_timeout, "connect_timeout", "connect timeout on"
        if deadline is not None and deadline - loop.time() < timeout:
            timeout = max(0.0, deadline - loop.time())
            kind, what = "read_timeout", "total_timeout passed while connecting to"
        conn = _Connection(loop)
        try:
            await asyncio.wait_for(self._open(loop, conn, step, ctx, proxy), timeout)
        except asyncio.TimeoutError:
            conn.abandon()
            raise _TransportFailure(kind, 0, "%s %s" % (what, _where(step))) from None
        except BaseException:
            conn.abandon()
            raise
        return conn

    async def aclose(self):
        self.closed = True
        gone = []
        for host in self.hosts.values():
            while host.idle:
                gone.append(host.idle.pop().close())
        if gone:
            # A TLS close_notify takes a round trip: bounded, then cut.
            done, pending = await asyncio.wait(gone, timeout=1.0)
            for fut in pending:
                fut.cancel()

    def __del__(self):
        for host in self.hosts.values():
            for conn in host.idle:
                try:
                    conn.abandon()
                except Exception:  # the loop is gone already
                    pass


def _user_agent(extra):
    ua = "acmpca/%s asyncio python/%d.%d" % (_acmpca.__version__, sys.version_info[0],
                                               sys.version_info[1])
    return ua + " " + extra if extra else ua


# ---- the client --------------------------------------------------------------------

class _Hooks:
    """The event handlers' part in a call (client.meta.events): what _run does between
    the machine's steps when a handler is registered. The events, their arguments and
    order are acmpca._events', as the blocking client's; handlers may be coroutines."""

    def __init__(self, call):
        from . import _events

        self.call = call
        self.drive = lambda phase: _events._adrive(call.emitter, phase)
        self.sign = call.wants("before-sign", "request-created")
        self.send = call.wants("before-send")
        self.retry = call.wants("needs-retry")
        self.last = None  # (status, headers, body) of the last answer to the call's request

    async def before_sign(self, m, step):
        added = await self.drive(self.call.sign(step.attempt, (step.method, step.url,
                                                                step.headers, step.body)))
        for name, value in (added or {}).items():
            m._set_header(name, value)

    async def before_send(self, m, step):
        """(answer, extra): a handler's answer, reported to the machine, or the header
        lines it added, to send unsigned (and signed on later attempts, as the blocking
        client)."""
        answer, added = await self.drive(self.call.send(step.attempt, (
            step.method, step.url, step.headers, step.body)))
        if answer is not None:
            status, headers, body = answer
            self.last = (status, list(headers.items()), body)
            m.response(*self.last)
            return answer, b""
        extra = []
        for name, value in (added or {}).items():
            m._set_header(name, value)  # refuses what the blocking client refuses
            extra.append(("%s: %s\r\n" % (name, value)).encode("utf-8"))
        return None, b"".join(extra)

    async def after_attempt(self, m, step):
        exc = m._attempt_error()  # first: it reads what the machine just decided
        await self.drive(self.call.retry(step.attempt, exc))

    async def end(self, m):
        try:
            parsed, exc = m.result(), None
        except Exception as e:
            parsed, exc = getattr(e, "response", None), e
        status, headers, body = self.last or (None, None, None)
        if headers is not None:
            headers = {k.lower(): v for k, v in headers}
        return await self.drive(self.call.end(status, headers, body, parsed, exc))


async def _call_with_events(client, method_name, operation_name, params):
    from . import _events

    call = _events._Call(client._sync, operation_name)
    hooks = _Hooks(call)
    answered, parsed = await hooks.drive(call.begin(params))
    if answered:
        return parsed
    return await _run(client._driver, client._sync._machine(method_name, **call.params), hooks)


async def _run(driver, m, hooks=None):
    """Drive one machine to its end: the blocking method's result or exception.

    A call asks the machine for its next step only while it holds a connection
    slot of the endpoint: a thousand calls at once queue for the pool before any
    is signed, so the loop never spends a long turn signing requests that cannot
    be sent yet, and a signature is never older than the wait for its socket.
    The slot is kept from the answer to the next decision and let go for a sleep.
    `hooks` (a _Hooks, only while event handlers are registered) runs them between
    the steps.
    """
    loop = asyncio.get_running_loop()
    if loop is not driver.loop:
        driver._bind(loop)
    deadline = loop.time() + driver.total_timeout if driver.total_timeout else None
    held = None  # the _Host whose slot this call holds
    try:
        if hooks is not None and hooks.sign:
            m._stop_before_signing()
        while True:
            if held is None:
                main = driver.main_host()
                if main is not None:
                    try:
                        await main.acquire(loop, deadline, None)
                        held = main
                    except _TransportFailure:
                        pass  # past the deadline: the machine says so
            step = m.next()
            kind = step.kind
            if kind == _SEND:
                extra = b""
                if hooks is not None and not step.credentials:
                    if hooks.send:
                        answer, extra = await hooks.before_send(m, step)
                        if answer is not None:
                            continue
                    hooks.last = None
                try:
                    host = driver.host(step, m.proxy())
                except _TransportFailure as e:
                    m.transport_error(e.kind, e.status, e.detail)
                    continue
                until = loop.time() + step.deadline if step.deadline is not None else None
                if host is not held:
                    if held is not None:
                        held.release()
                        held = None
                    try:
                        await host.acquire(loop, until, step)
                        held = host
                    except _TransportFailure as e:
                        m.transport_error(e.kind, e.status, e.detail)
                        continue
                try:
                    answer = await driver.exchange(loop, host, step, until, extra)
                except _TransportFailure as e:
                    m.transport_error(e.kind, e.status, e.detail)
                else:
                    m.response(*answer)
                    if hooks is not None and not step.credentials:
                        hooks.last = answer
            elif kind == _SIGN:
                await hooks.before_sign(m, step)
            else:
                if held is not None:
                    held.release()
                    held = None
                if kind == _SLEEP:
                    if hooks is not None and hooks.retry and step.reason == _BACKOFF:
                        await hooks.after_attempt(m, step)
                    await asyncio.sleep(step.sleep)
                elif hooks is not None:
                    return await hooks.end(m)
                else:
                    return m.result()
    except BaseException as e:
        token = m.idempotency_token
        if token is not None and getattr(e, "idempotency_token", None) is None:
            try:
                e.idempotency_token = token
            except (AttributeError, TypeError):
                pass
        raise
    finally:
        if held is not None:
            held.release()
        m.close()


class Waiter:
    """A waiter from Client.get_waiter(name): `await waiter.wait(**kwargs)`."""

    def __init__(self, client, waiter):
        self._client = client
        self._waiter = waiter

    name = property(lambda self: self._waiter.name, doc="The waiter's model name.")
    config = property(lambda self: self._waiter.config,
                      doc="The model's delay, max_attempts and operation.")

    async def wait(self, *args, **kwargs):
        """wait(**kwargs, WaiterConfig={'Delay': s, 'MaxAttempts': n}) -> None

        Call the waiter's operation until it succeeds, pausing with asyncio.sleep
        between polls (cancel the task to stop). Ends as the blocking waiter and
        botocore's do: acmpca.WaiterError(name, reason, last_response) on a failure
        state, on a service error no acceptor expects (its __cause__) and after
        MaxAttempts; errors that are not the service's propagate as they are."""
        from . import _compat

        prepared = self._waiter._prepare(*args, **kwargs)
        await _compat.wait_async(self._waiter, getattr(self._client, self._waiter._method_name),
                                 prepared)

    def __repr__(self):
        return "<acmpca.aio.Waiter %s>" % self._waiter.name


_output_tokens = {}


def _output_token(pages):
    if not _output_tokens:
        for p in _acmpca._model()["paginators"].values():
            _output_tokens[p["result_key"], p["operation"]] = p["output_token"]
    for (key, _), token in _output_tokens.items():
        if key == pages.result_key:
            return token
    return "NextToken"


class PageIterator:
    """The pages of a paginate() call: `async for page in it`, each iteration
    starting over (as the blocking PageIterator), or
    `await it.build_full_result()`."""

    def __init__(self, client, pages, method_name):
        self._client = client
        self._pages = pages
        self._method_name = method_name

    resume_token = property(lambda self: self._pages.resume_token,
                            doc="The StartingToken to go on where MaxItems stopped, or None.")
    result_key = property(lambda self: self._pages.result_key,
                          doc="The member holding each page's items.")
    result_keys = property(lambda self: self._pages.result_keys,
                           doc="botocore's result_keys (jmespath expressions).")
    non_aggregate_part = property(lambda self: self._pages.non_aggregate_part,
                                  doc="botocore's non_aggregate_part: {} for ACM PCA.")

    def search(self, expression):
        """search(expression) -> async iterator: each page searched with a JMESPath
        expression, list results item by item (botocore's, as aiobotocore's
        `async for item in pages.search(...)`). Needs the jmespath package."""
        from . import _compat

        return _compat.search_async(self, expression)

    def __aiter__(self):
        iter(self._pages)  # starts over
        return self

    async def __anext__(self):
        if self._client._sync._hooked:
            page = await self._hooked_page()
        else:
            page = await _run(self._client._driver, self._pages._machine())
        if page is None:
            raise StopAsyncIteration
        return page

    async def _hooked_page(self):
        # With event handlers, a page is a call of the client's method (handlers and the
        # Stubber see it), as the blocking PageIterator's and botocore's pages are.
        kwargs = self._pages._hooked_request()
        if kwargs is None:
            return None
        name = self._method_name
        if not name.islower():  # get_paginator("ListPermissions") works too
            api = self._client.meta.method_to_api_mapping
            name = next((k for k, v in api.items() if v == name), name)
        try:
            parsed = await getattr(self._client, name)(**kwargs)
        except BaseException:
            self._pages._hooked_accept(None)
            raise
        return self._pages._hooked_accept(parsed)

    async def build_full_result(self):
        """Every page's items in one list under the result key, plus NextToken when
        MaxItems stopped early: as boto3's (and the blocking client's)."""
        key = self._pages.result_key
        result, items = {}, None
        async for page in self:
            value = page.get(key)
            if isinstance(value, list):
                if items is None:
                    items = result[key] = []
                items.extend(value)
        token = self._pages.resume_token
        if token is not None:
            result[_output_token(self._pages)] = token
        return result

    def __repr__(self):
        return "<acmpca.aio.PageIterator %s>" % self._pages.result_key


class Paginator:
    """A paginator from Client.get_paginator(name): paginate(**kwargs) returns an
    async iterator of pages (no I/O until iterated; bad arguments raise at once)."""

    def __init__(self, client, paginator, method_name):
        self._client = client
        self._paginator = paginator
        self._method_name = method_name

    def paginate(self, *args, **kwargs):
        return PageIterator(self._client, self._paginator.paginate(*args, **kwargs),
                            self._method_name)

    result_keys = property(lambda self: self._paginator.result_keys,
                           doc="botocore's result_keys (jmespath expressions).")

    def __repr__(self):
        return repr(self._paginator).replace("<acmpca.", "<acmpca.aio.")


class Client:
    """Client(region_name=None, endpoint_url=None, aws_access_key_id=None,
    aws_secret_access_key=None, aws_session_token=None, profile_name=None,
    verify=None, config=None, *, connect_timeout=None, read_timeout=None,
    retries=None, max_pool_connections=None, use_fips_endpoint=None,
    use_dualstack_endpoint=None, rate_limit=None, user_agent_extra=None,
    max_response_bytes=None, total_timeout=None)

    The asyncio client: acmpca.Client's arguments and Config, resolved the same
    way (no I/O here); each operation is a coroutine method with acmpca.Client's
    name, keyword arguments, result and exceptions. max_pool_connections bounds
    the open connections per endpoint (default 10); calls beyond it wait for one.
    Use `async with`, or `await client.close()`. A client serves the event loop
    that uses it (moving to another loop drops the idle connections)."""

    def __init__(self, *args, **kwargs):
        self._setup(_acmpca.Client(*args, **kwargs), kwargs)

    @classmethod
    def _wrap(cls, sync, kwargs):
        self = cls.__new__(cls)
        self._setup(sync, kwargs)
        return self

    def _setup(self, sync, kwargs):
        config = sync.meta._config_given
        pool = kwargs.get("max_pool_connections")
        if pool is None:
            pool = getattr(config, "max_pool_connections", None)
        extra = kwargs.get("user_agent_extra")
        if extra is None:
            extra = getattr(config, "user_agent_extra", None)
        total = kwargs.get("total_timeout")
        if total is None:
            total = getattr(config, "total_timeout", None)
        self._sync = sync
        self._driver = _Driver(pool or DEFAULT_POOL_CONNECTIONS, _user_agent(extra), total)

    closed = property(lambda self: self._sync.closed, doc="True once close() was called.")
    exceptions = property(lambda self: self._sync.exceptions,
                          doc="The service exception classes and ClientError (acmpca's).")
    meta = property(lambda self: self._sync.meta,
                    doc="region_name, endpoint_url, service_name, config: as boto3's.")
    waiter_names = property(lambda self: self._sync.waiter_names,
                            doc="The names get_waiter() accepts.")

    def get_waiter(self, waiter_name):
        return Waiter(self, self._sync.get_waiter(waiter_name))

    def get_paginator(self, operation_name):
        return Paginator(self, self._sync.get_paginator(operation_name), operation_name)

    def can_paginate(self, operation_name):
        return self._sync.can_paginate(operation_name)

    async def close(self):
        """Close the idle connections; later calls raise acmpca.GeneralError. Calls
        still running finish first. Closing twice is fine."""
        self._sync.close()
        await self._driver.aclose()

    async def __aenter__(self):
        self._sync.__enter__()  # a closed client raises GeneralError
        return self

    async def __aexit__(self, *exc_info):
        await self.close()

    def __repr__(self):
        return repr(self._sync).replace("<acmpca.Client", "<acmpca.aio.Client", 1)

    async def request_certificate(self, certificate_authority_arn, **kwargs):
        """request_certificate(certificate_authority_arn, *, csr=None, key_type=None,
        common_name=None, organization=None, organizational_unit=None, country=None,
        state=None, locality=None, dns_names=(), ip_addresses=(), emails=(), uris=(),
        signing_algorithm=None, template_arn=None, validity_days=365,
        wait_delay=None, wait_max_attempts=None) -> dict

        Issue a certificate and wait for it, as acmpca.Client.request_certificate:
        a key and a CSR (unless `csr` is given), IssueCertificate (signing algorithm:
        the CA's own unless given), the certificate_issued waiter (asyncio pauses):
        the core's request_certificate machine, driven on the loop.
        Returns {'CertificateArn', 'Certificate', 'CertificateChain', 'PrivateKey'
        (None when a CSR was given), 'Csr'}."""
        if self._sync._hooked:
            # With event handlers, each call and poll is one they see (acmpca._compat).
            from . import _compat

            return await _compat.request_certificate_async(self, certificate_authority_arn,
                                                           **kwargs)
        # The core's request_certificate machine: the blocking client's flow, on the loop.
        return await _run(self._driver,
                          self._sync._request_machine(certificate_authority_arn, **kwargs))

    async def issue_and_wait(self, certificate_authority_arn, **kwargs):
        """The same as request_certificate()."""
        return await self.request_certificate(certificate_authority_arn, **kwargs)


def _operation(name, sync_method):
    operation_name = sync_method.operation_name

    async def method(self, *args, **kwargs):
        # A handler on client.meta.events (the blocking client's emitter, shared) turns
        # its flag on; without one a call costs the flag's read and nothing more.
        if self._sync._hooked and not args:
            return await _call_with_events(self, name, operation_name, kwargs)
        return await _run(self._driver, self._sync._machine(name, *args, **kwargs))

    method.__name__ = name
    method.__qualname__ = "Client." + name
    method.__doc__ = ("await client.%s(**kwargs) -> dict (a coroutine: pauses and I/O run on "
                      "the event loop)\n\n%s" % (name, sync_method.__doc__.split("\n\n", 1)[-1]))
    method.operation_name = operation_name
    return method


_OperationMethod = type(_acmpca.Client.get_certificate)
for _name, _method in sorted(vars(_acmpca.Client).items()):
    if isinstance(_method, _OperationMethod):
        setattr(Client, _name, _operation(_name, _method))
del _name, _method


def client(*args, **kwargs):
    """client(region_name=None, endpoint_url=None, aws_access_key_id=None,
    aws_secret_access_key=None, aws_session_token=None, profile_name=None, verify=None,
    config=None) -> acmpca.aio.Client

    A new asyncio client (see Client). A leading "acm-pca" service name, as in
    aiobotocore's session.create_client("acm-pca", ...), is accepted and skipped."""
    return Client._wrap(_sync_client(*args, **kwargs), kwargs)
