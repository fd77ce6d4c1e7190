# shellcheck shell=bash
# Lays out our three plugins for Kong the portable way and exports the Kong settings that point at them.
# Sourced by kong/docker-entrypoint.sh before Kong's own entrypoint; also usable on its own:
#
#   . kong/ai-plugins-layout.sh && ai_plugins_layout        # exports KONG_* in this shell
#   bash kong/ai-plugins-layout.sh --print                  # prints the settings it would export
#
# One pluginserver entry per plugin (Kong 3.9 registers only the first plugin a query command reports),
# each with its own plugin directory holding one shim file named after the plugin (the plugin server
# names a plugin after its file), its own socket, start command and query command, all with absolute
# paths: Kong runs the start command from an nginx worker, whose environment is stripped.
#
# Settings read (environment):
#   AI_PLUGINS_NAME_PREFIX  ""  (default): the plugins are ai-proxy, ai-proxy-advanced, ai-prompt-guard.
#                           The image has moved Kong's bundled Lua ai-proxy and ai-prompt-guard out of
#                           Kong's Lua path, so these names reach our plugins.
#                           "js-" (any [a-z0-9-]): the plugins are js-ai-proxy, js-ai-proxy-advanced,
#                           js-ai-prompt-guard, and Kong's bundled Lua ai-proxy / ai-prompt-guard are put
#                           back on lua_package_path, so both sets can be used side by side.
#   AI_PLUGINS_PASS_ENV     extra variable names (comma or space separated) the plugin server must see;
#                           the AWS, GCP, proxy and Node variables below are always passed when set and
#                           not empty.
#   AI_GATEWAY_HOME         where dist/ and node_modules/ are (default /opt/ai-gateway)
#   AI_GATEWAY_NODE         the node binary (default /usr/local/bin/node)
#   AI_GATEWAY_BUNDLED_LUA  where the image moved Kong's Lua modules (default /usr/local/share/kong-bundled-ai)
#   AI_GATEWAY_KONG_LUA     Kong's Lua tree (default /usr/local/share/lua/5.1), checked for shadowing
#   KONG_PREFIX             Kong's prefix (default /usr/local/kong): shims in <prefix>/ai-plugins, sockets
#                           in <prefix>
#
# Exported: KONG_PLUGINS (bundled plus ours, or the operator's list with ours appended),
# KONG_PLUGINSERVER_NAMES (the operator's entries plus ours), KONG_PLUGINSERVER_<NAME>_SOCKET /
# _START_CMD / _QUERY_CMD, KONG_NGINX_MAIN_ENV (nginx `env` directives for the variables to pass, so
# their values never appear in a command line or a file), and, with a name prefix, KONG_LUA_PACKAGE_PATH.

AI_PLUGINS_MODULES="ai-proxy ai-proxy-advanced ai-prompt-guard"

# Variables the plugins (and Node) read from their environment, passed when set: the AWS SDK's default
# credential chain and region (Bedrock), GCP_SERVICE_ACCOUNT / GOOGLE_APPLICATION_CREDENTIALS (Gemini,
# Vertex), Entra ID's credential and managed-identity endpoints (Azure), where the proxies' relay
# serves Kong's AI metrics and listens at a fixed address, outbound proxies and extra CAs.
AI_PLUGINS_DEFAULT_PASS_ENV="AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  AWS_SESSION_TOKEN AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ROLE_ARN
  AWS_ROLE_SESSION_NAME AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
  AWS_EC2_METADATA_DISABLED AWS_STS_REGIONAL_ENDPOINTS GCP_SERVICE_ACCOUNT GOOGLE_APPLICATION_CREDENTIALS
  AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_TENANT_ID AZURE_AUTHORITY_HOST IDENTITY_ENDPOINT IDENTITY_HEADER
  IDENTITY_SERVER_THUMBPRINT MSI_ENDPOINT MSI_SECRET IMDS_ENDPOINT AZURE_POD_IDENTITY_AUTHORITY_HOST
  AI_GATEWAY_METRICS_LISTEN AI_GATEWAY_METRICS_LISTEN_AI_PROXY AI_GATEWAY_METRICS_LISTEN_AI_PROXY_ADVANCED
  AI_GATEWAY_RELAY_LISTEN AI_GATEWAY_RELAY_LISTEN_AI_PROXY AI_GATEWAY_RELAY_LISTEN_AI_PROXY_ADVANCED
  HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy NODE_EXTRA_CA_CERTS"

