"""What a failed call looks like from inside each language's usual client libraries:
the exception type and message, and the stack trace or traceback lines around it.

`client_error(lang, kind, tgt, rng)` returns an `Err` for a caller written in `lang`
(java, python, go, node) failing to reach `tgt` with one of the error kinds below. The
wording follows each library's documented or widely known messages; the target is named
the way that library names it (host, URL, pool), which is how callers "blame" a
dependency in their logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .util import Rng

KINDS = ("timeout", "connect_timeout", "refused", "reset", "dns", "tls", "tls_peer", "http",
         "ratelimit", "pool", "db", "redis", "kafka", "amqp", "s3", "unavailable")


@dataclass
class Target:
    """How a caller addresses a dependency."""

    name: str               # the service name (what truth uses)
    host: str               # the DNS name the caller dials
    port: int
    kind: str               # http, grpc, sql, redis, kafka, amqp, s3, ext
    path: str = "/"
    method: str = "GET"
    ip: str = "10.96.0.1"
    db_system: str = ""     # postgresql, mysql, redis
    db_name: str = ""
    topic: str = ""
    bucket: str = ""
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


@dataclass
class Err:
    etype: str
    emsg: str
    lines: list[str] = field(default_factory=list)  # continuation lines for text logs
    text: str = ""  # one-line form (Go error strings, structured fields)


def _java_frames(rng: Rng, pkg: str, lib: list[str]) -> list[str]:
    cls = rng.pick(["Controller", "Service", "Client", "Gateway", "Repository", "Handler"])
    base = pkg.split(".")[-1].capitalize()
    app = [f"{pkg}.{base}{cls}.{rng.pick(['fetch', 'load', 'submit', 'lookup', 'reserve', 'charge', 'find'])}"
           f"({base}{cls}.java:{rng.randrange(40, 400)})",
           f"{pkg}.web.{base}Controller.handle({base}Controller.java:{rng.randrange(30, 200)})"]
    tail = ["org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
            "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)"]
    frames = lib + app + tail
    out = ["\tat " + f for f in frames]
    out.append(f"\t... {rng.randrange(40, 90)} more" if rng.chance(0.3) else
               "\tat org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:61)")
    return out


JAVA_LIB = {
    "http": ["java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)",
             "java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)",
             "org.apache.hc.core5.http.impl.io.SessionInputBufferImpl.fillBuffer(SessionInputBufferImpl.java:149)",
             "org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:894)",
             "org.springframework.web.client.RestTemplate.getForObject(RestTemplate.java:425)"],
    "connect": ["java.base/sun.nio.ch.Net.pollConnect(Native Method)",
                "java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:547)",
                "java.base/java.net.Socket.connect(Socket.java:751)",
                "org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator.connect(DefaultHttpClientConnectionOperator.java:205)",
                "org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:894)"],
    "dns": ["java.base/java.net.InetAddress$CachedLookup.get(InetAddress.java:988)",
            "java.base/java.net.InetAddress.getAllByName0(InetAddress.java:1818)",
            "java.base/java.net.InetAddress.getAllByName(InetAddress.java:1688)",
            "org.apache.hc.client5.http.SystemDefaultDnsResolver.resolve(SystemDefaultDnsResolver.java:43)",
            "org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:894)"],
    "tls": ["java.base/sun.security.ssl.Alert.createSSLException(Alert.java:130)",
            "java.base/sun.security.ssl.TransportContext.fatal(TransportContext.java:378)",
            "java.base/sun.security.ssl.CertificateMessage$T13CertificateConsumer.checkServerCerts(CertificateMessage.java:1335)",
            "java.base/sun.security.ssl.SSLSocketImpl.startHandshake(SSLSocketImpl.java:448)",
            "org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:894)"],
    "httpstatus": ["org.springframework.web.client.HttpServerErrorException.create(HttpServerErrorException.java:102)",
                   "org.springframework.web.client.DefaultResponseErrorHandler.handleError(DefaultResponseErrorHandler.java:186)",
                   "org.springframework.web.client.RestTemplate.handleResponse(RestTemplate.java:942)",
                   "org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:891)"],
    "jdbc": ["com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)",
             "com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179)",
             "com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:128)",
             "org.springframework.jdbc.datasource.DataSourceUtils.fetchConnection(DataSourceUtils.java:160)",
             "org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:653)"],
    "pg": ["org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)",
           "org.postgresql.core.v3.QueryExecutorImpl.processResults(QueryExecutorImpl.java:2412)",
           "org.postgresql.jdbc.PgPreparedStatement.executeQuery(PgPreparedStatement.java:134)",
           "com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeQuery(HikariProxyPreparedStatement.java)",
           "org.springframework.jdbc.core.JdbcTemplate.query(JdbcTemplate.java:723)"],
    "redis": ["io.lettuce.core.internal.Exceptions.bubble(Exceptions.java:83)",
              "io.lettuce.core.internal.Futures.awaitOrCancel(Futures.java:250)",
              "io.lettuce.core.FutureSyncInvocationHandler.handleInvocation(FutureSyncInvocationHandler.java:75)",
              "org.springframework.data.redis.connection.lettuce.LettuceConnection.await(LettuceConnection.java:1015)"],
    "kafka": ["org.apache.kafka.clients.producer.internals.FutureRecordMetadata.valueOrError(FutureRecordMetadata.java:97)",
              "org.apache.kafka.clients.producer.internals.FutureRecordMetadata.get(FutureRecordMetadata.java:79)",
              "org.springframework.kafka.core.KafkaTemplate.doSend(KafkaTemplate.java:793)"],
    "s3": ["software.amazon.awssdk.services.s3.model.S3Exception$BuilderImpl.build(S3Exception.java:104)",
           "software.amazon.awssdk.core.internal.http.CombinedResponseHandler.handleErrorResponse(CombinedResponseHandler.java:125)",
           "software.amazon.awssdk.services.s3.DefaultS3Client.putObject(DefaultS3Client.java:10191)"],
    "amqp": ["org.springframework.amqp.rabbit.connection.CachingConnectionFactory.createBareChannel(CachingConnectionFactory.java:702)",
             "org.springframework.amqp.rabbit.core.RabbitTemplate.doSend(RabbitTemplate.java:2398)",
             "org.springframework.amqp.rabbit.core.RabbitTemplate.convertAndSend(RabbitTemplate.java:1035)"],
}


def java_error(kind: str, t: Target, rng: Rng, detail: str, status: int, pkg: str) -> Err:
    m = t.method
    if kind in ("timeout", "connect_timeout"):
        inner = ("java.net.SocketTimeoutException", "Read timed out" if kind == "timeout" else "Connect timed out")
        outer = ("org.springframework.web.client.ResourceAccessException",
                 f'I/O error on {m} request for "{t.url}": {inner[1]}')
        lib = JAVA_LIB["http" if kind == "timeout" else "connect"]
    elif kind in ("refused", "reset"):
        inner = ("java.net.ConnectException", "Connection refused") if kind == "refused" else \
            ("java.net.SocketException", "Connection reset")
        outer = ("org.springframework.web.client.ResourceAccessException",
                 f'I/O error on {m} request for "{t.url}": {inner[1]}')
        lib = JAVA_LIB["connect"]
    elif kind == "dns":
        inner = ("java.net.UnknownHostException", f"{t.host}: {detail or 'Temporary failure in name resolution'}")
        outer = ("org.springframework.web.client.ResourceAccessException",
                 f'I/O error on {m} request for "{t.url}": {inner[1]}')
        lib = JAVA_LIB["dns"]
    elif kind == "tls":
        inner = ("java.security.cert.CertificateExpiredException", f"NotAfter: {detail}")
        outer = ("javax.net.ssl.SSLHandshakeException",
                 "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed")
        lib = JAVA_LIB["tls"]
    elif kind == "tls_peer":
        inner = ("javax.net.ssl.SSLHandshakeException", "Received fatal alert: certificate_expired")
        outer = ("org.springframework.web.client.ResourceAccessException",
                 f'I/O error on {m} request for "{t.url}": Received fatal alert: certificate_expired')
        lib = JAVA_LIB["tls"]
    elif kind in ("http", "ratelimit", "unavailable"):
        code = status or (429 if kind == "ratelimit" else 503)
        name = {429: "HttpClientErrorException$TooManyRequests", 500: "HttpServerErrorException$InternalServerError",
                502: "HttpServerErrorException$BadGateway", 503: "HttpServerErrorException$ServiceUnavailable",
                504: "HttpServerErrorException$GatewayTimeout", 507: "HttpServerErrorException"}.get(
                    code, "HttpServerErrorException")
        from .fmtbase import HTTP_PHRASE
        body = '"{""error"":""rate limit exceeded""}"' if code == 429 else "[no body]"
        inner = (f"org.springframework.web.client.{name}", f"{code} {HTTP_PHRASE.get(code, '')}: {body}")
        outer = None
        lib = JAVA_LIB["httpstatus"]
    elif kind == "pool":
        inner = ("java.sql.SQLTransientConnectionException",
                 f"HikariPool-1 - Connection is not available, request timed out after {detail or '30000'}ms.")
        outer = ("org.springframework.jdbc.CannotGetJdbcConnectionException", "Failed to obtain JDBC Connection")
        lib = JAVA_LIB["jdbc"]
    elif kind == "db":
        if t.db_system == "mysql":
            inner = ("com.mysql.cj.jdbc.exceptions.CommunicationsException", detail or "Communications link failure")
        else:
            inner = ("org.postgresql.util.PSQLException", detail or
                     f"Connection to {t.host}:{t.port} refused. Check that the hostname and port are correct "
                     "and that the postmaster is accepting TCP/IP connections.")
        outer = ("org.springframework.dao.DataAccessResourceFailureException",
                 f"PreparedStatementCallback; {inner[1]}")
        lib = JAVA_LIB["pg"]
    elif kind == "redis":
        inner = ("io.lettuce.core.RedisCommandExecutionException", detail) if detail else \
            ("io.lettuce.core.RedisConnectionException", f"Unable to connect to {t.host}/{t.ip}:{t.port}")
        outer = ("org.springframework.data.redis.RedisSystemException", "Error in execution")
        lib = JAVA_LIB["redis"]
    elif kind == "kafka":
        inner = ("org.apache.kafka.common.errors.TimeoutException", detail or
                 f"Expiring {rng.randrange(2, 40)} record(s) for {t.topic}-{rng.randrange(0, 12)}:120000 ms has passed since batch creation")
        outer = ("org.springframework.kafka.KafkaException", "Send failed")
        lib = JAVA_LIB["kafka"]
    elif kind == "amqp":
        inner = ("java.util.concurrent.TimeoutException", "")
        outer = ("org.springframework.amqp.AmqpTimeoutException", "java.util.concurrent.TimeoutException")
        lib = JAVA_LIB["amqp"]
    elif kind == "s3":
        inner = ("software.amazon.awssdk.services.s3.model.S3Exception",
                 f"{detail} (Service: S3, Status Code: {status or 507}, Request ID: {rng.hexid(8).upper()})")
        outer = None
        lib = JAVA_LIB["s3"]
    else:
        raise ValueError(kind)
    head = outer or inner
    lines = [f"{head[0]}: {head[1]}"] + _java_frames(rng, pkg, lib[-2:])
    if outer:
        lines.append(f"Caused by: {inner[0]}" + (f": {inner[1]}" if inner[1] else ""))
        lines += ["\tat " + f for f in lib[:3]]
        lines.append(f"\t... {rng.randrange(20, 60)} common frames omitted")
    return Err(head[0], head[1], lines, f"{head[0]}: {head[1]}")


def _py_tb(rng: Rng, mod: str, lib: list[tuple[str, int, str, str]], etype: str, emsg: str) -> list[str]:
    app = [(f"/app/{mod}/handlers.py", rng.randrange(30, 300), rng.pick(["get_item", "create", "checkout", "sync", "handle"]),
            f"result = client.{rng.pick(['fetch', 'call', 'post', 'get'])}(payload)"),
           (f"/app/{mod}/clients.py", rng.randrange(20, 200), "_request", "resp = self.session.request(method, url, timeout=self.timeout)")]
    out = ["Traceback (most recent call last):"]
    for f, n, fn, code in app + lib:
        out += [f'  File "{f}", line {n}, in {fn}', f"    {code}"]
    out.append(f"{etype}: {emsg}" if emsg else etype)
    return out


PY_LIB = {
    "requests": [("/usr/local/lib/python3.11/site-packages/requests/sessions.py", 589, "request", "resp = self.send(prep, **send_kwargs)"),
                 ("/usr/local/lib/python3.11/site-packages/requests/adapters.py", 519, "send", "raise ConnectionError(e, request=request)")],
    "sqlalchemy": [("/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/impl.py", 164, "_do_get", "raise exc.TimeoutError(")],
    "psycopg2": [("/usr/local/lib/python3.11/site-packages/psycopg2/__init__.py", 122, "connect", "conn = _connect(dsn, connection_factory=connection_factory, **kwasync)")],
    "redis": [("/usr/local/lib/python3.11/site-packages/redis/connection.py", 707, "connect", "raise ConnectionError(self._error_message(e))")],
    "kafka": [("/app/events/producer.py", 58, "publish", "self._producer.flush(timeout=10)")],
    "pika": [("/usr/local/lib/python3.11/site-packages/pika/adapters/blocking_connection.py", 2242, "basic_publish", "self._flush_output()")],
    "boto": [("/usr/local/lib/python3.11/site-packages/botocore/client.py", 1023, "_make_api_call", "raise error_class(parsed_response, operation_name)")],
}


def python_error(kind: str, t: Target, rng: Rng, detail: str, status: int, mod: str) -> Err:
    hp = f"HTTP{'S' if t.scheme == 'https' else ''}ConnectionPool(host='{t.host}', port={t.port})"
    obj = f"<urllib3.connection.HTTP{'S' if t.scheme == 'https' else ''}Connection object at 0x7f{rng.hexid(5)}>"
    lib = PY_LIB["requests"]
    if kind in ("timeout", "connect_timeout"):
        et, em = ("requests.exceptions.ReadTimeout", f"{hp}: Read timed out. (read timeout={detail or 5})") if kind == "timeout" \
            else ("requests.exceptions.ConnectTimeout", f"{hp}: Max retries exceeded with url: {t.path} (Caused by "
                  f"ConnectTimeoutError({obj}, 'Connection to {t.host} timed out. (connect timeout=3)'))")
    elif kind in ("refused", "reset"):
        et = "requests.exceptions.ConnectionError"
        em = (f"{hp}: Max retries exceeded with url: {t.path} (Caused by NewConnectionError('{obj}: "
              f"Failed to establish a new connection: [Errno 111] Connection refused'))") if kind == "refused" else \
            "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"
    elif kind == "dns":
        et = "requests.exceptions.ConnectionError"
        em = (f"{hp}: Max retries exceeded with url: {t.path} (Caused by NameResolutionError(\"{obj}: "
              f"Failed to resolve '{t.host}' ([Errno -3] Temporary failure in name resolution)\"))")
    elif kind == "tls":
        et = "requests.exceptions.SSLError"
        em = (f"{hp}: Max retries exceeded with url: {t.path} (Caused by SSLError(SSLCertVerificationError(1, "
              "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')))")
    elif kind == "tls_peer":
        et = "requests.exceptions.SSLError"
        em = f"{hp}: Max retries exceeded with url: {t.path} (Caused by SSLError(SSLError(1, '[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED] sslv3 alert certificate expired (_ssl.c:2580)')))"
    elif kind in ("http", "ratelimit", "unavailable"):
        from .fmtbase import HTTP_PHRASE
        code = status or (429 if kind == "ratelimit" else 503)
        et = "requests.exceptions.HTTPError"
        em = f"{code} {'Client' if code < 500 else 'Server'} Error: {HTTP_PHRASE.get(code, '')} for url: {t.url}"
    elif kind == "pool":
        et, em, lib = ("sqlalchemy.exc.TimeoutError", "QueuePool limit of size 5 overflow 10 reached, connection timed out, "
                       "timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)", PY_LIB["sqlalchemy"])
    elif kind == "db":
        lib = PY_LIB["psycopg2"]
        if t.db_system == "mysql":
            et, em = "pymysql.err.OperationalError", detail or f"(2003, \"Can't connect to MySQL server on '{t.host}' ([Errno 111] Connection refused)\")"
        else:
            et, em = "psycopg2.OperationalError", detail or (f'connection to server at "{t.host}" ({t.ip}), port {t.port} failed: '
                                                             "Connection refused")
    elif kind == "redis":
        lib = PY_LIB["redis"]
        et, em = ("redis.exceptions.ResponseError", detail) if detail else \
            ("redis.exceptions.ConnectionError", f"Error 111 connecting to {t.host}:{t.port}. Connection refused.")
    elif kind == "kafka":
        lib = PY_LIB["kafka"]
        et, em = "confluent_kafka.KafkaException", detail or 'KafkaError{code=_MSG_TIMED_OUT,val=-192,str="Local: Message timed out"}'
    elif kind == "amqp":
        lib = PY_LIB["pika"]
        et, em = "pika.exceptions.ConnectionBlockedTimeout", ""
    elif kind == "s3":
        lib = PY_LIB["boto"]
        et, em = "botocore.exceptions.ClientError", f"An error occurred ({detail.split(':')[0] if ':' in detail else 'XMinioStorageFull'}) when calling the PutObject operation: {detail.split(': ', 1)[-1]}"
    else:
        raise ValueError(kind)
    lines = _py_tb(rng, mod, lib, et, em)
    return Err(et, em, lines, f"{et.split('.')[-1]}: {em}")


def go_error(kind: str, t: Target, rng: Rng, detail: str, status: int) -> Err:
    verb = t.method.capitalize() if t.method.isupper() else "Get"
    u = f'{verb} "{t.url}"'
    addr = f"{t.ip}:{t.port}"
    if kind == "timeout":
        s = f"{u}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)" if t.kind != "grpc" else \
            "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
    elif kind == "connect_timeout":
        s = f"{u}: dial tcp {addr}: i/o timeout"
    elif kind == "refused":
        s = f"{u}: dial tcp {addr}: connect: connection refused" if t.kind != "grpc" else \
            f'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp {addr}: connect: connection refused"'
    elif kind == "reset":
        s = f"{u}: read tcp 10.244.{rng.randrange(8)}.{rng.randrange(2, 250)}:{rng.randrange(32768, 60999)}->{addr}: read: connection reset by peer"
    elif kind == "dns":
        s = f"{u}: dial tcp: lookup {t.host}{detail or ' on 10.96.0.10:53: server misbehaving'}"
    elif kind == "tls":
        s = f"{u}: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: {detail}"
    elif kind == "tls_peer":
        s = f"{u}: remote error: tls: expired certificate"
    elif kind in ("http", "ratelimit", "unavailable"):
        code = status or (429 if kind == "ratelimit" else 503)
        s = f"unexpected status {code} from {t.host}" + (" (retry after 30s)" if code == 429 else "")
    elif kind == "pool":
        s = "failed to acquire connection: context deadline exceeded" if t.db_system != "mysql" else "context deadline exceeded"
    elif kind == "db":
        if t.db_system == "mysql":
            s = detail or "invalid connection"
        else:
            s = detail or (f"failed to connect to `host={t.host} user=app database={t.db_name}`: dial error "
                           f"(dial tcp {t.ip}:{t.port}: connect: connection refused)")
    elif kind == "redis":
        s = detail or f"dial tcp {addr}: connect: connection refused"
    elif kind == "kafka":
        s = detail or f"kafka: client has run out of available brokers to talk to: dial tcp {addr}: i/o timeout"
    elif kind == "amqp":
        s = "Exception (504) Reason: \"channel/connection is not open\""
    elif kind == "s3":
        s = (f"operation error S3: PutObject, https response error StatusCode: {status or 507}, RequestID: "
             f"{rng.hexid(8).upper()}, api error {detail}")
    else:
        raise ValueError(kind)
    return Err("*errors.errorString", s, [], s)


def node_error(kind: str, t: Target, rng: Rng, detail: str, status: int) -> Err:
    addr = f"{t.ip}:{t.port}"
    frames = {"net": ["    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)"],
              "dns": ["    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:109:26)"],
              "tls": ["    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)", "    at TLSSocket.emit (node:events:519:28)"],
              "axios": ["    at settle (/app/node_modules/axios/lib/core/settle.js:19:12)",
                        "    at IncomingMessage.handleStreamEnd (/app/node_modules/axios/lib/adapters/http.js:599:11)"],
              "pg": ["    at /app/node_modules/pg-pool/index.js:45:11", "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"]}
    if kind in ("timeout", "connect_timeout"):
        et, em, fr = "AxiosError", f"timeout of {detail or 5000}ms exceeded", frames["axios"]
    elif kind in ("refused", "reset"):
        et, em, fr = "Error", f"connect ECONNREFUSED {addr}" if kind == "refused" else "read ECONNRESET", frames["net"]
    elif kind == "dns":
        et, em, fr = "Error", f"getaddrinfo {detail or 'EAI_AGAIN'} {t.host}", frames["dns"]
    elif kind == "tls":
        et, em, fr = "Error", "certificate has expired", frames["tls"]
    elif kind == "tls_peer":
        et, em, fr = "Error", "write EPROTO 4030A9C8:error:0A000415:SSL routines:ssl3_read_bytes:sslv3 alert certificate expired", frames["tls"]
    elif kind in ("http", "ratelimit", "unavailable"):
        et, em, fr = "AxiosError", f"Request failed with status code {status or (429 if kind == 'ratelimit' else 503)}", frames["axios"]
    elif kind == "pool":
        et, em, fr = "Error", "timeout exceeded when trying to connect", frames["pg"]
    elif kind == "db":
        et, em, fr = "error", detail or f"connect ECONNREFUSED {addr}", frames["pg"]
    elif kind == "redis":
        et, em, fr = ("ReplyError", detail, ["    at parseError (/app/node_modules/redis-parser/lib/parser.js:179:12)"]) if detail \
            else ("Error", f"connect ECONNREFUSED {addr}", frames["net"])
    elif kind == "kafka":
        et, em, fr = "KafkaJSNumberOfRetriesExceeded", detail or "Connection timeout", ["    at /app/node_modules/kafkajs/src/retry/index.js:51:18"]
    elif kind == "amqp":
        et, em, fr = "Error", "Channel closed", ["    at Channel.<anonymous> (/app/node_modules/amqplib/lib/channel.js:49:14)"]
    elif kind == "s3":
        et, em, fr = "S3ServiceException", detail, ["    at throwDefaultError (/app/node_modules/@smithy/smithy-client/dist-cjs/index.js:867:20)"]
    else:
        raise ValueError(kind)
    lines = [f"{et}: {em}"] + fr
    return Err(et, em, lines, f"{et}: {em}")


def client_error(lang: str, kind: str, t: Target, rng: Rng, detail: str = "", status: int = 0,
                 pkg: str = "com.example.app") -> Err:
    if lang == "java":
        return java_error(kind, t, rng, detail, status, pkg)
    if lang == "python":
        return python_error(kind, t, rng, detail, status, pkg.split(".")[-1])
    if lang == "node":
        return node_error(kind, t, rng, detail, status)
    return go_error(kind, t, rng, detail, status)


def java_trace(rng: Rng, etype: str, emsg: str, pkg: str) -> list[str]:
    """A stack trace for an exception thrown by the application itself (bad deploys)."""
    return [f"{etype}: {emsg}" if emsg else etype] + _java_frames(rng, pkg, [])


def py_trace(rng: Rng, mod: str, etype: str, emsg: str) -> list[str]:
    return _py_tb(rng, mod, [], etype, emsg)
