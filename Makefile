.PHONY: setup run test unit bench clean

setup:
	@scripts/setup.sh

# The console on its embedded default: libvirt's test driver holding rftest2's four VMs.
run: setup
	.venv/bin/rfconsole --demo

# Everything CI runs: unit and console tests, then the real libvirtd/QEMU/LXC/Open vSwitch tests.
test: setup
	scripts/test.sh

# Fast layer only: no daemons.
unit: setup
	.venv/bin/pytest -q -m "not integration and not e2e"

bench: setup
	scripts/daemons.sh start
	.venv/bin/python -m bench

clean:
	rm -rf .venv .cache
