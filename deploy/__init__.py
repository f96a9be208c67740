"""Running AOS: the local launcher (`make run`), demo data, and deployment files."""
