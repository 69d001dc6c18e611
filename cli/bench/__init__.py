"""``seqlm-tui bench``: performance measured side by side in one run. Ratios, never pass/fail."""
