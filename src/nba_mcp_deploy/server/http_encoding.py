"""Content codings of inference bodies: a gzip or deflate request is decoded (never past the
payload limit, so a small compressed body cannot expand without bound), and a response is
compressed when the client accepts gzip or deflate (tritonclient's `response_compression_algorithm`,
and what `requests` and httpx ask for by default).

"deflate" is the zlib format, as HTTP defines it and tritonclient sends it; raw deflate is read too.
"""

from __future__ import annotations

import gzip
import zlib

from starlette.requests import Request
from starlette.responses import Response

from nba_mcp_deploy.server.http_errors import BodyTooLargeError, UnsupportedMediaError

CODINGS = ("gzip", "deflate")
# Smaller responses go out as they are: compressing them saves less than it costs (Starlette's
# GZipMiddleware uses the same floor).
MIN_COMPRESSED_BYTES = 500


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, decoded, at most `max_bytes` (a declared larger one was refused before)."""
    if "content-length" in request.headers:
        raw = await request.body()
    else:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            chunks.append(chunk)
        raw = b"".join(chunks)
    coding = request.headers.get("content-encoding", "identity").strip().lower()
    if coding in ("", "identity"):
        return raw
    if coding not in CODINGS:
        raise UnsupportedMediaError(f"Content-Encoding {coding!r} is not read here; send gzip, deflate or identity")
    return _decompressed(raw, coding, max_bytes)


def _decompressed(raw: bytes, coding: str, max_bytes: int) -> bytes:
    attempts = (16 + zlib.MAX_WBITS,) if coding == "gzip" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in attempts:
        decoder = zlib.decompressobj(wbits)
        try:
            body = decoder.decompress(raw, max_bytes + 1)
        except zlib.error as exc:
            if wbits == attempts[-1]:
                raise UnsupportedMediaError(f"the body is not valid {coding} data ({exc})") from None
            continue
        if len(body) > max_bytes or decoder.unconsumed_tail:
            raise _too_large(max_bytes)
        return body
    raise AssertionError("unreachable")


def _too_large(max_bytes: int) -> BodyTooLargeError:
    return BodyTooLargeError(
        f"request body exceeds the limit of {max_bytes} bytes (NBA_MCP_MAX_PAYLOAD_BYTES); send fewer rows per request"
    )


def accepted_coding(accept_encoding: str | None) -> str | None:
    """gzip or deflate if the client accepts it (gzip first), else None."""
    if not accept_encoding:
        return None
    accepted = set()
    for part in accept_encoding.lower().split(","):
        name, _, quality = part.partition(";")
        if quality.strip().replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(name.strip())
    return next((coding for coding in CODINGS if coding in accepted), None)


def compressed(response: Response, accept_encoding: str | None) -> Response:
    """`response` compressed with a coding the client accepts, when it is worth it."""
    coding = accepted_coding(accept_encoding)
    body = bytes(response.body)
    if coding is None or len(body) < MIN_COMPRESSED_BYTES or "content-encoding" in response.headers:
        return response
    packed = gzip.compress(body, compresslevel=6, mtime=0) if coding == "gzip" else zlib.compress(body, 6)
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    headers.update({"Content-Encoding": coding, "Vary": "Accept-Encoding"})
    return Response(packed, status_code=response.status_code, headers=headers, media_type=response.media_type)
