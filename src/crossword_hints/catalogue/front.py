"""The front page: a search box, the latest solutions, and search results.

Results come in two groups, solutions and cue words, paged together by
``?page=N``: page N shows the Nth page of each group, and the page
numbers run to the longer group's last page.
"""

from __future__ import annotations

import logging

from flask import current_app, render_template, request

from ..errors import NotFound
from . import search
from .api import int_argument

log = logging.getLogger(__name__)

#: Solutions shown on the front page when nothing is searched for.
RECENT_COUNT = 5


def front_page() -> tuple[str, int]:
    query = request.args.get("q", "")
    page = int_argument("page", 1)
    context = {
        "q": query,
        "max_query_length": search.MAX_QUERY_LENGTH,
        "solutions": None,
        "recent": [],
        "error": None,
    }

    if not query.strip():
        context["recent"] = search.recent_solutions(RECENT_COUNT)
        return render_template("catalogue/front.html", **context), 200

    per_page = current_app.config["PER_PAGE"]
    try:
        solutions = search.search_solutions(query, page, per_page, past_end=True)
        cue_words = search.search_cue_words(query, page, per_page, past_end=True)
    except search.QueryTooLong as exc:
        log.info("Rejected a search of %d characters", len(query))
        context["error"] = exc.message
        return render_template("catalogue/front.html", **context), exc.status

    pages = max(solutions.pages, cue_words.pages)
    if page > pages:
        raise NotFound(f"Page {page} does not exist; the last page is {pages}.")

    context.update(solutions=solutions, cue_words=cue_words, page=page, pages=pages)
    return render_template("catalogue/front.html", **context), 200
