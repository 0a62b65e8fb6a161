"""The fetch layer: the only part of rasid that speaks HTTP.

- ``http``: the client (``Fetcher``): redirects, retries, politeness, robots.txt;
- ``exchange``: below it, one request and its answer (deadline, size cap, reason codes);
- ``connection``: below that, the SSRF guard on each socket's peer and the header deadline;
- ``documents``: a source's feeds and sitemaps, asked for conditionally;
- ``decoding``: bytes to text (pure; discovery, reprocessing and evaluation use it too);
- ``body``: Content-Encoding within a size cap, HTML or binary (pure);
- ``robots``: each origin's robots.txt rules, read once per run;
- ``hosts``: the one host key and the state kept per host;
- ``errors``: how a fetch fails;
- ``config_files``: a sources or watchlists file an operator names by URL.
"""

from rasid.fetch.connection import GuardedAdapter
from rasid.fetch.decoding import decode_html
from rasid.fetch.errors import FetchError
from rasid.fetch.hosts import host_key
from rasid.fetch.http import (
    DOCUMENT_ACCEPT,
    HTML_ACCEPT,
    Document,
    Fetcher,
    Response,
    SharedGate,
)

__all__ = [
    "DOCUMENT_ACCEPT", "HTML_ACCEPT", "Document", "FetchError", "Fetcher", "GuardedAdapter",
    "Response", "SharedGate", "decode_html", "host_key",
]
