"""The guided lessons, as data: one TOML file per lesson (see README.md here); core/lessons.py reads them."""
