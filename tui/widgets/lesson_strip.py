"""The lesson strip: the current step's goal and its check, two lines above the message line, while the
learner works in the other panes (the Learn pane has the full text). Passed or not is said in words and a
mark, not only in colour."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class LessonStrip(Static):
    DEFAULT_CSS = """
    LessonStrip {
        height: 2;
        padding: 0 1;
        background: $boost;
        display: none;
    }
    LessonStrip.-passed { background: $success 20%; }
    """

    def __init__(self, **kw) -> None:
        super().__init__("", markup=False, **kw)
        self.goal = ""
        self.state = ""

    def show_step(self, where: str, goal: str, passed: bool, said: str, keys: str) -> None:
        """``where``: "Lesson 1, 2/4"; ``said``: what the check sees; ``keys``: what to press now."""
        width = max(20, (self.content_size.width or self.app.size.width - 2))
        head = Text()
        head.append(f"{where} ", style="bold")
        head.append(goal)
        head.truncate(width, overflow="ellipsis")
        mark = "✓ passed:" if passed else "✗ not yet:"
        said = said.removeprefix("not yet: ")
        line = Text()
        line.append(mark, style="bold reverse" if passed else "bold")
        line.append(f" {said}")
        room = width - len(keys) - 3
        line.truncate(max(room, len(mark) + 4), overflow="ellipsis")
        line.append(" · " + keys, style="italic")
        line.truncate(width, overflow="ellipsis")
        self.goal, self.state = goal, mark
        self.set_class(passed, "-passed")
        self.update(head + Text("\n") + line)
