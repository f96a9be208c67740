"""AOS services: one package per bounded context, plus `shared` for what every service needs."""
