"""The frame journal and the projections every view renders from.

Standard library and `tui.protocol` only: no sockets, no event loop, no UI. Live sessions, replays
and the proxy all feed envelopes through one :class:`Pipeline`; views (the app's widgets, headless
commands) read the journal and the projections, never the bus.
"""

from .facts import QUIET_AFTER, Rejection, SessionFacts
from .families import Family, family_of
from .find import Finder
from .links import Link, Links
from .logview import Line, LogView, Row, run_key
from .pipeline import Pipeline, Projection
from .query import Query, QueryError, term
from .store import Frame, Journal, PayloadPolicy

__all__ = [
    "Family",
    "Finder",
    "Frame",
    "Journal",
    "Line",
    "Link",
    "Links",
    "LogView",
    "PayloadPolicy",
    "Pipeline",
    "Projection",
    "QUIET_AFTER",
    "Query",
    "QueryError",
    "term",
    "Rejection",
    "Row",
    "SessionFacts",
    "family_of",
    "run_key",
]
