"""The vehicle simulator: a DoIP entity (ISO 13400-2) on a TCP port with ECUs that answer UDS (ISO 14229) as
real ones do, for the tests, the benchmarks and the demo car `make run` starts."""
