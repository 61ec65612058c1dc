#!/usr/bin/env bash
# Helpers for a cached Debian trixie chroot that holds a real Swift toolchain (Debian's swiftlang).
# Source this file; it defines swift_chroot_dir, swift_chroot_ensure and swift_chroot_run.
#
#   MOBILESTYLE_SWIFT_CHROOT  where the chroot lives (default /var/cache/mobilestyle/swift-trixie)
#   MOBILESTYLE_DEBIAN_MIRROR Debian mirror for debootstrap (default: the one this machine's apt uses)
#
# The chroot is created only when absent; a finished chroot carries a marker file, so a setup that
# was interrupted is thrown away and redone instead of being used half-installed.

SWIFT_CHROOT_SUITE=trixie
SWIFT_CHROOT_PACKAGES="swiftlang libc6-dev"
SWIFT_CHROOT_MARKER=.mobilestyle-swift-ready

swift_chroot_dir() {
    echo "${MOBILESTYLE_SWIFT_CHROOT:-/var/cache/mobilestyle/swift-trixie}"
}

swift_chroot_fail() {
    echo "ci_swift: FAILED: $*" >&2
    return 1
}

# The Debian archive URI configured for apt on this machine (deb822 or one-line format), ignoring
# the security archive and third-party repositories.
swift_chroot_host_mirror() {
    local files=() uri
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    uri=$(grep -hoE '(URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+' "${files[@]}" \
        | grep -oE 'https?://[^[:space:]]+' \
        | grep -E '/debian/?$' | grep -v security | head -n 1)
    echo "${uri%/}"
}

swift_chroot_mirror() {
    local mirror="${MOBILESTYLE_DEBIAN_MIRROR:-}"
    [ -n "$mirror" ] || mirror=$(swift_chroot_host_mirror)
    echo "${mirror:-http://deb.debian.org/debian}"
}

swift_chroot_ready() {
    # /usr/bin/swift is an absolute symlink, only valid inside the chroot: test the link itself.
    [ -f "$(swift_chroot_dir)/$SWIFT_CHROOT_MARKER" ] && [ -L "$(swift_chroot_dir)/usr/bin/swift" ]
}

# Runs a shell command inside the chroot, in a private mount namespace so /proc never shows up on
# the host. Extra "-b HOST:GUEST" pairs before the command are bind-mounted (also private).
swift_chroot_run() {
    local dir binds=()
    dir=$(swift_chroot_dir)
    while [ "${1:-}" = "-b" ]; do
        binds+=("$2")
        shift 2
    done
    local script='set -e
mount --make-rprivate /
mount -t proc proc "$CHROOT/proc"
for pair in $BINDS; do
    host=${pair%%:*}; guest=${pair#*:}
    mkdir -p "$CHROOT$guest"
    mount --bind "$host" "$CHROOT$guest"
done
exec chroot "$CHROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 /bin/sh -c "$CMD"'
    CHROOT="$dir" BINDS="${binds[*]:-}" CMD="$1" unshare -m /bin/sh -c "$script"
}

swift_chroot_ensure() {
    local dir partial mirror start
    dir=$(swift_chroot_dir)
    if swift_chroot_ready; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || { swift_chroot_fail "creating the Swift chroot at $dir needs root"; return 1; }
    command -v unshare >/dev/null || { swift_chroot_fail "unshare (util-linux) is missing"; return 1; }
    if ! command -v debootstrap >/dev/null; then
        echo "ci_swift: installing debootstrap on the host"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null \
            || { swift_chroot_fail "cannot install debootstrap with apt-get"; return 1; }
    fi
    mirror=$(swift_chroot_mirror)
    partial="$dir.partial"
    start=$(date +%s)
    echo "ci_swift: creating the Swift chroot ($SWIFT_CHROOT_SUITE from $mirror) at $dir; this takes several minutes once"
    rm -rf "$partial"
    mkdir -p "$(dirname "$dir")"
    debootstrap --variant=minbase "$SWIFT_CHROOT_SUITE" "$partial" "$mirror" >"$partial.log" 2>&1 \
        || { tail -n 20 "$partial.log" >&2; swift_chroot_fail "debootstrap $SWIFT_CHROOT_SUITE failed (log: $partial.log)"; return 1; }
    MOBILESTYLE_SWIFT_CHROOT="$partial" swift_chroot_run \
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $SWIFT_CHROOT_PACKAGES && apt-get clean" \
        >>"$partial.log" 2>&1 \
        || { tail -n 20 "$partial.log" >&2; swift_chroot_fail "apt-get install $SWIFT_CHROOT_PACKAGES in the chroot failed (log: $partial.log)"; return 1; }
    [ -L "$partial/usr/bin/swift" ] || [ -f "$partial/usr/bin/swift" ] || { swift_chroot_fail "swiftlang installed no /usr/bin/swift"; return 1; }
    MOBILESTYLE_SWIFT_CHROOT="$partial" swift_chroot_run "swift --version" >>"$partial.log" 2>&1 \
        || { tail -n 20 "$partial.log" >&2; swift_chroot_fail "swift --version fails in the new chroot"; return 1; }
    date -u +%Y-%m-%dT%H:%M:%SZ >"$partial/$SWIFT_CHROOT_MARKER"
    rm -rf "$dir"
    mv "$partial" "$dir"
    mv "$partial.log" "$dir.log"
    echo "ci_swift: Swift chroot ready in $(( $(date +%s) - start )) s"
}
