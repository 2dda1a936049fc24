"""Analytics (a use-case layer): the cooperation network, its metrics, gaps, charts and exports.

Modules: :mod:`filters` (what to look at), :mod:`graph` (pure: network, metrics, layout),
:mod:`data` (reading exchanges, cache by data version), :mod:`payload` (node-link data,
details of a node or link, exports), :mod:`insights` (gaps, charts), :mod:`profile` (a country
on one page, countries with activity). Nothing here imports Flask or commits.
"""

from __future__ import annotations

from sscmatch.analytics.filters import FilterError, Filters, parse_filters
from sscmatch.analytics.graph import ExchangeRow, Network, build_network
from sscmatch.analytics.insights import gaps, supply_demand
from sscmatch.analytics.payload import (
    FORMATS,
    DetailError,
    NetworkView,
    exchanges_for,
    export,
    network_view,
    node_link,
    to_networkx,
)
from sscmatch.analytics.profile import countries_activity, country_profile

__all__ = [
    "FORMATS",
    "DetailError",
    "ExchangeRow",
    "FilterError",
    "Filters",
    "Network",
    "NetworkView",
    "build_network",
    "countries_activity",
    "country_profile",
    "exchanges_for",
    "export",
    "gaps",
    "network_view",
    "node_link",
    "parse_filters",
    "supply_demand",
    "to_networkx",
]
