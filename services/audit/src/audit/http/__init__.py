"""The HTTP edge: query API, dashboard, request parameters and documents."""