_ai_plugins_fail() {
  printf 'ai-plugins-layout: %s\n' "$*" >&2
  return 1
}

# A path that goes into a command line Kong hands to /bin/sh: absolute, nothing the shell would split
# or interpret.
_ai_plugins_check_path() {
  case "$2" in
    /*) ;;
    *) _ai_plugins_fail "$1 must be an absolute path, got '$2'" || return 1 ;;
  esac
  if [[ ! "$2" =~ ^[A-Za-z0-9_./+@:-]+$ ]]; then
    _ai_plugins_fail "$1 may only hold letters, digits and _ . / + @ : - (Kong runs it through /bin/sh), got '$2'"
    return 1
  fi
}

# "a,b" + "b c" -> "a,b,c": comma-separated, order kept, no duplicates, empty items dropped.
_ai_plugins_merge_list() {
  local out="" item
  local IFS=$', \t\n'
  for item in $1 $2; do
    case ",$out," in *",$item,"*) ;; *) out="${out:+$out,}$item" ;; esac
  done
  printf '%s' "$out"
}

ai_plugins_layout() {
  local name_prefix="${AI_PLUGINS_NAME_PREFIX:-}"
  local home="${AI_GATEWAY_HOME:-/opt/ai-gateway}"
  local node="${AI_GATEWAY_NODE:-/usr/local/bin/node}"
  local bundled_lua="${AI_GATEWAY_BUNDLED_LUA:-/usr/local/share/kong-bundled-ai}"
  local kong_lua="${AI_GATEWAY_KONG_LUA:-/usr/local/share/lua/5.1}"
  local kong_prefix="${KONG_PREFIX:-/usr/local/kong}"
  local shims="$kong_prefix/ai-plugins"
  local entry="$home/dist/shared/plugin-server/main.js"

  if [[ ! "$name_prefix" =~ ^([a-z0-9][a-z0-9-]*)?$ ]]; then
    _ai_plugins_fail "AI_PLUGINS_NAME_PREFIX must be empty or lower-case letters, digits and '-' (Kong names plugins in lower case), got '$name_prefix'"
    return 1
  fi
  _ai_plugins_check_path AI_GATEWAY_HOME "$home" || return 1
  _ai_plugins_check_path AI_GATEWAY_NODE "$node" || return 1
  _ai_plugins_check_path KONG_PREFIX "$kong_prefix" || return 1
  [[ -x "$node" ]] || { _ai_plugins_fail "no node binary at $node"; return 1; }
  [[ -f "$entry" ]] || { _ai_plugins_fail "no plugin server at $entry"; return 1; }

  # Kong looks for kong.plugins.<name>.handler on its Lua path before it looks at external plugins
  # (kong/db/dao/plugins.lua, load_plugin_handler; the schema likewise in plugin_loader.lua), so a Lua
  # module of the same name silently wins over ours.
  if [[ -z "$name_prefix" ]]; then
    local shadow
    for shadow in ai-proxy ai-prompt-guard; do
      if [[ -e "$kong_lua/kong/plugins/$shadow" ]]; then
        _ai_plugins_fail "Kong's bundled Lua plugin $shadow is still at $kong_lua/kong/plugins/$shadow and would silently shadow ours: build the image from kong/Dockerfile, or set AI_PLUGINS_NAME_PREFIX (e.g. js-) to serve ours under other names"
        return 1
      fi
    done
  fi

  local names="" module name key
  for module in $AI_PLUGINS_MODULES; do
    name="$name_prefix$module"
    key="${name//-/_}"
    key="${key^^}"
    [[ -f "$home/dist/plugins/$module.js" ]] || { _ai_plugins_fail "no plugin module at $home/dist/plugins/$module.js"; return 1; }
    mkdir -p "$shims/$name" || return 1
    printf "module.exports = require('%s');\n" "$home/dist/plugins/$module.js" > "$shims/$name/$name.js" || return 1
    export "KONG_PLUGINSERVER_${key}_SOCKET=$kong_prefix/$name.sock"
    export "KONG_PLUGINSERVER_${key}_START_CMD=$node $entry -d $shims/$name --kong-prefix $kong_prefix --sock-name $name.sock"
    export "KONG_PLUGINSERVER_${key}_QUERY_CMD=$node $entry -d $shims/$name --dump-all-plugins"
    names="${names:+$names,}$name"
  done

  KONG_PLUGINSERVER_NAMES="$(_ai_plugins_merge_list "${KONG_PLUGINSERVER_NAMES:-}" "$names")"
  export KONG_PLUGINSERVER_NAMES

  # `plugins = off` (first entry) disables every plugin; an operator who wrote that keeps it.
  case "${KONG_PLUGINS:-bundled}" in
    off|off,*) ;;
    *) KONG_PLUGINS="$(_ai_plugins_merge_list "${KONG_PLUGINS:-bundled}" "$names")"; export KONG_PLUGINS ;;
  esac

  if [[ -n "$name_prefix" && -d "$bundled_lua" ]]; then
    KONG_LUA_PACKAGE_PATH="$bundled_lua/?.lua;$bundled_lua/?/init.lua;${KONG_LUA_PACKAGE_PATH:-./?.lua;./?/init.lua;}"
    export KONG_LUA_PACKAGE_PATH
  fi

  # nginx keeps only the variables named in `env` directives in its workers, and the start command runs
  # from a worker. Kong injects one nginx_main_* directive per key, written as "env <value>;", so the
  # value "A; env B" gives "env A; env B;".
  local pass="" var
  local IFS=$', \t\n'
  for var in $AI_PLUGINS_DEFAULT_PASS_ENV ${AI_PLUGINS_PASS_ENV:-}; do
    if [[ ! "$var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
      _ai_plugins_fail "AI_PLUGINS_PASS_ENV: '$var' is not a variable name"
      return 1
    fi
    [[ -n "${!var:-}" ]] || continue   # unset or empty: nothing to pass
    case " $pass ${KONG_NGINX_MAIN_ENV:-} " in *" $var "*|*" $var;"*) continue ;; esac
    pass="$pass $var"
  done
  if [[ -n "$pass" ]]; then
    local directives="" first=1
    [[ -n "${KONG_NGINX_MAIN_ENV:-}" ]] && { directives="$KONG_NGINX_MAIN_ENV"; first=0; }
    for var in $pass; do
      if (( first )); then directives="$var"; first=0; else directives="$directives; env $var"; fi
    done
    KONG_NGINX_MAIN_ENV="$directives"
    export KONG_NGINX_MAIN_ENV
  fi
  return 0
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  # Run as a script: print the settings, one `export` line each, quoted for the shell.
  set -eu
  if [[ "${1:-}" != "--print" ]]; then
    echo "usage: . $0 && ai_plugins_layout   |   bash $0 --print" >&2
    exit 2
  fi
  ai_plugins_layout
  for v in $(compgen -e | grep -E '^KONG_(PLUGINS|PLUGINSERVER_|NGINX_MAIN_ENV$|LUA_PACKAGE_PATH$)' | sort); do
    printf 'export %s=%q\n' "$v" "${!v}"
  done
fi
