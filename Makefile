# Thin wrappers around dev.sh, which needs nothing but python3.
.PHONY: sim test lint hw-test bench

sim:
	./dev.sh sim

test:
	./dev.sh test

lint:
	./dev.sh lint

hw-test:
	./dev.sh hw-test

bench:
	./dev.sh test --co -q >/dev/null && .venv/bin/python bench/run_all.py
