"""htmldate as the last page evidence, with its known failure modes refused.

htmldate (trafilatura's date finder) reads many site layouts rasid's own rules do not, but it
also guesses: it builds YYYY-01-01 from a bare year, takes a copyright footer's date, and
picks dates out of lists of other stories. Its answer counts here only when the page prints
that very day in full outside a copyright line, and only when rasid's own rules found no
meta, JSON-LD or visible dateline.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from htmldate import find_date
from lxml.html import HtmlElement

from rasid.dates.dateline import PageDates
from rasid.dates.markup import script_days

LOGGER = logging.getLogger(__name__)


# Why a page has no date, carried in the record's flags and explained by the report.
NO_EVIDENCE = "no_date_no_evidence"
CONFLICTING = "no_date_conflicting"
BARE_YEAR = "no_date_bare_year"


def htmldate_day(tree: HtmlElement, url: str, now: datetime, oldest: date,
                 page: PageDates) -> tuple[date | None, str]:
    """The day htmldate finds when the page corroborates it, else None and why not.

    Corroborated: the page prints that day in full outside other articles' zones and
    copyright lines (so no YYYY-01-01 from a bare year), or a script's JSON names it the
    publication date; and no element marked as a date gives another day (a page of many
    dated items is a listing) unless the element nearest the title gives that day and stands
    well apart from the others.
    """
    try:
        found = find_date(tree, extensive_search=True, original_date=True, url=url or None,
                          min_date=datetime.combine(oldest, datetime.min.time()),
                          max_date=(now + timedelta(days=1)).replace(tzinfo=None))
    except Exception:  # noqa: BLE001 - a third-party parser must not cost the page its date
        LOGGER.debug("htmldate failed on %s", url, exc_info=True)
        found = None
    day = date.fromisoformat(found[:10]) if found else None
    # Dated elements of several days make a listing, unless the one by the title is that day.
    own = day is not None and page.nearest_marked == day
    if len(page.marked) > 1 and not own:
        return None, CONFLICTING
    confirmed = day in page.printed or (day is not None and day in script_days(tree))
    if day is None or not confirmed or (page.marked and page.marked != {day} and not own):
        return None, BARE_YEAR if day and (day.month, day.day) == (1, 1) else NO_EVIDENCE
    return day, ""
