#!/usr/bin/env bash
# Installs the system software the tests need on a fresh Debian 12 machine (run as root):
# Mesa's lavapipe (software Vulkan) from bookworm-backports — Dawn refuses Debian 12's own 22.3 —
# and Debian's Chromium, which also brings SwiftShader's Vulkan ICD; DejaVu fonts for Chromium's pages
# (the PNG figures draw with the DejaVu Sans that the npm package dejavu-fonts-ttf brings).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if [ ! -f /etc/apt/sources.list.d/bookworm-backports.sources ]; then
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
need=0
[ -f /usr/share/vulkan/icd.d/lvp_icd.json ] || need=1
[ -x /usr/bin/chromium ] || need=1
command -v vulkaninfo >/dev/null || need=1
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need=1
if [ "$need" = 1 ]; then
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  apt-get install -y -qq chromium vulkan-tools fonts-dejavu-core >/dev/null
fi
echo "lavapipe: $(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null)"
echo "swiftshader: $(ls /usr/lib/chromium/vk_swiftshader_icd.json 2>/dev/null)"
