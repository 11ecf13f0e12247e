"""dam: an AI video digital-asset manager that runs embedded on a laptop and scales out on Ray."""

__version__ = "0.1.0"
