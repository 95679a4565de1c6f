"""HTTP around the engine: the server and its limits, the direct path, CORS, the mock's own
endpoints and pages, and what a base URL is."""
