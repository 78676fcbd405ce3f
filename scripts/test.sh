#!/usr/bin/env bash
# The README's test command runs this (through `make test`): real daemons up, tiny guest built,
# then every test layer in one pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/daemons.sh start
scripts/build-guest.sh
scripts/fetch-libvirt-corpus.sh >/dev/null
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
