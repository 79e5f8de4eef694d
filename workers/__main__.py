"""`python -m workers [--once] [--metrics-port N]`: the same loop as `tovholder worker`."""
import argparse
import sys

from engine.settings import SettingsError, load_settings

from .jsonlog import setup as setup_logging
from .loop import run_forever

parser = argparse.ArgumentParser(prog="python -m workers", description="the Tovholder background worker")
parser.add_argument("--once", action="store_true", help="fire what is due now, then exit")
parser.add_argument("--metrics-port", type=int, default=None, help="serve /health and /metrics on this port")
args = parser.parse_args()
try:
    settings = load_settings()
    settings.signing_key()
except SettingsError as exc:
    print(f"workers: {exc}", file=sys.stderr)
    raise SystemExit(1) from None
setup_logging()
run_forever(settings, once=args.once, metrics_port=args.metrics_port)
