#!/usr/bin/env bash
# Entry point of the image built by kong/Dockerfile: lays out our plugins for Kong (shims, sockets,
# start and query commands, the names; see ai-plugins-layout.sh), then hands over to Kong's own entry
# point, unchanged, with the same arguments (default: kong docker-start).
set -Eeo pipefail
# shellcheck source=ai-plugins-layout.sh
. "${AI_GATEWAY_HOME:-/opt/ai-gateway}/kong/ai-plugins-layout.sh"
ai_plugins_layout
exec /docker-entrypoint.sh "$@"
