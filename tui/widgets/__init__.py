"""Pure views: they show what they are given and post messages; they never touch the network."""

from .event_detail import EventDetail
from .event_log import EventLog, LogRow
from .recorder import Recorder, RecorderState
from .status import StatusLine
from .transcript import Transcript, TurnRow

__all__ = ["EventDetail", "EventLog", "LogRow", "Recorder", "RecorderState", "StatusLine", "Transcript", "TurnRow"]
