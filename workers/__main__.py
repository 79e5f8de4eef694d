"""`python -m workers`: the same loop as `tovholder worker`."""
import logging
import sys

from engine.logs import install as mask_cpr_in_logs
from engine.settings import SettingsError, load_settings

from .loop import run_forever

try:
    settings = load_settings()
    settings.signing_key()
except SettingsError as exc:
    print(f"workers: {exc}", file=sys.stderr)
    raise SystemExit(1) from None
mask_cpr_in_logs()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
run_forever(settings)
