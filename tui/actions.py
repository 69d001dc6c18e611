"""Every action of the app, described once: its key, its word in the footer, its sentence in the help and
its entry in the command palette all come from this table. Rebinding a key here changes all four."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Action:
    id: str              # the binding's id
    keys: str            # Textual key names, comma separated
    action: str          # what runs: an App action, with its arguments
    footer: str          # a word or two for the footer
    help: str            # a sentence for the help screen (and the footer's tooltip)
    palette: str = ""    # the command palette's entry ("" leaves it out)
    show: bool = True    # in the footer (when it applies)
    display: str = ""    # how the key is written, when Textual's name is not how a user says it


ACTIONS: tuple[Action, ...] = (
    Action("help", "f1,question_mark", "help", "Help", "this help: every key and prompt command",
           "Help: keys and prompt commands", display="f1 ?"),
    Action("start", "s", "start_pause", "Start", "start training the Setup's model; pause; resume",
           "Start / pause / resume training"),
    Action("stop", "x", "stop", "Stop",
           "stop training (the weights so far stay) or the sweep; on the Insight pane, its comparison",
           "Stop training, the sweep or a comparison"),
    Action("new", "n", "new_run", "New",
           "a fresh model from Setup replaces the current run (save it first if you want it)",
           "New run: a fresh model from Setup"),
    Action("sweep", "w", "sweep", "Sweep", "run the learning-rate range test on a fresh model from Setup",
           "Run the learning-rate sweep"),
    Action("use-lr", "u", "use_lr", "Use LR", "put the sweep's suggested learning rate into Setup (Sweep pane)",
           "Use the suggested learning rate"),
    Action("log-y", "l", "log_y", "Log y", "log-scale loss axis on the Train chart (Train pane)",
           "Toggle log-scale loss axis"),
    Action("save", "ctrl+s", "save", "Save", "save a checkpoint (a name in the checkpoint folder)",
           "Save a checkpoint"),
    Action("memory", "m", "memory", "Memory",
           "memory task: train Elman RNN and LSTM at several lengths, plot recall accuracy (Insight/Memory)",
           "Memory task: Elman RNN vs LSTM accuracy against sequence length"),
    Action("rates", "r", "lr_compare", "Rates",
           "train the Setup's model at each learning rate listed and overlay the curves (Insight/Compare)",
           "Compare learning rates: train the Setup's model at several rates"),
    Action("look-unit", "full_stop", "look('unit', 1)", "Unit", "next hidden unit (Insight/Neurons)", display="."),
    Action("look-unit-prev", "comma", "look('unit', -1)", "Unit", "previous hidden unit (Insight/Neurons)",
           show=False, display=","),
    Action("look-head", "full_stop", "look('head', 1)", "Head", "next attention head (Insight/Attention)",
           display="."),
    Action("look-head-prev", "comma", "look('head', -1)", "Head", "previous attention head (Insight/Attention)",
           show=False, display=","),
    Action("look-find", "f", "look('find')", "Find",
           "rank the hidden units by how strongly they follow the feature and pin the first (Insight/Neurons)",
           "Neurons: find the units that follow a feature of the text"),
    Action("look-feature", "t", "look('feature')", "Feature",
           "next feature of the text: quotes, parens, line-position, word-position, after-space, vowel-next, "
           "word-end (Insight/Neurons)"),
    Action("look-cell", "c", "look('cell')", "h/c", "the LSTM's cell c, or back to its h (Insight/Neurons)"),
    Action("look-layer", "l", "look('layer')", "Layer",
           "next layer (Insight/Attention; Insight/Neurons for a model of several layers)"),
    Action("look-guesses", "g", "look('guesses')", "Guesses",
           "the model's five likeliest next characters under the text, or not (Insight/Neurons)"),
    Action("look-text", "e", "look('text')", "Text",
           "next text to read: a dev excerpt, the Prompt pane's conversation, the text typed in the view "
           "(Insight/Neurons and Attention)"),
    Action("view-prev", "left_square_bracket", "insight_view(-1)", "Prev view",
           "previous Insight view", show=False, display="["),
    Action("view-next", "right_square_bracket", "insight_view(1)", "View",
           "next Insight view (Embeddings, Bigram, Health, Compare, Memory, Neurons, Attention)", display="]"),
    Action("pane-setup", "1,f2", "show('setup')", "Setup", "Setup pane: data, model, hyperparameters",
           "Go to Setup", show=False, display="f2 1"),
    Action("pane-train", "2,f3", "show('train')", "Train", "Train pane: loss chart, progress, samples",
           "Go to Train", show=False, display="f3 2"),
    Action("pane-sweep", "3,f4", "show('sweep')", "Sweep pane", "Sweep pane: learning-rate range test",
           "Go to Sweep", show=False, display="f4 3"),
    Action("pane-prompt", "4,f5", "show('prompt')", "Prompt", "Prompt pane: talk to the model",
           "Go to Prompt", show=False, display="f5 4"),
    Action("pane-checkpoints", "5,f6", "show('checkpoints')", "Checkpoints",
           "Checkpoints pane: browse and load (Enter)", "Load a checkpoint (browser)", show=False, display="f6 5"),
    Action("pane-insight", "6,f7", "show('insight')", "Insight",
           "Insight pane: embeddings, bigram table, health, run comparison, memory task, neurons, attention",
           "Insight: look inside the model, compare runs", show=False, display="f7 6"),
    Action("pane-learn", "7,f8", "show('learn')", "Learn", "Learn pane: the guided lessons and where you stand",
           "Go to the lessons", show=False, display="f8 7"),
    Action("lesson-setup", "g", "lesson_setup", "Set up",
           "lesson: set up the step (dataset, model, settings, a prompt), fresh, in the pane where it is done",
           "Lesson: set up this step", show=False),
    Action("lesson-full", "G", "lesson_setup(True)", "Original",
           "lesson: set up the original's longer run where the step offers it",
           "Lesson: set up the original, longer run", show=False),
    Action("lesson-next", "full_stop", "lesson_next", "Next", "lesson: the next step, once this one's check has passed",
           "Lesson: next step", show=False, display="."),
    Action("lesson-back", "comma", "lesson_back", "Back", "lesson: the step before", "Lesson: step back",
           show=False, display=","),
    Action("lesson-hint", "h", "lesson_hint", "Hint", "lesson: a hint for the step", "Lesson: hint", show=False),
    Action("lesson-try", "t", "lesson_try", "Run it", "lesson: run the step's experiment on the current model",
           "Lesson: run the step's experiment", show=False),
    Action("command", "c", "command_line", "Command",
           "the command line that does what the Setup's run does, copied (on the Learn pane: the lesson step's)",
           "Command line for this setup (copied)", show=False),
    Action("quit", "ctrl+q", "quit", "Quit", "quit (asks first while something is running)", "Quit"),
)

BY_ACTION = {a.action: a for a in ACTIONS}

# The footer lists bindings in their order and is cut at its right edge (80 columns and less): the keys
# of the pane in view come first, as nothing else on screen names them.
PANE_KEYS_FIRST = ("use-lr", "log-y", "look-unit", "look-unit-prev", "look-head", "look-head-prev", "look-find",
                   "look-feature", "look-cell", "look-layer", "look-guesses", "look-text", "memory", "rates",
                   "view-prev", "view-next")

# Keys that belong to a pane's own widgets, listed in the help as they are not in the table above.
LOCAL_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+p", "command palette: every action above, and the presets"),
    ("tab", "next field or control; shift+tab goes back"),
    ("up/down", "prompt history (in the prompt line)"),
    ("left/right", "Insight views, when their tabs have the focus"),
    ("shift+←/→", "select a span of the neuron view's text (or drag the mouse); Enter ranks the units by it"),
    ("space", "tick or untick a run (Insight/Compare list)"),
    ("escape", "stop a continuation (Prompt); close a dialog"),
)


KEY_NAMES = {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]", "full_stop": ".",
             "comma": ","}


def _untypeable(key: str) -> bool:
    return key[0] == "f" and key[1:].isdigit()


def bindings() -> list[Binding]:
    """Function keys are priority bindings: Textual hands every queued key to the widget focused when the
    key is dequeued, so F5 followed at once by a prompt (a paste, a slow SSH link) would send the prompt
    to the pane left behind. A priority binding acts as its key is dequeued, before the next one is handed
    on. Keys that can be typed into a text box (1, s, ?) stay ordinary bindings, so they still type."""
    out = []
    first = {aid: k for k, aid in enumerate(PANE_KEYS_FIRST)}
    for a in sorted(ACTIONS, key=lambda a: first.get(a.id, len(first))):
        keys = a.keys.split(",")
        shown_key = a.display.split(" ")[0] or keys[0]  # the footer shows the action once, by this key
        for priority in (False, True):
            group = [k for k in keys if _untypeable(k) == priority]
            if not group:
                continue
            here = shown_key in group or KEY_NAMES.get(group[0]) == shown_key
            out.append(Binding(",".join(group), a.action, a.footer, show=a.show and here,
                               key_display=a.display.split(" ")[0] or None if here else None,
                               tooltip=a.help, id=a.id if here else f"{a.id}-alt", priority=priority))
    return out


def key_text(a: Action) -> str:
    return a.display or " ".join(KEY_NAMES.get(k, k) for k in a.keys.split(","))


def help_rows() -> list[tuple[str, str]]:
    return [(key_text(a), a.help) for a in ACTIONS] + list(LOCAL_KEYS)


def available(app, action: str, parameters: tuple) -> bool:
    """Whether ``action`` works now, in this pane and state (the app's check_action: the footer shows only
    these keys)."""
    if not app.panes_in:
        return True
    if app.screen.is_modal and action in ("show", "help"):
        return False  # function keys are priority bindings: in a dialog they belong to the dialog
    pane = app.active_pane
    if action == "log_y":
        return pane == "train"
    if action == "use_lr":
        return pane == "sweep"
    if action == "stop":
        return app.train.busy or app.sweep_pane.running or app.insight.comparing
    if action in ("memory", "lr_compare"):
        return pane == "insight"  # from any view: it shows its own
    if action == "insight_view":
        return pane == "insight"
    if action == "look":
        view = app.insight.looks.get(app.insight.view) if pane == "insight" else None
        return view is not None and view.applies(str(parameters[0]))
    return True
