"""The HTTP edge: routes, request bounds, client address, problems."""
