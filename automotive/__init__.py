"""What the manufacturer's server, the workshop's agent and the car share: the ECUs' diagnostic descriptions (ODX),
the signed flash manifest, the seed/key and unlock rules, and the UDS identifiers a flash and a key are written
with. It imports nothing of AOS's services: a car and a workshop's PC do not carry the manufacturer's server."""
