"""The sandbox feature: resources and sensors that exist only when no account is configured.

Only `definitions.py` imports this package, and only for the sandbox binding."""
