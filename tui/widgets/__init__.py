"""Pure views: they render the journal and its projections and post messages; they never touch the network."""

from .event_detail import EventDetail
from .event_log import EventLog
from .recorder import Recorder, RecorderState
from .status import StatusLine
from .transcript import Transcript, render_item

__all__ = ["EventDetail", "EventLog", "Recorder", "RecorderState", "StatusLine", "Transcript", "render_item"]
