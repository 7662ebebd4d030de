"""Search (http-api-social §4–§5, matching.md §9–§10), below the HTTP layer.

* ``filters``: the stored search filters — read all, replace one.
* ``searcher``: the searcher's inputs to a ranking, read in one round trip.
* ``ranking``: the uncached search — one statement that ranks and fills ``search_cache``.
* ``cache``: cached pages and the quiz card, with live masking and visibility.
* ``side_effects``: what every search does first (pending club, club preference).
"""
