# eventlet first: nameko's workers and the test plugin need a patched standard library (plain pytest hangs).
import eventlet

eventlet.monkey_patch()


# The browser tests drive chromium through Playwright, whose sync API cannot run on a patched standard library:
# they run in a pytest of their own without this file (`make test-browser`, which `make test` calls).
collect_ignore = ["tests/browser"]
