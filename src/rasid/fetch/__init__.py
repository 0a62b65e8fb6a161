"""The fetch layer: the only part of rasid that speaks HTTP.

- ``http``: the client (``Fetcher``): guard, redirects, retries, politeness, robots.txt;
- ``decoding``: bytes to text (pure; discovery, reprocessing and evaluation use it too);
- ``body``: Content-Encoding within a size cap, HTML or binary (pure);
- ``robots``: each origin's robots.txt rules, read once per run;
- ``hosts``: the one host key and the state kept per host;
- ``errors``: how a fetch fails.
"""

from rasid.fetch.decoding import decode_html
from rasid.fetch.errors import FetchError
from rasid.fetch.hosts import host_key
from rasid.fetch.http import (
    DOCUMENT_ACCEPT,
    HTML_ACCEPT,
    Document,
    Fetcher,
    GuardedAdapter,
    Response,
    SharedGate,
)

__all__ = [
    "DOCUMENT_ACCEPT", "HTML_ACCEPT", "Document", "FetchError", "Fetcher", "GuardedAdapter",
    "Response", "SharedGate", "decode_html", "host_key",
]
