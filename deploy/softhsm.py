"""SoftHSM2 (Debian's softhsm2) as the HSM of `make run` and the tests: a token in a folder of its own, reached
through its PKCS#11 library. Production points AOS_HSM_MODULE at its network HSM's library instead."""
import os
import subprocess
from pathlib import Path

MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
           "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")


def module():
    """The PKCS#11 library, or None when softhsm2 is not installed."""
    return next((m for m in MODULES if Path(m).exists()), None)


def token(folder, label="aos", pin="1234", so_pin="5678"):
    """A token labelled `label` in `folder` (made on first use): the environment a process needs to reach it
    (SOFTHSM2_CONF and the AOS_HSM_* settings)."""
    folder = Path(folder)
    (folder / "tokens").mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf), "AOS_HSM_MODULE": module(), "AOS_HSM_TOKEN_LABEL": label, "AOS_HSM_PIN": pin}
    shown = subprocess.run(["softhsm2-util", "--show-slots"], env=os.environ | env, capture_output=True, text=True)
    if f"Label:            {label}" not in shown.stdout:
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", so_pin,
                        "--pin", pin], env=os.environ | env, check=True, capture_output=True)
    return env
