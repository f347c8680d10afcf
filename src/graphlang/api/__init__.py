"""The HTTP surface: routing, request context, handlers and the one place responses are rendered."""
