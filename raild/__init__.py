"""raild: a focus-stacking rail daemon for the Raspberry Pi."""

__version__ = "0.1.0"
