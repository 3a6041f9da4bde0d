"""The package version (its own module: the metric signatures record it, and they sit below the package itself)."""

__version__ = "0.1.0"
