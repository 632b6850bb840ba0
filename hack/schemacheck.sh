#!/usr/bin/env bash
# Checks manifests/schema inside yaml-language-server itself (the language service VS Code's YAML
# extension, Neovim and Helix run), offline: every example must pass, and it prints how many files
# of manifests/invalid it flags. Installs yaml-language-server from the npm registry into a cache
# directory on first use (needs node and npm). Not part of hack/test.sh, which checks the same
# schema with a Go JSON Schema validator (hack/schemagen's tests).
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${XDG_CACHE_HOME:-$HOME/.cache}/swarmgate-schemacheck"
mkdir -p "$cache"
if [ ! -d "$cache/node_modules/yaml-language-server" ]; then
	(cd "$cache" && npm install --silent --no-audit --no-fund yaml-language-server@1.25.0 vscode-languageserver-textdocument vscode-uri >/dev/null)
fi
export NODE_PATH="$cache/node_modules"
node hack/schemacheck/check.js manifests/schema manifests/examples/*/*.yaml | python3 -c '
import json, sys
bad = {f: m for f, m in json.load(sys.stdin).items() if m}
if bad:
    print("examples flagged:", bad)
    sys.exit(1)
print("examples: all pass")'
node hack/schemacheck/check.js manifests/schema manifests/invalid/*.yaml | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("invalid corpus: %d of %d flagged" % (sum(1 for m in d.values() if m), len(d)))'
