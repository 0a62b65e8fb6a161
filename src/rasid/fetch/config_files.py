"""Configuration files an operator names by URL (``--sources https://...``): fetched apart
from the crawl, from the operator's own server."""

from __future__ import annotations

import requests

from rasid import USER_AGENT
from rasid.config import ConfigError, ConfigNotFound, Settings

CONFIG_MAX_BYTES = 1024 * 1024  # a sources file is a few kilobytes


def fetch_config(url: str, settings: Settings) -> bytes:
    """A configuration file an operator named by URL (``--sources https://...``): one GET,
    no robots.txt or politeness (it is the operator's own server), bounded in time and size."""
    try:
        with requests.get(url, timeout=(settings.connect_timeout, settings.read_timeout),
                          headers={"User-Agent": settings.user_agent or USER_AGENT},
                          stream=True) as reply:
            if reply.status_code in (404, 410):
                raise ConfigNotFound(f"cannot read {url}: it answered {reply.status_code}")
            reply.raise_for_status()
            content = reply.raw.read(CONFIG_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise ConfigError(f"cannot read {url}: {exc}") from None
    if len(content) > CONFIG_MAX_BYTES:
        raise ConfigError(f"{url}: over {CONFIG_MAX_BYTES // 1024} KiB, not a sources file")
    return bytes(content)
