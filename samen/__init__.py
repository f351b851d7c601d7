"""samen: scheduled Prefect flows that run a participation programme end to end."""

__version__ = "0.1.0"
