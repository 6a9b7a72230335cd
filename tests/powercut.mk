# Power cuts for real (docs/powercut.md): `make soak` cuts the daemon and sync 1,000
# times under the LD_PRELOAD shim, which gcc compiles at run time. `make test` runs a
# few cuts (tests/powercut/). Exits non-zero if an event, a clip or the store is lost.
APT_PACKAGES += gcc
.PHONY: soak
soak: deps
	$(PY) -m bench.bench_powercut --cuts 1000
