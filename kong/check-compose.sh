#!/usr/bin/env bash
# Offline check of docker-compose.yml (CI runs it from .ci/run): the file must pass Compose's own
# validation and variable interpolation, in both profiles, with no .env (every variable has a default)
# and with .env.example, and Compose must print no warning. (What the file must contain, ports on
# localhost, the healthcheck, the profiles, is checked by spec/deploy.test.ts.) Needs `docker compose` (v2) or Debian's
# `docker-compose` (v1.29); no Docker engine, no network.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "check-compose: neither 'docker compose' nor 'docker-compose' is installed (Debian: apt-get install docker-compose)" >&2
  exit 1
fi
echo "check-compose: $("${compose[@]}" version 2>/dev/null | head -n 1)"

empty_env="$(mktemp)"
err="$(mktemp)"
trap 'rm -f "$empty_env" "$err"' EXIT

for env_file in "$empty_env" .env.example; do
  for profile in "" database; do
    args=(--project-directory . -f docker-compose.yml --env-file "$env_file")
    [[ -n "$profile" ]] && args+=(--profile "$profile")
    # A variable set in the caller's environment would hide a missing default: run with a clean one.
    # The resolved file goes to stdout; anything on stderr is a warning (e.g. "The X variable is not
    # set. Defaulting to a blank string."), which fails the check too.
    if ! env -i PATH="$PATH" HOME="${HOME:-/tmp}" "${compose[@]}" "${args[@]}" config > /dev/null 2> "$err"; then
      cat "$err" >&2
      echo "check-compose: docker-compose.yml is invalid (env file ${env_file/#$empty_env/none}, profile ${profile:-default})" >&2
      exit 1
    fi
    if [[ -s "$err" ]]; then
      cat "$err" >&2
      echo "check-compose: Compose warns about docker-compose.yml (env file ${env_file/#$empty_env/none}, profile ${profile:-default})" >&2
      exit 1
    fi
  done
done
echo "check-compose: docker-compose.yml is valid (default and database profiles, with and without .env)"
