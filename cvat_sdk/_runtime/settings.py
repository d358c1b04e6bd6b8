"""Tunables in one place: timeouts, retries, pool size, chunk sizes."""

from __future__ import annotations

#: Seconds to wait for a TCP (and TLS) connection.
CONNECT_TIMEOUT: float | None = 30.0
#: Seconds to wait for the next bytes of an answer (not for a whole download): a server that
#: accepts a request and goes silent must not hang the client. None waits forever.
READ_TIMEOUT: float | None = 300.0

#: Connections kept per host; enough for a few threads sharing one client.
POOL_MAXSIZE = 8

#: Retries of idempotent requests on connection errors and overload answers.
RETRY_TOTAL = 3
RETRY_METHODS = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
RETRY_STATUSES = (429, 502, 503, 504)
RETRY_BACKOFF = 0.5
RETRY_JITTER = 0.25
RETRY_BACKOFF_MAX = 30.0
MAX_REDIRECTS = 5
#: The longest wait a server's Retry-After header may impose, in seconds.
RETRY_AFTER_MAX = 60.0

#: Bytes handed to the socket per send when a body is streamed.
SEND_BLOCK_SIZE = 256 * 1024

#: Bytes read from a file at a time when streaming a multipart body.
STREAM_CHUNK_SIZE = 1024 * 1024

USER_AGENT = "cvat-sdk-client"

# --- multi-request helpers (cvat_sdk.core) ---------------------------------------------------
#: Files up to this size go in bulk multipart requests; larger ones through TUS. CVAT spends
#: about as long on each TUS request (creation, PATCH) as on a whole bulk request, so files
#: of a few MiB travel about twice as fast in bulk; TUS is kept for those whose resending
#: after a cut would cost more than it saves.
BULK_FILE_MAX = 32 * 1024 * 1024
#: The most bytes of files one bulk ``Upload-Multiple`` request carries.
BULK_REQUEST_MAX = 100 * 1024 * 1024
#: Bulk files of more than this many bytes in all go in two requests at least, of about equal
#: size, so that one streams while the server works on the other (10 x 9 MB, same run: 1.25x
#: the official in two requests, 1.13x in one, before the files set off with Upload-Start;
#: since then about the same time, one request costing the server less CPU).
BULK_SPLIT_ABOVE = 32 * 1024 * 1024
#: Task data whose files all go in bulk and total at most this many bytes travels in one
#: request, the finish's fields beside the files (CVAT takes Upload-Start with Upload-Finish
#: as a whole upload): the server spends a fixed time on each request, which this saves three
#: times over (10 x 9 MB on CVAT 2.24, same run: 0.37 s against 0.46 s in four requests).
#: 0 sends every upload as Upload-Start, bulk requests, Upload-Finish.
ONE_REQUEST_MAX = 100 * 1024 * 1024
#: Seconds to wait, after one request carrying all the files failed once sent whole, for the
#: server's request to appear (a gateway's 504 can come while the server is still at work).
ONE_REQUEST_SETTLE = 5.0
#: The most files one bulk request carries.
BULK_REQUEST_MAX_FILES = 1000
#: Bulk requests and TUS files of one upload sent at the same time.
UPLOAD_WORKERS = 4
#: Bulk request bodies on the wire at the same time. CVAT 2.24 (one server process) works on
#: one bulk request after another; one body streaming while the server works on the previous
#: request measured faster than several bodies competing for the server's CPU.
BULK_BODIES_AT_ONCE = 1
#: Bytes per TUS PATCH request (streamed from disk, never held in memory whole).
TUS_CHUNK_SIZE = 32 * 1024 * 1024
#: Failed attempts in a row, without progress, after which a TUS upload gives up.
TUS_MAX_RETRIES = 5
#: Seconds between two polls of a background request.
POLL_INTERVAL = 1.0
#: Attempts at the final ``Upload-Finish`` request when the server answers 5xx.
FINISH_ATTEMPTS = 3
#: Bytes per read when downloading.
DOWNLOAD_CHUNK_SIZE = 1024 * 1024
