"""The HTTP server: the Starlette app, ``/graphql`` over HTTP and WebSocket, GraphiQL, logs, metrics."""
