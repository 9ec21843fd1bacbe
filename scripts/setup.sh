#!/usr/bin/env bash
# Installs what pkcs11-webcrypto needs on a Debian machine, then its npm dependencies, and builds.
#   system: softhsm2 (the token for the demo and tests), opensc (pkcs11-tool) and gnutls-bin (p11tool), for interop checks,
#           libnss3-tools (NSS softokn test databases), p11-kit and p11-kit-modules (the remote test token),
#           openssl, xmlsec1 and poppler-utils (pdfsig): the verifiers that check what the examples sign
#   npm:    npm ci (pkcs11js builds its native addon; package.json allows its install script)
# As root, missing system packages are installed with apt-get; otherwise the exact command to run
# is printed and the script stops.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(softhsm2 opensc gnutls-bin libnss3-tools p11-kit p11-kit-modules openssl xmlsec1 poppler-utils)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

# npm 11 runs a dependency's install script only when package.json allows it; check the native
# addon really was built, since everything depends on it.
node -e 'require("pkcs11js")' || { echo "setup: pkcs11js's native addon is missing (was its install script blocked?)" >&2; exit 1; }

npm run build --silent
echo "setup: done"
