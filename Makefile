# AOS: `make run` starts the whole system with demo data; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: prerequisites install portal run test-browser migrate vehicles-import air-import air-corpus parts-import parts-package test test-unit test-integration test-e2e bench bench-faults clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

# the demo SERMI trust centre (npm oidc-provider), for make run and the tests
TRUST_CENTRE := deploy/trust-centre/node_modules/.package-lock.json
$(TRUST_CENTRE): deploy/trust-centre/package-lock.json
	cd deploy/trust-centre && npm ci --no-audit --no-fund --loglevel=error

# the AsyncAPI parser (npm @asyncapi/parser), which checks the event catalogue in make test
CONTRACT_CHECKS := tests/contracts/node_modules/.package-lock.json
$(CONTRACT_CHECKS): tests/contracts/package-lock.json
	cd tests/contracts && npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP) $(TRUST_CENTRE) $(CONTRACT_CHECKS)

# The web portal: npm installs exactly what package-lock.json says, Vite builds portal/dist (not committed).
PORTAL_SOURCES := $(shell find portal/src -type f) portal/index.html portal/vite.config.js
portal/node_modules/.package-lock.json: portal/package-lock.json
	cd portal && npm ci --no-audit --no-fund --loglevel=error

portal/dist/index.html: portal/node_modules/.package-lock.json $(PORTAL_SOURCES)
	cd portal && npm run --silent build -- --logLevel warn

portal: portal/dist/index.html

run: install portal
	$(BIN)/python -m deploy.launcher

migrate: install
	$(BIN)/python -m deploy.migrate

vehicles-import: install
	$(BIN)/python -m services.vehicle_data.feed import $(FEED)

# a content package (folder or zip): checked whole, then imported; AIR indexes it within AOS_AIR_SYNC_SECONDS
air-import: install
	$(BIN)/python -m services.air.content import $(PACKAGE)

# the demo corpus as a package of any size: make air-corpus OUT=var/library DOCUMENTS=100000
air-corpus: install
	$(BIN)/python -m deploy.corpus $(OUT) --documents $(or $(DOCUMENTS),5000)

# a parts package (folder or zip): checked whole, then imported beside the catalogue in use and switched to; the
# parts service follows within AOS_PARTS_SYNC_SECONDS once its index is built
parts-import: install
	$(BIN)/python -m services.parts.package import $(PACKAGE)

# the demo parts catalogue as a package of any size: make parts-package OUT=var/parts PARTS=200000
parts-package: install
	$(BIN)/python -m deploy.parts $(OUT) --parts $(or $(PARTS),4000)

# the services the tests talk to (PostgreSQL, RabbitMQ and its management API, Prometheus, SoftHSM2, chromium),
# started or installed when missing, so that `make test` works on a fresh machine as `make run` does
prerequisites:
	deploy/prerequisites

# every test but the browser's, in AOS_TEST_SHARDS (2) pytest processes side by side, then the ten slowest
test: prerequisites install portal
	$(BIN)/python -m tests.run
	$(MAKE) --no-print-directory test-browser

# The portal in a real browser (Debian's chromium) against `make run`'s system. Its own pytest, without the root
# conftest.py: Playwright does not run on eventlet's patched standard library.
test-browser: prerequisites install portal
	$(BIN)/python -m pytest tests/browser --confcutdir=tests/browser --suppress-nameko-eventlet-notification

test-unit: install
	$(BIN)/python -m pytest tests/unit

test-integration: install
	$(BIN)/python -m pytest tests/integration

test-e2e: install
	$(BIN)/python -m pytest tests/e2e

# Every benchmark (under half an hour on 2 cores), then every goal of the run with met or missed, the CPU ms per
# request, the capacity found and the campaigns' counts (bench.goals). The workshop day's cluster step needs
# PostgreSQL (BENCH_POSTGRES) and starts three RabbitMQ nodes of its own.
BENCH_POSTGRES ?= postgresql://postgres@127.0.0.1:5432
export AOS_BENCH_FIGURES ?= var/bench/figures.jsonl
bench: install
	rm -f $(AOS_BENCH_FIGURES)
	$(BIN)/python -m bench.password_hashing
	$(BIN)/python -m bench.me_throughput
	$(BIN)/python -m bench.slowed_sign_ins
	$(BIN)/python -m bench.revocation
	$(BIN)/python -m bench.purchases
	$(BIN)/python -m bench.vin_decode
	$(BIN)/python -m bench.vehicle_lookup
	$(BIN)/python -m bench.air_import
	$(BIN)/python -m bench.air_search
	$(BIN)/python -m bench.parts
	$(BIN)/python -m bench.partners --down-seconds 10
	$(BIN)/python -m bench.flash_throughput
	$(BIN)/python -m bench.diagnosis
	$(BIN)/python -m bench.coding
	$(BIN)/python -m bench.programming_clock
	$(BIN)/python -m bench.programming_clock --database-url $(BENCH_POSTGRES)
	$(BIN)/python -m bench.audit_verify
	$(BIN)/python -m bench.workshop_day
	# two replicas of every service on PostgreSQL and a three-node RabbitMQ cluster with quorum queues, the capacity
	# found run again with one node SIGKILLed
	-$(BIN)/python -m bench.workshop_day --database-url $(BENCH_POSTGRES) --replicas 2 --cluster --steps 8,16,24
	$(BIN)/python -m bench.goals

# Every fault campaign, each printing its counts and exiting 1 when a rule fails, then their table (bench.goals, from
# a figures file of their own). They SIGKILL services, restart the local RabbitMQ (every user of it pauses for
# seconds) and start three RabbitMQ nodes of their own; the webhook campaign keeps a receiver down five minutes.
bench-faults: export AOS_BENCH_FIGURES := var/bench/faults.jsonl
bench-faults: install
	rm -f $(AOS_BENCH_FIGURES)
	$(BIN)/python -m bench.purchase_faults
	$(BIN)/python -m bench.shop_faults
	$(BIN)/python -m bench.programming_faults
	$(BIN)/python -m bench.hostile_agents
	# every service x1 then x2 on PostgreSQL; two replicas of every service, one SIGKILLed at random
	$(BIN)/python -m bench.replicas --database-url $(BENCH_POSTGRES)
	$(BIN)/python -m bench.purchase_faults --replicas 2 --database-url $(BENCH_POSTGRES)
	$(BIN)/python -m bench.shop_faults --replicas 2 --database-url $(BENCH_POSTGRES)
	$(BIN)/python -m bench.programming_faults --replicas 2 --database-url $(BENCH_POSTGRES)
	# on a three-node RabbitMQ cluster of its own (quorum queues), one node SIGKILLed
	$(BIN)/python -m bench.purchase_faults --cluster --replicas 2 --database-url $(BENCH_POSTGRES)
	$(BIN)/python -m bench.partners --down-seconds 300
	$(BIN)/python -m bench.goals

clean:
	rm -rf $(VENV) var *.egg-info portal/node_modules portal/dist
