"""graphlang: the Microsoft Graph (beta) profile languages API, as a service and an emulator."""

__version__ = "0.1.0"

__all__ = ["__version__"]
