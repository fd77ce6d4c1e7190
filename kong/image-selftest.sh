#!/usr/bin/env bash
# Self-test of the plugin layout, run while the image is built (kong/Dockerfile) and by
# spec/deploy.test.ts on a development machine (with AI_GATEWAY_HOME / AI_GATEWAY_NODE pointing at the
# checkout and its node). For the default names and for a name prefix (default js-), it lays the
# plugins out in a scratch prefix and runs every query command as Kong's master would: stdout must be
# a JSON array holding exactly one plugin, named as its pluginserver entry. Offline; exits non-zero on
# the first failure.
set -Eeuo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=ai-plugins-layout.sh
. "$here/ai-plugins-layout.sh"
node="${AI_GATEWAY_NODE:-/usr/local/bin/node}"
"$node" --version >/dev/null

for name_prefix in "" "${1:-js-}"; do
  scratch="$(mktemp -d)"
  (
    unset KONG_PLUGINSERVER_NAMES KONG_PLUGINS KONG_NGINX_MAIN_ENV KONG_LUA_PACKAGE_PATH
    export AI_PLUGINS_NAME_PREFIX="$name_prefix" KONG_PREFIX="$scratch"
    ai_plugins_layout
    count=0
    for name in ${KONG_PLUGINSERVER_NAMES//,/ }; do
      key="${name//-/_}"
      query="KONG_PLUGINSERVER_${key^^}_QUERY_CMD"
      sh -c "${!query}" > "$scratch/dump.json"
      "$node" -e '
        const [file, name] = process.argv.slice(1);
        const dump = JSON.parse(require("fs").readFileSync(file, "utf8"));
        const names = Array.isArray(dump) ? dump.map((p) => p.Name) : [];
        if (names.length !== 1 || names[0] !== name) {
          console.error(`query command of ${name} reported ${JSON.stringify(names)}`);
          process.exit(1);
        }' "$scratch/dump.json" "$name"
      case ",$KONG_PLUGINS," in *",$name,"*) ;; *) echo "$name missing from KONG_PLUGINS=$KONG_PLUGINS" >&2; exit 1 ;; esac
      count=$((count + 1))
    done
    [[ $count -eq 3 ]] || { echo "expected 3 pluginserver entries, got $count" >&2; exit 1; }
    echo "ok: ${KONG_PLUGINSERVER_NAMES}"
  ) || { rm -rf "$scratch"; exit 1; }
  rm -rf "$scratch"
done
