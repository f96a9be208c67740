# eventlet first: nameko's workers and the test plugin need a patched standard library (plain pytest hangs).
import eventlet

eventlet.monkey_patch()
