#!/usr/bin/env bash
# `npm test`: the whole suite, from a fresh clone on a fresh Debian machine (as root). Installs what
# it needs, then runs typecheck, lint, unit tests, integration tests (real kernel, real Postgres)
# and finally fails if any test left a mount, cgroup, namespace, link,
# firewall rule or process behind.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/bootstrap.sh
source "$root/scripts/lib/bootstrap.sh"
cd "$root"

berth_require_root "$@"
berth_apt_install "${BERTH_APT_PACKAGES[@]}" "${BERTH_APT_TEST_PACKAGES[@]}"
berth_ensure_node
berth_ensure_npm_deps "$root"

started=$SECONDS
# Marks every process of this run (daemons the tests start inherit it), so the leak check can tell
# this run's leftovers from those of another run on the same machine.
BERTH_TEST_RUN="$(date +%s)-$$"
export BERTH_TEST_RUN
bash scripts/clear-stale-test-leftovers.sh
berth_say "Typecheck"
npx turbo run typecheck --output-logs=errors-only
berth_say "Lint (biome)"
npx biome check .
berth_say "Unit tests"
npx turbo run test:unit --output-logs=errors-only --concurrency=2
berth_say "Integration tests (root, real kernel and Postgres)"
npx turbo run test:integration --output-logs=new-only --concurrency=1
berth_say "Checking that the tests left nothing behind"
bash scripts/check-leaks.sh
berth_say "All tests passed in $((SECONDS - started)) s"
