"""The workshop agent: the program on the workshop's PC beside its pass-through device. It takes jobs from AOS,
downloads and verifies flash files, and programs the car's ECUs over DoIP with UDS."""
