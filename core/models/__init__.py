"""The model zoo. Every model has ``forward(x, state=None) -> (logits, state)`` and ``init_state(batch)``;
``core.models.registry`` maps names to them."""
