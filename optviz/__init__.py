"""optviz: watch gradient-descent variants race across 2-D test functions."""

__version__ = "0.1.0"
