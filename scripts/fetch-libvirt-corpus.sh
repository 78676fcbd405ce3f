#!/usr/bin/env bash
# libvirt's own test domains, the corpus the model is proven on (tests/unit/model/test_corpus.py).
# From the Debian source package of the installed libvirt: add a deb-src line for the installed
# suites, `apt-get source --download-only libvirt=<installed version>`, unpack only the domain test
# data folders into .cache/libvirt-corpus/<version>/. Idempotent: a second run is one `test -f`.
# Kept out of git (LGPL-2.1+ test data, ~10 MB of XML); CI fetches it on its fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(dpkg-query -W -f='${Version}' libvirt0)
cache=.cache/libvirt-corpus
target="$cache/$version"
if [ -f "$target/.complete" ]; then
  echo "$target"
  exit 0
fi

sources=/etc/apt/sources.list.d/rfconsole-deb-src.sources
if ! apt-get source --print-uris -q "libvirt=$version" >/dev/null 2>&1; then
  suites=$(sed -n 's/^Suites: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  cat > "$sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${suites:-bookworm bookworm-updates}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -q >/dev/null
fi

download="$cache/download"
mkdir -p "$download"
(cd "$download" && apt-get source --download-only -q "libvirt=$version" >/dev/null)
orig=$(ls "$download"/libvirt_*.orig.tar.* | head -1)
rm -rf "$target.partial"
mkdir -p "$target.partial"
tar -xf "$orig" -C "$target.partial" --strip-components=1 --wildcards \
  '*/tests/*xml2*data/*.xml' '*/tests/domainschemadata/*.xml' '*/COPYING.LESSER' 2>/dev/null || \
tar -xf "$orig" -C "$target.partial" --strip-components=1 --wildcards \
  '*/tests/*xml2*data/*.xml' '*/tests/domainschemadata/*.xml'
rm -rf "$target"
mv "$target.partial" "$target"
rm -rf "$download"
touch "$target/.complete"
echo "$target"
