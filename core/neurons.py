"""The neuron view's numbers: a text run through a model, and each hidden unit's activation at every
character (the pictures of Karpathy's "The Unreasonable Effectiveness of RNNs", 2015, and LSTMVis).

Everything here reads a model standing still and returns plain data; the app and ``seqlm-tui inspect
--neurons`` draw it (``core.features`` scores the units against features of the text).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.fmt import cell_width, char_width, token_label
from seqlm_tui.core.insight import has_bigram_table, model_title
from seqlm_tui.core.models.base import LanguageModel
from seqlm_tui.core.textsafe import printable
from seqlm_tui.core.vocab import Vocab

MAX_TEXT = 4000       # positions read at once (an LSTM is stepped one position at a time for its cell)
GUESSES = 5           # next-character guesses kept per position (the 2015 figure's second row)
WEAK, STRONG = 0.25, 0.65   # |activation| / bound from which a position is drawn weak, then strong
# Sign and strength of an activation, levels -2..2, for a row under the text that reads without colour.
GLYPHS = ("▼", "▽", " ", "△", "▲")
ASCII_GLYPHS = ("=", "-", " ", "+", "#")
UNKNOWN = "\ufffd"    # stands for a character the vocabulary maps to <unk>, in texts built from ids
KIND_NAMES = {"h": "h", "c": "cell c", "hidden": "hidden layer"}
# Colours of levels -2..2 as (foreground, background) names of the 16 ANSI colours, which every colour
# terminal has: a diverging scale, red below zero and blue above, strong ones on a background.
LEVEL_COLOURS = (("bright_white", "red"), ("bright_red", None), (None, None), ("bright_blue", None),
                 ("bright_white", "blue"))
WEAK_SPACE = "·"  # a space at a weak level, drawn in the level's colour (a coloured blank would not show)


def coloured_label(label: str, level: int) -> str:
    """What a position shows in colour: its character, but a weakly active space as a dot."""
    return WEAK_SPACE if label == " " and abs(level) == 1 else label


# How the next-character guesses are shaded by their probability, in attributes that read without colour.
GUESS_STYLES = ((0.5, "reverse"), (0.2, "bold"), (0.05, ""), (0.0, "dim"))


def guess_style(p: float) -> str:
    return next(style for edge, style in GUESS_STYLES if p >= edge)


@dataclass
class Units:
    """One group of units the model computes at every position: a layer's h, an LSTM's cell c, the MLP's
    hidden layer."""
    kind: str                 # "h", "c" or "hidden"
    layer: int                # 0-based
    values: torch.Tensor      # (positions, units), float32 on the CPU
    layers: int = 1           # layers of the model (a layer number is shown only when there are several)

    @property
    def size(self) -> int:
        return int(self.values.shape[1])

    @property
    def name(self) -> str:
        base = KIND_NAMES.get(self.kind, self.kind)
        return f"{base} (layer {self.layer + 1})" if self.layers > 1 else base

    @property
    def bounded(self) -> bool:
        """h and the MLP's units are tanh-bounded in [-1, 1]; a cell is not."""
        return self.kind != "c"

    def bound(self, unit: int) -> float:
        """The activation drawn at full strength: 1 for a tanh-bounded unit, else the unit's largest
        |value| on this text (a cell can grow past 1; the legend says which scale)."""
        if self.bounded:
            return 1.0
        return max(float(self.values[:, unit].abs().max()), 1e-6)


@dataclass
class NeuronReading:
    labels: list[str]         # one per position, as shown: the character typed ("⏎" a newline)
    chars: list[str]          # one per position, as the features read it: the item boundary is "\n"
    groups: list[Units]
    guesses: list[list[tuple[str, float]]]  # the model's most likely next tokens after each position
    title: str                # the model's name ("LSTM")
    numbers: bool = False     # tokens are numbers: drawn with a space between them

    def __len__(self) -> int:
        return len(self.labels)

    def group(self, index: int) -> Units:
        return self.groups[index % len(self.groups)]

    def levels(self, group: int, unit: int) -> list[int]:
        g = self.group(group)
        return levels(g.values[:, unit], g.bound(unit))

    def values(self, group: int, unit: int) -> list[float]:
        return self.group(group).values[:, unit].tolist()


def has_units(model: LanguageModel) -> bool:
    return type(model).unit_states is not LanguageModel.unit_states


def no_units(model: LanguageModel) -> str:
    """Why a model has nothing for the neuron view, in one sentence."""
    title = model_title(model)
    if has_bigram_table(model):
        return f"the {title} has no hidden units: it maps each character straight to the odds of the next."
    if hasattr(model, "attention_maps"):
        return f"the {title} has no recurrent state or hidden layer to show here; look at its attention instead."
    return f"the {title} has no hidden units to show."


def label_of(ch: str) -> str:
    """A position's character as drawn: visible, one character wide where it can be."""
    if ch == "\n":
        return "⏎"
    if ch == "\t":
        return "⇥"
    label = printable(ch)
    return "◌" + label if label and char_width(label[0]) == 0 else label


