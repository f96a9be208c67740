"""Identity: workshop companies (operators), their users and roles, passwords, TOTP factors, recovery codes,
refresh tokens and login throttling. Publishes OperatorRegistered and UserJoined."""
