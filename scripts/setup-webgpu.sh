#!/usr/bin/env bash
# Makes a WebGPU adapter available to Dawn's Node bindings (the `webgpu` package).
# If a Vulkan driver Dawn accepts is already present, does nothing. On Debian bookworm as root
# with no usable driver, installs Mesa's lavapipe (software Vulkan) from bookworm-backports:
# bookworm's own Mesa 22.3 is refused by Dawn. Elsewhere, explains what to install.
set -euo pipefail

probe() { node "$(dirname "$0")/probe-adapter.mjs" >/dev/null 2>&1; }

if [ -d node_modules/webgpu ] && probe; then
  echo "setup-webgpu: a WebGPU adapter is available"; exit 0
fi

have_backports_mesa() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q 'bpo12'
}

if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null && [ "$(id -u)" = 0 ]; then
  if ! have_backports_mesa || ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
    echo "setup-webgpu: installing Mesa lavapipe from bookworm-backports (software Vulkan)"
    src=/etc/apt/sources.list.d/widthscope-backports.sources
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      cat > "$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
elif ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  cat >&2 <<'MSG'
setup-webgpu: no Vulkan loader (libvulkan.so.1) found and this is not Debian bookworm as root.
  Dawn needs a Vulkan driver. Install one of:
  - a GPU vendor driver with Vulkan support (NVIDIA, AMD, Intel), or
  - Mesa's lavapipe software driver, version >= 23 (Debian/Ubuntu: mesa-vulkan-drivers and
    libvulkan1 from a recent release or backports; Fedora: mesa-vulkan-drivers).
  Then run this script again.
MSG
  exit 1
fi

if [ -d node_modules/webgpu ] && ! probe; then
  echo "setup-webgpu: still no WebGPU adapter; details:" >&2
  node "$(dirname "$0")/probe-adapter.mjs" >&2 || true
  exit 1
fi
echo "setup-webgpu: done"
