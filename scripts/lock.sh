#!/usr/bin/env bash
# Re-lock Concerto's install: resolve the newest versions pyproject.toml admits into
# requirements-test.lock and requirements-run.lock (exact versions with hashes), then run CI on them.
#   bash scripts/lock.sh            # upgrade everything, then `bash .ci/run` (tests, gate, lint)
#   bash scripts/lock.sh --no-check # only write the lock files
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/pip" install --quiet pip-tools==7.6.2
compile() {
  "$tools/bin/pip-compile" --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links "$@"
}
# The test lock holds everything; the run lock is its subset without the test tools. Both hold the
# postgres extra, so a locked install can serve a PostgreSQL ledger.
compile --extra test --extra postgres -c requirements-constraints.txt -o requirements-test.lock pyproject.toml requirements-build.in
compile --extra postgres -c requirements-test.lock -o requirements-run.lock pyproject.toml requirements-build.in
if [ "${1:-}" != "--no-check" ]; then
  bash .ci/run
fi
