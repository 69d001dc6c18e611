"""The app's side of the lessons, mixed into the App so that app.py only names it: the keys of the lessons
(tui/actions.py lists them), the command line of the current setup, and the facts that pass by the app as
messages (a training that ended), handed to the Learn pane. Textual calls a message handler of every class
in the App's bases, so these run beside the app's own ``on_train_finished`` and ``on_train_failed``."""

from __future__ import annotations

from seqlm_tui.core import cmdline
from seqlm_tui.tui.messages import TrainFailed, TrainFinished
from seqlm_tui.tui.screens.command import CommandScreen


class LessonActions:
    def on_train_finished(self, msg: TrainFinished) -> None:
        if self.is_running:
            self.lessons.training_ended(step=msg.step, stopped=msg.stopped, result=msg.result)

    def on_train_failed(self, msg: TrainFailed) -> None:
        if self.is_running:
            self.lessons.training_ended(step=msg.step, error=msg.message, diverged=msg.diverged)

    async def action_lesson_setup(self, full: bool = False) -> None:
        await self.lessons.set_up(full)

    def action_lesson_next(self) -> None:
        self.lessons.next_step()

    def action_lesson_back(self) -> None:
        self.lessons.prev_step()

    def action_lesson_hint(self) -> None:
        self.lessons.show_hint()

    def action_lesson_try(self) -> None:
        self.lessons.try_it()

    def action_command_line(self) -> None:
        """The command line for the Setup's run (on the Learn pane, for the lesson's step), shown and copied."""
        if self.active_pane == "learn" and self.lessons.step_command():
            title, text = "The command line for this lesson step:", self.lessons.step_command()
        else:
            cfg = self.setup_or_complain()
            if cfg is None:
                return
            title, text = "The command line that trains the Setup's run:", cmdline.command_line(cfg)
        self.copy_to_clipboard(text)
        self.push_screen(CommandScreen(title, text))
