#!/usr/bin/env bash
# Offline checks of the SAM template: the pinned cfn-lint, then plain
# `sam validate` (the SAM transform). They catch different mistakes, so both run
# even if the first fails. Prints one line per check; exits non-zero if either
# fails. Needs no network, no Docker and no real AWS credentials.
#
# Usage: scripts/check-template.sh            (tools from ./.venv, see `make venv`)
#        VENV=/path/to/venv scripts/check-template.sh
#        TEMPLATE=other.yaml scripts/check-template.sh
set -euo pipefail

# A VENV or TEMPLATE given by the caller is relative to the caller's directory;
# the defaults are the repository's.
if [[ -n "${VENV:-}" && "$VENV" != /* ]]; then VENV="$PWD/$VENV"; fi
if [[ -n "${TEMPLATE:-}" && "$TEMPLATE" != /* ]]; then TEMPLATE="$PWD/$TEMPLATE"; fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
TEMPLATE="${TEMPLATE:-template.yaml}"

for tool in cfn-lint sam; do
    if [[ ! -x "$VENV/bin/$tool" ]]; then
        echo "FAIL $tool: $VENV/bin/$tool not found (create the venv with 'make venv', or set VENV)" >&2
        exit 2
    fi
done

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
failed=0

# cfn-lint: any finding (error, warning or informational) fails the check.
if "$VENV/bin/cfn-lint" --include-checks I -- "$TEMPLATE" >"$out" 2>&1; then
    echo "ok   cfn-lint $("$VENV/bin/cfn-lint" --version | awk '{print $2}'): $TEMPLATE, no findings"
else
    echo "FAIL cfn-lint: $TEMPLATE"
    sed 's/^/     /' "$out"
    failed=1
fi

# sam validate, offline: dummy credentials and region, no profile or config
# files of the caller's (an SSO profile would otherwise be resolved), no
# instance-metadata lookups, no telemetry.
if env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN \
    AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0 \
    "$VENV/bin/sam" validate --template "$TEMPLATE" >"$out" 2>&1; then
    echo "ok   sam validate $("$VENV/bin/sam" --version | awk '{print $NF}'): $TEMPLATE is a valid SAM template"
else
    echo "FAIL sam validate: $TEMPLATE"
    sed 's/^/     /' "$out"
    failed=1
fi

exit "$failed"
