"""The HTTP gateway: AOS's only public entry. Validates input, verifies tokens locally, calls services over RPC
and maps their typed errors to HTTP. Stateless; no business rule lives here."""
