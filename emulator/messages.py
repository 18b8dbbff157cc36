"""The request and response values passed between the HTTP server and the two API players."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qs

import orjson

JSON = "application/json"
HTML = "text/html; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str  # without the query string
    params: dict[str, str]  # query parameters, percent-decoded; the first value of a repeated name
    headers: Message
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def form(self) -> dict[str, str]:
        """The urlencoded form body (``+`` is a space, ``%XX`` decoded), or {} for another content type."""
        if (self.header("Content-Type") or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return {}
        return first_values(self.body.decode("utf-8", "replace"))


def first_values(query: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    return Response(status, orjson.dumps(payload), JSON, headers or {})


def html_response(status: int, title: str, text: str, headers: dict[str, str] | None = None) -> Response:
    page = (f"<!DOCTYPE html>\n<html>\n<head><title>{title}</title></head>\n<body>\n"
            f"<center><h1>{title}</h1></center>\n<p>{text}</p>\n<hr><center>nginx</center>\n</body>\n</html>\n")
    return Response(status, page.encode(), HTML, headers or {})


def framed(prefix: bytes, chunks: list, suffix: bytes) -> bytes:
    """``prefix`` + the chunks (runs of serialized rows) comma-separated + ``suffix``, in one copy."""
    parts: list = [prefix]
    for chunk in chunks:
        parts.append(chunk)
        parts.append(b",")
    if chunks:
        parts.pop()
    parts.append(suffix)
    return b"".join(parts)


RESET = Response(0, b"")  # marker: drop the connection without answering
