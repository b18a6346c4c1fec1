"""HTTP application, settings and command line of the customer360 server."""
