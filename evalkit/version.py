"""The version of evalkit, recorded with every run and report."""

__version__ = "0.1.0"
