"""What every AOS service needs: configuration, typed errors, event contracts and their envelope,
the database provider with its outbox relay, idempotent event consumption, and metrics."""