def prepare(vocab: Vocab, text: str, limit: int = MAX_TEXT) -> tuple[list[int], list[str], list[str]]:
    """(ids, labels, chars) of a text. A character the vocabulary lacks is read as <unk> where it has one;
    a newline ends an item (a name) in a vocabulary with a boundary, and such a text starts with one, as
    every item does."""
    if not text.strip():
        raise SeqlmError("there is no text to read: type some, or take the dev excerpt.")
    if vocab.kind == "numbers":
        ids = vocab.encode(text)
        labels = [vocab.tokens[i] for i in ids]
        chars = list(labels)
    else:
        stoi, boundary = vocab.stoi, vocab.boundary
        ids, labels, chars, unknown = [], [], [], []
        if boundary is not None and text[0] not in (vocab.tokens[boundary], "\n"):
            ids.append(boundary)
            labels.append(label_of(vocab.tokens[boundary]))
            chars.append("\n")
        for ch in text:
            i = stoi.get(ch)
            if i is None and ch == "\n" and boundary is not None:
                i = boundary
            if i is None:
                if vocab.unk is None:
                    unknown.append(ch)
                    continue
                i = vocab.unk
            ids.append(i)
            # The boundary as the model names it: a newline typed between names is the same token as "."
            labels.append(label_of(vocab.tokens[i] if i == boundary else ch))
            chars.append("\n" if i == boundary else ch)
        if unknown:
            shown = "".join(sorted(set(unknown))[:10])
            raise SeqlmError(f"the model does not know {shown!r}; it knows only {vocab.known()!r}.")
    if len(ids) > limit:
        raise SeqlmError(f"the text has {len(ids):,} characters; the view reads at most {limit:,}.")
    return ids, labels, chars


def dev_excerpt(dataset, vocab: Vocab, length: int = 500) -> str:
    """The start of the dev split as text, about ``length`` tokens (what the model was not trained on)."""
    tokens = dataset.splits["dev"].tokens[:length].tolist()
    if vocab.kind == "numbers":
        return vocab.decode(tokens)
    return "".join(UNKNOWN if i == vocab.unk else vocab.tokens[i] for i in tokens)


def levels(values: torch.Tensor, bound: float) -> list[int]:
    """-2..2 for each activation: its sign, and whether |value| / bound reaches WEAK or STRONG."""
    r = values.float() / bound
    out = torch.zeros(r.shape, dtype=torch.long)
    out[r >= WEAK] = 1
    out[r >= STRONG] = 2
    out[r <= -WEAK] = -1
    out[r <= -STRONG] = -2
    return out.tolist()


@torch.no_grad()
def read_neurons(model: LanguageModel, vocab: Vocab, text: str) -> NeuronReading:
    """Run ``text`` through ``model`` from a fresh state (dropout off) and keep every unit at every position."""
    if not has_units(model):
        raise SeqlmError(no_units(model))
    ids, labels, chars = prepare(vocab, text)
    was = model.training
    model.eval()
    try:
        logits, raw = model.unit_states(torch.tensor([ids], dtype=torch.long, device=model.device))
    finally:
        model.train(was)
    layers = 1 + max(layer for _, layer, _ in raw)
    groups = [Units(kind, layer, v[0].detach().to("cpu", torch.float32), layers) for kind, layer, v in raw]
    probs = torch.softmax(logits[0].detach().to("cpu", torch.float32), -1)
    p, idx = torch.topk(probs, min(GUESSES, probs.shape[-1]), dim=-1)
    names = [token_label(t) for t in vocab.tokens]
    guesses = [[(names[j], q) for q, j in zip(ps, js)] for ps, js in zip(p.tolist(), idx.tolist())]
    return NeuronReading(labels, chars, groups, guesses, model_title(model), vocab.kind == "numbers")


def pick_group(reading: NeuronReading, cell: bool = False, layer: int | None = None) -> int:
    """The index of a group: the top layer's h (or the MLP's hidden layer) unless asked for the cell or
    another layer (1-based ``layer``); one sentence when the model has no such group."""
    kind_wanted = "c" if cell else None
    top = max(g.layer for g in reading.groups)
    want_layer = top if layer is None else layer - 1
    for i, g in enumerate(reading.groups):
        if g.layer == want_layer and (g.kind == kind_wanted if cell else g.kind != "c"):
            return i
    if cell:
        raise SeqlmError(f"the {reading.title} has no cell state; only an LSTM has one.")
    raise SeqlmError(f"the {reading.title} has {top + 1} layer{'s' if top else ''}; there is no layer {layer}.")


def wrap(labels: list[str], width: int, sep: int = 0) -> list[list[int]]:
    """Lines of positions that fit ``width`` cells (each label takes its display width plus ``sep``): a
    line ends after a newline, else after the last space that fits; a word longer than a line is cut."""
    widths = [max(1, cell_width(lab)) + sep for lab in labels]
    lines: list[list[int]] = []
    line: list[int] = []
    used = 0
    for i, lab in enumerate(labels):
        if line and used + widths[i] > width:
            spaces = [k for k, j in enumerate(line) if labels[j] == " "]
            cut = spaces[-1] + 1 if spaces and spaces[-1] + 1 < len(line) else len(line)
            lines.append(line[:cut])
            line = line[cut:]
            used = sum(widths[j] for j in line)
        line.append(i)
        used += widths[i]
        if lab == "⏎":
            lines.append(line)
            line, used = [], 0
    if line:
        lines.append(line)
    return lines
